package dev.hedge.converter.quantize;

import dev.hedge.kernels.ref.quant.QuantizeLinearKernel;
import dev.hedge.runtime.DType;
import dev.hedge.runtime.Tensor;
import java.util.function.IntUnaryOperator;

/**
 * Weight quantizers. Quantization itself always goes through {@link QuantizeLinearKernel#quantize}, the
 * runtime's own QuantizeLinear formula, so stored integers are exactly what a QuantizeLinear node would give.
 */
public final class WeightQuant {

    private WeightQuant() {
    }

    /** Integer weights with one scale per slice of an axis (or one for the tensor) or per block. */
    public record Quantized(Tensor values, float[] scales, int[] scaleShape) {
    }

    /** [outer, dim, inner] around {@code axis} of {@code shape}. */
    static int[] split(int[] shape, int axis) {
        int outer = 1;
        int inner = 1;
        for (int i = 0; i < axis; i++) {
            outer *= shape[i];
        }
        for (int i = axis + 1; i < shape.length; i++) {
            inner *= shape[i];
        }
        return new int[] {outer, shape[axis], inner};
    }

    /** Clipping factors tried for int8 scales: 1, 0.99, ... 0.80. */
    private static final int CLIP_STEPS = 21;
    private static final float CLIP_STEP = 0.01f;

    /**
     * INT8 symmetric (zero point 0, values in [-127, 127]): one scale per slice of {@code axis}, or for the
     * whole tensor when {@code axis < 0}: {@code f * max|w| / 127} with the clipping factor f in [0.8, 1] that
     * minimises the squared error of the slice (the first, i.e. the largest, among equals). An all-zero slice
     * gets scale 1.
     */
    public static Quantized int8Symmetric(Tensor w, int axis) {
        float[] v = w.toFloatArray();
        int[] shape = w.shape();
        int[] s = axis < 0 ? new int[] {1, v.length, 1} : split(shape, axis);
        int channels = axis < 0 ? 1 : s[1];
        float[] absMax = new float[channels];
        for (int e = 0; e < v.length; e++) {
            int c = axis < 0 ? 0 : (e / s[2]) % s[1];
            absMax[c] = Math.max(absMax[c], Math.abs(v[e]));
        }
        float[] scales = new float[channels];
        for (int c = 0; c < channels; c++) {
            scales[c] = absMax[c] > 0 ? absMax[c] / 127f : 1f;
        }
        // clipping the largest weights a little often lowers the error of all the others
        double[][] err = new double[CLIP_STEPS][channels];
        for (int e = 0; e < v.length; e++) {
            int c = axis < 0 ? 0 : (e / s[2]) % s[1];
            for (int k = 0; k < CLIP_STEPS; k++) {
                float sc = scales[c] * (1f - CLIP_STEP * k);
                double d = QuantizeLinearKernel.quantize(v[e], sc, 0, -127f, 127f) * sc - v[e];
                err[k][c] += d * d;
            }
        }
        for (int c = 0; c < channels; c++) {
            int best = 0;
            for (int k = 1; k < CLIP_STEPS; k++) {
                if (err[k][c] < err[best][c]) {
                    best = k;
                }
            }
            scales[c] *= 1f - CLIP_STEP * best;
        }
        Tensor q = Tensor.allocate(DType.INT8, shape);
        for (int e = 0; e < v.length; e++) {
            int c = axis < 0 ? 0 : (e / s[2]) % s[1];
            q.data().put(e, (byte) QuantizeLinearKernel.quantize(v[e], scales[c], 0, -127f, 127f));
        }
        return new Quantized(q, scales, axis < 0 ? new int[0] : new int[] {channels});
    }

    /**
     * INT4 symmetric with one scale per block of {@code block} consecutive elements along {@code axis} (ONNX
     * blocked quantization). Each block's scale is searched among {@code max|w| * f / 7} for f from 1 down to
     * 0.5, keeping the one with the least squared error (clipping a few outliers often pays).
     */
    public static Quantized int4Blocked(Tensor w, int axis, int block) {
        float[] v = w.toFloatArray();
        int[] shape = w.shape();
        int[] s = split(shape, axis);
        int outer = s[0];
        int dim = s[1];
        int inner = s[2];
        int blocks = (dim + block - 1) / block;
        int[] scaleShape = shape.clone();
        scaleShape[axis] = blocks;
        float[] scales = new float[outer * blocks * inner];
        Tensor q = Tensor.allocate(DType.INT4, shape);
        for (int o = 0; o < outer; o++) {
            for (int b = 0; b < blocks; b++) {
                for (int i = 0; i < inner; i++) {
                    int d0 = b * block;
                    int d1 = Math.min(dim, d0 + block);
                    float max = 0;
                    for (int d = d0; d < d1; d++) {
                        max = Math.max(max, Math.abs(v[(o * dim + d) * inner + i]));
                    }
                    float best = max > 0 ? max / 7f : 1f;
                    if (max > 0) {
                        double bestErr = Double.POSITIVE_INFINITY;
                        for (int k = 0; k <= 20; k++) {
                            float sc = max * (1f - 0.025f * k) / 7f;
                            double err = 0;
                            for (int d = d0; d < d1; d++) {
                                float x = v[(o * dim + d) * inner + i];
                                int qv = QuantizeLinearKernel.quantize(x, sc, 0, -8f, 7f);
                                double diff = qv * sc - x;
                                err += diff * diff;
                            }
                            if (err < bestErr) {
                                bestErr = err;
                                best = sc;
                            }
                        }
                    }
                    scales[(o * blocks + b) * inner + i] = best;
                    for (int d = d0; d < d1; d++) {
                        int e = (o * dim + d) * inner + i;
                        q.setLong(e, QuantizeLinearKernel.quantize(v[e], best, 0, -8f, 7f));
                    }
                }
            }
        }
        return new Quantized(q, scales, scaleShape);
    }

