package dev.hedge.kernels.ref.tensor;

import dev.hedge.runtime.DType;
import dev.hedge.runtime.Half;
import java.nio.ByteBuffer;

/** Element loads and stores through double, for the arithmetic paths of otherwise data-movement kernels. */
final class Arith {

    private Arith() {
    }

    /** Element {@code i} as a double (integers up to 2^53 exactly). */
    static double load(DType t, ByteBuffer b, int i) {
        switch (t) {
            case FLOAT32: return b.getFloat(i * 4);
            case FLOAT64: return b.getDouble(i * 8);
            case FLOAT16: return Half.toFloat(b.getShort(i * 2));
            case BFLOAT16: return Half.bf16ToFloat(b.getShort(i * 2));
            case INT8: return b.get(i);
            case UINT8: case BOOL: return b.get(i) & 0xff;
            case INT16: return b.getShort(i * 2);
            case UINT16: return b.getShort(i * 2) & 0xffff;
            case INT32: return b.getInt(i * 4);
            case UINT32: return b.getInt(i * 4) & 0xffffffffL;
            case INT64: return b.getLong(i * 8);
            case UINT64: {
                long v = b.getLong(i * 8);
                return v >= 0 ? v : (double) (v >>> 1) * 2.0 + (v & 1);
            }
            default: throw new IllegalArgumentException("no arithmetic on " + t);
        }
    }

    /** Integer element {@code i}, exactly (sign- or zero-extended; UINT64 as its two's-complement bits). */
    static long loadLong(DType t, ByteBuffer b, int i) {
        long raw = Elems.read(b, i, t.bits());
        int sh = 64 - t.bits();
        return t.isSigned() ? (raw << sh) >> sh : raw;
    }

    /**
     * Stores {@code v} as type {@code t}: rounded to nearest for floats, truncated toward zero and saturated
     * to the type's range for integers.
     */
    static void store(DType t, ByteBuffer b, int i, double v) {
        switch (t) {
            case FLOAT32: b.putFloat(i * 4, (float) v); break;
            case FLOAT64: b.putDouble(i * 8, v); break;
            case FLOAT16: b.putShort(i * 2, Half.fromFloat((float) v)); break;
            case BFLOAT16: b.putShort(i * 2, Half.floatToBf16((float) v)); break;
            case INT8: b.put(i, (byte) sat(v, -128, 127)); break;
            case UINT8: b.put(i, (byte) sat(v, 0, 255)); break;
            case BOOL: b.put(i, (byte) (v != 0 ? 1 : 0)); break;
            case INT16: b.putShort(i * 2, (short) sat(v, Short.MIN_VALUE, Short.MAX_VALUE)); break;
            case UINT16: b.putShort(i * 2, (short) sat(v, 0, 65535)); break;
            case INT32: b.putInt(i * 4, (int) sat(v, Integer.MIN_VALUE, Integer.MAX_VALUE)); break;
            case UINT32: b.putInt(i * 4, (int) sat(v, 0, 4294967295L)); break;
            case INT64: b.putLong(i * 8, (long) v); break;
            case UINT64: b.putLong(i * 8, v <= 0 ? 0 : v >= 0x1p63 ? (long) (v - 0x1p63) ^ Long.MIN_VALUE : (long) v); break;
            default: throw new IllegalArgumentException("no arithmetic on " + t);
        }
    }

    private static long sat(double v, long lo, long hi) {
        if (Double.isNaN(v)) {
            return 0;
        }
        long x = (long) v;
        return Math.max(lo, Math.min(hi, x));
    }
}
