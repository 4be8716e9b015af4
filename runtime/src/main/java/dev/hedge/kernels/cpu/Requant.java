package dev.hedge.kernels.cpu;

import dev.hedge.ir.Node;
import dev.hedge.kernels.PrepareContext;
import dev.hedge.kernels.util.FusedActivation;
import dev.hedge.runtime.DType;
import dev.hedge.runtime.QuantParams;
import dev.hedge.runtime.UnsupportedModelException;
import java.nio.ByteBuffer;

/**
 * Requantization parameters of a quantized node, in the layout the native kernels read (hk_requant.h):
 * int32 header {@code [channels, y_zero_point, lo, hi, out_type]} in 64 bytes, float {@code mult[channels]}
 * from byte 64, int32 {@code bias[channels]} from the next 64-byte boundary.
 *
 * <p>The semantics (fixed for every Hedge backend) follow ONNX Runtime's float requantization:
 * {@code m = x_scale * w_scale[c] / y_scale} in float32, in that order; {@code v = (float) acc * m};
 * {@code q = clamp(rint(v) + y_zero_point, lo, hi)} with ties to even and exact (non-wrapping) saturation.
 * {@code [lo, hi]} is the output type's range narrowed by a fused Relu or Clip ({@link #clampRange}).
 */
final class Requant {

    static final int HEADER = 64;

    private Requant() {
    }

    /** How a quantized node's int32 accumulators become its output: type, zero point, clamp range, multipliers. */
    record Output(DType type, int zeroPoint, int lo, int hi, float[] mult) {

        /** The int32 accumulators themselves (ConvInteger, MatMulInteger). */
        static Output int32(int channels) {
            return new Output(DType.INT32, 0, 0, 0, new float[channels]);
        }
    }

    /**
     * The output of a QLinearConv / QLinearMatMul (y_scale at input 6, y_zero_point at input 7), with the node's
     * fused activation as the clamp range; records the output's quantization in {@code ctx}.
     */
    static Output qlinearOutput(PrepareContext ctx, Node node, float inScale, float[] wScale, int channels) {
        float yScale = QuantInputs.scales(ctx, 6, "y_scale", 0)[0];
        DType type = ctx.inputType(7);
        if (!QuantInputs.isByteType(type)) {
            throw new UnsupportedModelException(node.describe() + ": y_zero_point is " + type);
        }
        int yzp = QuantInputs.zeroPoints(ctx, 7, "y_zero_point", type, 0)[0];
        int[] range = clampRange(type, yzp, yScale, FusedActivation.of(node));
        if (range == null) {
            throw new UnsupportedModelException(node.describe() + ": fused activation cannot be applied natively");
        }
        float[] mult = new float[channels];
        for (int c = 0; c < channels; c++) {
            mult[c] = multiplier(inScale, wScale[c], yScale);
        }
        ctx.setOutputQuant(0, QuantParams.perTensor(yScale, yzp));
        return new Output(type, yzp, range[0], range[1], mult);
    }

    /** {@code x_scale * w_scale / y_scale} in float32, in the order ONNX Runtime uses. */
    static float multiplier(float xScale, float wScale, float yScale) {
        return xScale * wScale / yScale;
    }

    static long bytes(long channels) {
        return HEADER + 2 * Native.align64(4 * channels);
    }


    /** Output-type code for a quantized output dtype. */
    static int outType(DType t) {
        switch (t) {
            case UINT8: return Native.OUT_U8;
            case INT8: return Native.OUT_S8;
            case INT32: return Native.OUT_S32;
            default: throw new IllegalArgumentException("no quantized output of type " + t);
        }
    }

    /**
     * The clamp range of a quantized output: its type's range, narrowed to [q(0), ...] by a fused Relu and to
     * [q(alpha), q(beta)] by a fused Clip, where q(v) = y_zero_point + rint(v / y_scale) (float32 division)
     * saturated to the type. Null for activations that are not a clamp (they cannot be fused into a
     * quantized output exactly).
     */
    static int[] clampRange(DType out, int yzp, float yScale, FusedActivation act) {
        int lo = out == DType.UINT8 ? 0 : -128;
        int hi = out == DType.UINT8 ? 255 : 127;
        switch (act.kind()) {
            case NONE:
                return new int[] {lo, hi};
            case RELU:
                return new int[] {Math.max(lo, yzp), hi};
            case CLIP:
                return new int[] {quantizeBound(act.alpha(), yzp, yScale, lo, hi),
                        quantizeBound(act.beta(), yzp, yScale, lo, hi)};
            default:
                return null;
        }
    }

    private static int quantizeBound(float v, int yzp, float yScale, int lo, int hi) {
        if (Float.isNaN(v)) {
            throw new IllegalArgumentException("fused Clip bound is NaN");
        }
        double q = yzp + Math.rint(v / yScale);
        return (int) Math.max(lo, Math.min(hi, q));
    }

    /** Whether the fused activation can be folded into the clamp range of a quantized output. */
    static boolean fusable(FusedActivation act) {
        switch (act.kind()) {
            case NONE: case RELU: case CLIP: return true;
            default: return false;
        }
    }

    static ByteBuffer build(float[] mult, int[] bias, int yzp, int lo, int hi, int outType) {
        int n = mult.length;
        if (bias.length != n) {
            throw new IllegalArgumentException(n + " multipliers but " + bias.length + " biases");
        }
        for (float m : mult) {
            if (!Float.isFinite(m)) {
                throw new IllegalArgumentException("requantization multiplier " + m
                        + " is not finite (check x_scale * w_scale / y_scale)");
            }
        }
        ByteBuffer b = Native.allocate(bytes(n));
        b.putInt(0, n).putInt(4, yzp).putInt(8, lo).putInt(12, hi).putInt(16, outType);
        for (int c = 0; c < n; c++) {
            b.putFloat(HEADER + 4 * c, mult[c]);
            b.putInt((int) (HEADER + Native.align64(4L * n)) + 4 * c, bias[c]);
        }
        return b;
    }

    /**
     * Checks a parameter block for {@code channels} channels at {@code off}; returns the output element size.
     */
    static int check(ByteBuffer q, long off, long channels) {
        Native.region("requantization parameters", q, off, HEADER);
        int n = q.getInt((int) off);
        int type = q.getInt((int) off + 16);
        if (n < channels) {
            throw new IllegalArgumentException("requantization has " + n + " channels, " + channels + " needed");
        }
        if (type < Native.OUT_U8 || type > Native.OUT_S32) {
            throw new IllegalArgumentException("bad requantization output type " + type);
        }
        Native.region("requantization parameters", q, off, bytes(n));
        return type == Native.OUT_S32 ? 4 : 1;
    }
}
