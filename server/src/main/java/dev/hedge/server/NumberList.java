package dev.hedge.server;

import java.math.BigInteger;
import java.util.Arrays;

/**
 * The scalars of a JSON {@code data} array, kept unboxed until the tensor's datatype is known (the protocol
 * does not order the fields of an input). Each value is a long (integers, booleans) or a double's bits.
 */
final class NumberList {

    static final byte INT = 0;
    static final byte FLOAT = 1;
    static final byte BOOL = 2;
    /** An integer above Long.MAX_VALUE and at most 2^64-1, stored as its unsigned bits (UINT64 only). */
    static final byte BIG = 3;

    private long[] values = new long[16];
    private byte[] kinds = new byte[16];
    private int size;

    private void grow() {
        if (size == values.length) {
            values = Arrays.copyOf(values, size * 2);
            kinds = Arrays.copyOf(kinds, size * 2);
        }
    }

    void addLong(long v) {
        grow();
        values[size] = v;
        kinds[size++] = INT;
    }

    void addDouble(double v) {
        grow();
        values[size] = Double.doubleToRawLongBits(v);
        kinds[size++] = FLOAT;
    }

    void addBoolean(boolean v) {
        grow();
        values[size] = v ? 1 : 0;
        kinds[size++] = BOOL;
    }

    /** Returns false when {@code v} is outside the unsigned 64-bit range. */
    boolean addBig(BigInteger v) {
        if (v.signum() < 0 || v.bitLength() > 64) {
            return false;
        }
        grow();
        values[size] = v.longValue();
        kinds[size++] = BIG;
        return true;
    }

    int size() {
        return size;
    }

    byte kind(int i) {
        return kinds[i];
    }

    long longAt(int i) {
        return values[i];
    }

    double doubleAt(int i) {
        return kinds[i] == FLOAT ? Double.longBitsToDouble(values[i])
                : kinds[i] == BIG ? unsignedToDouble(values[i]) : values[i];
    }

    private static double unsignedToDouble(long v) {
        return v >= 0 ? v : (double) (v >>> 1) * 2.0 + (v & 1);
    }
}
