package dev.hedge.kernels.ref.quant;

import dev.hedge.ir.Node;
import dev.hedge.kernels.util.FusedActivation;
import dev.hedge.runtime.DType;
import dev.hedge.runtime.UnsupportedModelException;

/**
 * Requantization of an int32 accumulator to the 8-bit output of QLinearConv / QLinearMatMul. This is the
 * definition native kernels must match bit for bit:
 * <pre>
 *   float m = x_scale * w_scale[c] / y_scale;      // float32, in that order
 *   float v = (float) acc * m;
 *   q = saturate(rint(v) + y_zero_point)            // round half to even, then clamp to [lo, hi]
 * </pre>
 * where [lo, hi] is the output type's range, narrowed by a fused activation: Relu gives
 * {@code lo = y_zero_point}; Clip(min, max) gives {@code lo = Q(min)}, {@code hi = Q(max)} with Q the
 * QuantizeLinear formula at the output's scale and zero point.
 */
public final class Requant {

    private Requant() {
    }

    /** The multiplier of output channel {@code c}. */
    public static float multiplier(float xScale, float wScale, float yScale) {
        return xScale * wScale / yScale;
    }

    public static int requantize(int acc, float m, int yZeroPoint, int lo, int hi) {
        float v = (float) acc * m;
        long q = (long) Math.rint(v) + yZeroPoint;
        return (int) Math.max(lo, Math.min(hi, q));
    }

    /** Throws unless the node's fused activation (if any) is a clamp: Relu or Clip. */
    public static FusedActivation activation(Node node) {
        FusedActivation act = FusedActivation.of(node);
        if (act.kind() != FusedActivation.Kind.NONE && act.kind() != FusedActivation.Kind.RELU
                && act.kind() != FusedActivation.Kind.CLIP) {
            throw new UnsupportedModelException(node.describe() + ": fused activation " + act
                    + " is not a clamp; only Relu and Clip can be fused into a quantized op");
        }
        return act;
    }

    /** Lower end of the output clamp for the output type and fused activation. */
    public static int lo(FusedActivation act, DType out, float yScale, int yZeroPoint) {
        int lo = (int) QTypes.min(out);
        int hi = (int) QTypes.max(out);
        switch (act.kind()) {
            case RELU: return Math.max(lo, yZeroPoint);
            case CLIP: return QuantizeLinearKernel.quantize(act.alpha(), yScale, yZeroPoint, lo, hi);
            default: return lo;
        }
    }

    /** Upper end of the output clamp. */
    public static int hi(FusedActivation act, DType out, float yScale, int yZeroPoint) {
        int lo = (int) QTypes.min(out);
        int hi = (int) QTypes.max(out);
        return act.kind() == FusedActivation.Kind.CLIP
                ? QuantizeLinearKernel.quantize(act.beta(), yScale, yZeroPoint, lo, hi) : hi;
    }
}
