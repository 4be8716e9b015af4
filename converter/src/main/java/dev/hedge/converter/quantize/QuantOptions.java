package dev.hedge.converter.quantize;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Quantization settings.
 *
 * @param precision the default for every layer (fp32: no quantization)
 * @param perTensor one int8 weight scale per tensor instead of per output channel
 * @param method activation calibration method (static int8)
 * @param percentile for {@link CalibrationMethod#PERCENTILE}, e.g. 99.99
 * @param int4Group block size along the reduction axis for int4 weights
 * @param layers per-layer precision overrides by layer (node) name; {@code *} matches any run of characters
 * @param seed seeds k-means (codebooks)
 * @param smooth for static int8, migrate activation ranges between linear layers ({@link Smoothing})
 * @param floatOutputs a static int8 layer whose output no int8 layer reads scales its int32 accumulators back to
 *     float (ConvInteger / MatMulInteger) instead of requantizing them (QLinearConv / QLinearMatMul); off for
 *     targets that run full-integer graphs only
 * @param int8Ops for static int8, which ops run on uint8: the layers alone, or also the ops between them (residual
 *     Add / Mul, pooling, Flatten / Reshape...) where their inputs are uint8 and an int8 reader takes the result
 */
public record QuantOptions(LayerPrecision precision, boolean perTensor, CalibrationMethod method, double percentile,
        int int4Group, Map<String, LayerPrecision> layers, long seed, boolean smooth, boolean floatOutputs,
        Int8Ops int8Ops) {

    /** Which ops of a static int8 model run on uint8 ({@code --int8-ops}). */
    public enum Int8Ops {
        /** Conv / MatMul / Gemm only: everything between them runs in float. */
        LAYERS,
        /** Also Add, Mul, pooling and shape ops between int8 layers. */
        ALL;

        public static Int8Ops parse(String s) {
            for (Int8Ops v : values()) {
                if (v.label().equals(s)) {
                    return v;
                }
            }
            throw new IllegalArgumentException("int8 ops '" + s + "' is not one of layers, all");
        }

        public String label() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    public QuantOptions {
        layers = Map.copyOf(new LinkedHashMap<>(layers));
        if (int4Group < 1) {
            throw new IllegalArgumentException("int4 group size must be >= 1, got " + int4Group);
        }
        if (method == CalibrationMethod.PERCENTILE && !(percentile > 50 && percentile <= 100)) {
            throw new IllegalArgumentException("percentile " + percentile + " is not in (50, 100]");
        }
    }

    public static QuantOptions of(LayerPrecision precision) {
        return new QuantOptions(precision, false, CalibrationMethod.MINMAX, 99.99, 32, Map.of(), 0, true, true,
                Int8Ops.ALL);
    }

    public QuantOptions withMethod(CalibrationMethod m, double p) {
        return new QuantOptions(precision, perTensor, m, p, int4Group, layers, seed, smooth, floatOutputs,
                int8Ops);
    }

    public QuantOptions withPerTensor(boolean v) {
        return new QuantOptions(precision, v, method, percentile, int4Group, layers, seed, smooth, floatOutputs,
                int8Ops);
    }

    public QuantOptions withLayers(Map<String, LayerPrecision> l) {
        return new QuantOptions(precision, perTensor, method, percentile, int4Group, l, seed, smooth, floatOutputs,
                int8Ops);
    }

    public QuantOptions withInt4Group(int g) {
        return new QuantOptions(precision, perTensor, method, percentile, g, layers, seed, smooth, floatOutputs,
                int8Ops);
    }

    public QuantOptions withSmoothing(boolean on) {
        return new QuantOptions(precision, perTensor, method, percentile, int4Group, layers, seed, on, floatOutputs, int8Ops);
    }

    public QuantOptions withFloatOutputs(boolean on) {
        return new QuantOptions(precision, perTensor, method, percentile, int4Group, layers, seed, smooth, on, int8Ops);
    }

    public QuantOptions withInt8Ops(Int8Ops o) {
        return new QuantOptions(precision, perTensor, method, percentile, int4Group, layers, seed, smooth, floatOutputs,
                o);
    }

    public QuantOptions withSeed(long s) {
        return new QuantOptions(precision, perTensor, method, percentile, int4Group, layers, s, smooth, floatOutputs,
                int8Ops);
    }

    /**
     * The precision asked for a layer: an exact override, else the most specific (longest) matching pattern
     * with {@code *} wildcards, else the default.
     */
    public LayerPrecision precisionOf(String layer) {
        LayerPrecision exact = layers.get(layer);
        if (exact != null) {
            return exact;
        }
        String best = null;
        for (String k : layers.keySet()) {
            if (k.contains("*") && glob(k, layer) && (best == null || k.length() > best.length())) {
                best = k;
            }
        }
        return best != null ? layers.get(best) : precision;
    }

    /** Whether a per-layer override (exact or pattern) names this layer. */
    public boolean pinned(String layer) {
        return layers.containsKey(layer) || layers.keySet().stream().anyMatch(k -> k.contains("*") && glob(k, layer));
    }

    /** Whether {@code name} matches {@code pattern}, where {@code *} stands for any run of characters. */
    static boolean glob(String pattern, String name) {
        String[] parts = pattern.split("\\*", -1);
        StringBuilder re = new StringBuilder();
        for (int i = 0; i < parts.length; i++) {
            re.append(i > 0 ? ".*" : "").append(java.util.regex.Pattern.quote(parts[i]));
        }
        return name.matches(re.toString());
    }
}
