package dev.hedge.kernels.ref.linalg;

import dev.hedge.ir.Node;
import dev.hedge.kernels.PrepareContext;
import dev.hedge.runtime.DType;
import dev.hedge.runtime.Half;
import dev.hedge.runtime.Tensor;
import dev.hedge.runtime.UnsupportedModelException;
import java.nio.ByteBuffer;
import java.util.Arrays;

/**
 * Float element access for the linear-algebra kernels, which compute in float32: float32 tensors are used
 * as they are, float16, bfloat16 and float64 ones are converted on the way in and out.
 */
final class FloatData {

    private FloatData() {
    }

    static boolean isFloat(DType t) {
        return t == DType.FLOAT32 || t == DType.FLOAT16 || t == DType.BFLOAT16 || t == DType.FLOAT64;
    }

    /** Throws {@link UnsupportedModelException} unless {@code t} is a float type these kernels compute in. */
    static void require(Node node, String what, DType t) {
        if (!isFloat(t)) {
            throw new UnsupportedModelException(node.describe() + ": " + what + " has type " + t
                    + "; supported: FLOAT32, FLOAT16, BFLOAT16, FLOAT64");
        }
    }

    /**
     * The input checks Conv and ConvTranspose share: X a float type, weights and bias of X's type, X of rank
     * 3 to 5 (N, C, spatial...) and weights of X's rank.
     */
    static void requireConvInputs(Node node, PrepareContext ctx) {
        DType dtype = ctx.inputType(0);
        require(node, "input X", dtype);
        if (ctx.inputType(1) != dtype) {
            throw new IllegalArgumentException("weights are " + ctx.inputType(1) + ", input is " + dtype);
        }
        if (ctx.hasInput(2) && ctx.inputType(2) != dtype) {
            throw new IllegalArgumentException("bias is " + ctx.inputType(2) + ", input is " + dtype);
        }
        int[] xs = ctx.inputShape(0);
        int[] ws = ctx.inputShape(1);
        if (xs.length < 3) {
            throw new IllegalArgumentException("input shape " + Arrays.toString(xs)
                    + " needs rank 3 to 5 (N, C, spatial...)");
        }
        if (ws.length != xs.length) {
            throw new IllegalArgumentException("weight shape " + Arrays.toString(ws)
                    + " has not the rank of input shape " + Arrays.toString(xs));
        }
    }

    /** Copies {@code len} elements of {@code t} from element {@code off} into {@code dst}, as floats. */
    static void read(Tensor t, int off, float[] dst, int dstOff, int len) {
        ByteBuffer b = t.data();
        switch (t.dtype()) {
            case FLOAT32:
                t.floats().get(off, dst, dstOff, len);
                break;
            case FLOAT16:
                for (int i = 0; i < len; i++) {
                    dst[dstOff + i] = Half.toFloat(b.getShort((off + i) * 2));
                }
                break;
            case BFLOAT16:
                for (int i = 0; i < len; i++) {
                    dst[dstOff + i] = Half.bf16ToFloat(b.getShort((off + i) * 2));
                }
                break;
            case FLOAT64:
                for (int i = 0; i < len; i++) {
                    dst[dstOff + i] = (float) b.getDouble((off + i) * 8);
                }
                break;
            default:
                throw new IllegalStateException("not a float tensor: " + t);
        }
    }

    /** Writes {@code len} floats of {@code src} into {@code t} from element {@code off}, converting. */
    static void write(float[] src, int srcOff, Tensor t, int off, int len) {
        ByteBuffer b = t.data();
        switch (t.dtype()) {
            case FLOAT32:
                t.floats().put(off, src, srcOff, len);
                break;
            case FLOAT16:
                for (int i = 0; i < len; i++) {
                    b.putShort((off + i) * 2, Half.fromFloat(src[srcOff + i]));
                }
                break;
            case BFLOAT16:
                for (int i = 0; i < len; i++) {
                    b.putShort((off + i) * 2, Half.floatToBf16(src[srcOff + i]));
                }
                break;
            case FLOAT64:
                for (int i = 0; i < len; i++) {
                    b.putDouble((off + i) * 8, src[srcOff + i]);
                }
                break;
            default:
                throw new IllegalStateException("not a float tensor: " + t);
        }
    }

    /** All of {@code t} as a new float array (prepare time only). */
    static float[] toArray(Tensor t) {
        float[] a = new float[t.elementCount()];
        read(t, 0, a, 0, a.length);
        return a;
    }
}
