package dev.hedge.kernels.ref.quant;

import dev.hedge.ir.Node;
import dev.hedge.runtime.DType;
import dev.hedge.runtime.Tensor;
import dev.hedge.runtime.UnsupportedModelException;
import java.nio.ByteBuffer;

/** Ranges and element access of the integer types the quantization ops use. */
final class QTypes {

    private QTypes() {
    }

    static long min(DType t) {
        switch (t) {
            case INT4: return -8;
            case INT8: return Byte.MIN_VALUE;
            case INT16: return Short.MIN_VALUE;
            case INT32: return Integer.MIN_VALUE;
            default: return 0;
        }
    }

    static long max(DType t) {
        switch (t) {
            case INT4: return 7;
            case UINT4: return 15;
            case INT8: return Byte.MAX_VALUE;
            case UINT8: return 255;
            case INT16: return Short.MAX_VALUE;
            case UINT16: return 65535;
            case INT32: return Integer.MAX_VALUE;
            default: throw new IllegalArgumentException(t + " is not a quantized type");
        }
    }

    /** 8-bit operands of the integer matmul/conv ops. */
    static void require8Bit(Node node, String what, DType t) {
        if (t != DType.INT8 && t != DType.UINT8) {
            throw new UnsupportedModelException(node.describe() + ": " + what + " is " + t
                    + "; INT8 or UINT8 expected");
        }
    }

    /** Float types a scale may have. */
    static void requireScale(Node node, String what, DType t) {
        if (t != DType.FLOAT32 && t != DType.FLOAT16 && t != DType.BFLOAT16) {
            throw new UnsupportedModelException(node.describe() + ": " + what + " is " + t
                    + "; FLOAT32, FLOAT16 or BFLOAT16 expected");
        }
    }

    /** Reads element {@code i} of an 8-bit tensor's buffer. */
    static int get8(ByteBuffer b, int i, boolean unsigned) {
        int v = b.get(i);
        return unsigned ? v & 0xff : v;
    }

    /** Element {@code i} of a scale tensor as float32. */
    static float scale(Tensor t, int i) {
        return t.dtype() == DType.FLOAT32 ? t.data().getFloat(i * 4) : t.getFloat(i);
    }

    /** Element {@code i} of a zero-point tensor, or 0 when it is absent. */
    static int zeroPoint(Tensor t, int i) {
        return t == null ? 0 : (int) t.getLong(i);
    }
}
