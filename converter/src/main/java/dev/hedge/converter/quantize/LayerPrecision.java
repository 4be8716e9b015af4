package dev.hedge.converter.quantize;

import java.util.Locale;

/**
 * How one layer is stored and computed.
 * <ul>
 *   <li>{@code fp32}: unchanged; {@code fp16}: FLOAT16 weights + Cast (float compute);
 *   <li>{@code int8}: static int8 (QLinearConv / QLinearMatMul, calibrated activations), falling back to
 *       {@code int8-weight} where the layer cannot run in int8;
 *   <li>{@code int8-dynamic}: DynamicQuantizeLinear + MatMulInteger / ConvInteger (no calibration);
 *   <li>{@code int8-weight}: INT8 weights + DequantizeLinear folded at load (float compute);
 *   <li>{@code int4}: INT4 group-wise weights + blocked DequantizeLinear (float compute);
 *   <li>{@code codebook} (2 to 8 bits): k-means palette + bit-packed indices (float compute).
 * </ul>
 */
public record LayerPrecision(Kind kind, int bits) {

    public enum Kind { FP32, FP16, INT8, INT8_DYNAMIC, INT8_WEIGHT, INT4, CODEBOOK }

    public static final LayerPrecision FP32 = new LayerPrecision(Kind.FP32, 32);
    public static final LayerPrecision FP16 = new LayerPrecision(Kind.FP16, 16);
    public static final LayerPrecision INT8 = new LayerPrecision(Kind.INT8, 8);
    public static final LayerPrecision INT8_DYNAMIC = new LayerPrecision(Kind.INT8_DYNAMIC, 8);
    public static final LayerPrecision INT8_WEIGHT = new LayerPrecision(Kind.INT8_WEIGHT, 8);
    public static final LayerPrecision INT4 = new LayerPrecision(Kind.INT4, 4);

    public LayerPrecision {
        if (kind == Kind.CODEBOOK && (bits < 2 || bits > 8)) {
            throw new IllegalArgumentException("codebook bits must be 2..8, got " + bits);
        }
    }

    public static LayerPrecision codebook(int bits) {
        return new LayerPrecision(Kind.CODEBOOK, bits);
    }

    /**
     * Parses {@code fp32, fp16, int8, int8-dynamic, int8-weight, int4, codebook, codebookN, codebook:N};
     * a plain {@code codebook} takes {@code defaultCodebookBits}.
     */
    public static LayerPrecision parse(String s, int defaultCodebookBits) {
        String v = s.trim().toLowerCase(Locale.ROOT);
        switch (v) {
            case "fp32": case "float32": return FP32;
            case "fp16": case "float16": return FP16;
            case "int8": return INT8;
            case "int8-dynamic": case "dynamic": return INT8_DYNAMIC;
            case "int8-weight": return INT8_WEIGHT;
            case "int4": return INT4;
            case "codebook": return codebook(defaultCodebookBits);
            default:
        }
        if (v.startsWith("codebook")) {
            String n = v.substring("codebook".length());
            if (n.startsWith(":")) {
                n = n.substring(1);
            }
            try {
                return codebook(Integer.parseInt(n));
            } catch (NumberFormatException e) {
                // fall through to the error
            }
        }
        throw new IllegalArgumentException("unknown precision '" + s
                + "'; expected fp32, fp16, int8, int8-dynamic, int8-weight, int4 or codebook[:2..8]");
    }

    /**
     * The next step up for automatic mixed precision: codebook / int4 → int8 → int8 weights only (activations
     * back in float, the same file size) → fp16 → fp32; dynamic int8 goes to int8 weights only too; null at fp32.
     */
    public LayerPrecision raise() {
        switch (kind) {
            case CODEBOOK: case INT4: return INT8;
            case INT8: case INT8_DYNAMIC: return INT8_WEIGHT;
            case INT8_WEIGHT: return FP16;
            case FP16: return FP32;
            default: return null;
        }
    }

    /**
     * The step of the {@link #raise()} ladder: codebook / int4 0, int8 and int8-dynamic 1, int8-weight 2, fp16 3,
     * fp32 4.
     */
    public int step() {
        switch (kind) {
            case CODEBOOK: case INT4: return 0;
            case INT8: case INT8_DYNAMIC: return 1;
            case INT8_WEIGHT: return 2;
            case FP16: return 3;
            default: return 4;
        }
    }

    /** Whether weights keep full precision. */
    public boolean isFloat32() {
        return kind == Kind.FP32;
    }

    public String label() {
        switch (kind) {
            case CODEBOOK: return "codebook" + bits;
            case INT8_DYNAMIC: return "int8-dynamic";
            case INT8_WEIGHT: return "int8-weight";
            default: return kind.name().toLowerCase(Locale.ROOT);
        }
    }

    @Override
    public String toString() {
        return label();
    }
}