    /** Index of the scale of flat element {@code e}: per slice of {@code axis} (axis < 0: one scale). */
    static int channelOf(int[] shape, int axis, int e) {
        if (axis < 0) {
            return 0;
        }
        int[] s = split(shape, axis);
        return (e / s[2]) % s[1];
    }

    /** Index of the scale of flat element {@code e} in blocks of {@code block} along {@code axis}. */
    static int blockOf(int[] shape, int axis, int block, int e) {
        int[] s = split(shape, axis);
        int blocks = (s[1] + block - 1) / block;
        return ((e / (s[1] * s[2])) * blocks + ((e / s[2]) % s[1]) / block) * s[2] + e % s[2];
    }

    /** Integer weights for values already on the grid of {@code scales} (one per slice of axis, or one). */
    static Quantized withScales(Tensor grid, DType type, float[] scales, int[] scaleShape, IntUnaryOperator scaleOf) {
        float[] v = grid.toFloatArray();
        Tensor q = Tensor.allocate(type, grid.shape());
        float lo = type == DType.INT4 ? -8f : -127f;
        float hi = type == DType.INT4 ? 7f : 127f;
        for (int e = 0; e < v.length; e++) {
            q.setLong(e, QuantizeLinearKernel.quantize(v[e], scales[scaleOf.applyAsInt(e)], 0, lo, hi));
        }
        return new Quantized(q, scales, scaleShape);
    }

    /** The int32 bias of a quantized layer: {@code rint(b[c] / (xScale * wScale[c]))}, saturated. */
    public static Tensor int32Bias(float[] bias, float xScale, float[] wScales) {
        Tensor t = Tensor.allocate(DType.INT32, bias.length);
        for (int c = 0; c < bias.length; c++) {
            float s = xScale * wScales[wScales.length == 1 ? 0 : c];
            double q = Math.rint(bias[c] / s);
            t.data().putInt(c * 4, (int) Math.max(Integer.MIN_VALUE, Math.min(Integer.MAX_VALUE, q)));
        }
        return t;
    }

    /** The tensor converted to FLOAT16 (round to nearest even). */
    public static Tensor fp16(Tensor w) {
        Tensor h = Tensor.allocate(DType.FLOAT16, w.shape());
        float[] v = w.toFloatArray();
        for (int i = 0; i < v.length; i++) {
            h.setFloat(i, v[i]);
        }
        return h;
    }

    /**
     * The weights as the layer will compute with them at precision {@code p}: quantized and dequantized with the
     * same quantizer (and axes) the quantization pass uses, so that reconstruction fits the bias to them.
     */
    public static Tensor roundTrip(dev.hedge.ir.Node layer, Tensor w, LayerPrecision p, QuantOptions o) {
        switch (p.kind()) {
            case FP32:
                return w;
            case FP16:
                return dequantize(fp16(w));
            case INT4: {
                int axis = Layers.reductionAxis(layer, 0, w.rank());
                Quantized q = int4Blocked(w, axis, Math.min(o.int4Group(), w.dim(axis)));
                return dequantize(q, axis, Math.min(o.int4Group(), w.dim(axis)));
            }
            case CODEBOOK:
                return dequantize(ModelQuantizer.codebook(w, p.bits(), o.seed() ^ layer.input(1).hashCode()));
            default: {
                int axis = o.perTensor() ? -1 : Layers.outputAxis(layer, 0, w.rank());
                return dequantize(int8Symmetric(w, axis), axis, 0);
            }
        }
    }

    /** A FLOAT16 or encoded tensor as dense FLOAT32. */
    private static Tensor dequantize(Tensor t) {
        Tensor d = dev.hedge.format.Decoding.densify(t);
        return Tensor.of(d.toFloatArray(), d.shape());
    }

    /** {@code scale * q} per element, the scale per slice of {@code axis} or per block along it. */
    static Tensor dequantize(Quantized q, int axis, int block) {
        Tensor v = q.values();
        int[] shape = v.shape();
        float[] out = new float[v.elementCount()];
        if (q.scales().length == 1) {
            for (int e = 0; e < out.length; e++) {
                out[e] = v.getLong(e) * q.scales()[0];
            }
            return Tensor.of(out, shape);
        }
        int[] s = split(shape, axis);
        int blocks = block == 0 ? 0 : (s[1] + block - 1) / block;
        for (int e = 0; e < out.length; e++) {
            int d = (e / s[2]) % s[1];
            int si = block == 0 ? d : ((e / (s[1] * s[2])) * blocks + d / block) * s[2] + e % s[2];
            out[e] = v.getLong(e) * q.scales()[si];
        }
        return Tensor.of(out, shape);
    }
}
