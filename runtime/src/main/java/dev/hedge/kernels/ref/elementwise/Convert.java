package dev.hedge.kernels.ref.elementwise;

/** Scalar conversions with exactly one rounding, shared by Cast and the stores. */
final class Convert {

    private static final double TWO_63 = 0x1p63;

    private Convert() {
    }

    /** Nearest (ties to even) binary16 of {@code d}, rounded once (no detour through float). */
    static short toHalf(double d) {
        return (short) roundBinary(d, 5, 10);
    }

    /** Nearest (ties to even) bfloat16 of {@code d}, rounded once. */
    static short toBf16(double d) {
        return (short) roundBinary(d, 8, 7);
    }

    /**
     * Bits of the value nearest to {@code d} in a binary format with {@code eBits} exponent and
     * {@code mBits} stored mantissa bits (IEEE layout: sign, biased exponent, mantissa; subnormals;
     * overflow to infinity). NaN becomes the quiet NaN of that sign.
     */
    static int roundBinary(double d, int eBits, int mBits) {
        int sign = (int) (Double.doubleToRawLongBits(d) >>> 63) << (eBits + mBits);
        int expMask = ((1 << eBits) - 1) << mBits;
        if (Double.isNaN(d)) {
            return sign | expMask | (1 << (mBits - 1));
        }
        double a = Math.abs(d);
        if (Double.isInfinite(a)) {
            return sign | expMask;
        }
        int bias = (1 << (eBits - 1)) - 1;
        // below the smallest normal exponent the grid spacing stays that of the subnormals
        int e = Math.max(Math.getExponent(a), 1 - bias);
        double m = Math.rint(Math.scalb(a, mBits - e));
        if (m >= (1 << (mBits + 1))) {
            e++;
            m = 1 << mBits;
        }
        if (e > bias) {
            return sign | expMask;
        }
        // for normals this is (e+bias) << mBits | (m - 2^mBits); for subnormals (e = 1-bias, m < 2^mBits) just m
        return sign | (((e + bias - 1) << mBits) + (int) m);
    }

    /**
     * A finite double truncated toward zero and reduced modulo 2^64, so storing the low bits into a
     * narrower integer wraps like the ONNX int4 Cast tests expect (8.0 to INT4 gives -8).
     */
    static long truncWrap(double v) {
        if (Math.abs(v) < TWO_63) {
            return (long) v;
        }
        // |v| >= 2^63 is an integer: its mantissa shifted left, with bits beyond 2^64 falling off
        int shift = Math.getExponent(v) - 52;
        long mant = (Double.doubleToRawLongBits(v) & ((1L << 52) - 1)) | (1L << 52);
        long r = shift >= 64 ? 0 : mant << shift;
        return v < 0 ? -r : r;
    }

    /** UINT64 bits as double, rounded once. */
    static double unsignedToDouble(long v) {
        if (v >= 0) {
            return v;
        }
        // halve keeping the lowest bit as a sticky bit, so the single rounding of the halved value is right
        return ((v >>> 1) | (v & 1)) * 2.0;
    }

    /** UINT64 bits as float, rounded once. */
    static float unsignedToFloat(long v) {
        if (v >= 0) {
            return v;
        }
        return ((v >>> 1) | (v & 1)) * 2.0f;
    }
}
