package dev.hedge.kernels.ref.reduce;

import dev.hedge.runtime.DType;
import dev.hedge.runtime.Half;
import dev.hedge.runtime.Tensor;
import java.nio.ByteBuffer;

/**
 * Strided loads and stores between tensors of any dense numeric dtype and per-thread double / long rows,
 * so that the reduction and normalization kernels compute in one precision (double, or long for exact
 * integer arithmetic) whatever the element type. One dtype switch per call, not per element.
 */
public final class Rows {

    private static final ThreadLocal<long[][]> LONGS = ThreadLocal.withInitial(() -> new long[4][0]);
    private static final ThreadLocal<double[][]> DOUBLES = ThreadLocal.withInitial(() -> new double[1][0]);

    private Rows() {
    }

    /** A per-thread long array of at least {@code n} elements (slots 0 and 1; contents undefined). */
    public static long[] longs(int slot, int n) {
        if (slot < 0 || slot > 1) {
            throw new IllegalArgumentException("slot " + slot);
        }
        return longArray(slot, n);
    }

    private static long[] longArray(int slot, int n) {
        long[][] a = LONGS.get();
        if (a[slot].length < n) {
            a[slot] = new long[n];
        }
        return a[slot];
    }

    /** Rows' own temporaries, never handed out. */
    private static long[] tmpLongs(int n) {
        return longArray(2, n);
    }

    /** For {@link #loadKeyColumns}, whose inner {@link #loadKeys} may use {@link #tmpLongs}. */
    private static long[] tmpLongs2(int n) {
        return longArray(3, n);
    }

    private static double[] tmpDoubles(int n) {
        double[][] a = DOUBLES.get();
        if (a[0].length < n) {
            a[0] = new double[n];
        }
        return a[0];
    }

    /** Whether {@link #load} and {@link #store} handle this dtype. */
    public static boolean numeric(DType d) {
        return d != DType.INT4 && d != DType.UINT4;
    }

    /** {@code dst[k] = x[off + k * stride]} for k in [0, n), as double (unsigned types read unsigned). */
    public static void load(Tensor t, int off, int stride, int n, double[] dst) {
        ByteBuffer b = t.data();
        switch (t.dtype()) {
            case FLOAT32:
                for (int k = 0, i = off; k < n; k++, i += stride) {
                    dst[k] = b.getFloat(i << 2);
                }
                break;
            case FLOAT64:
                for (int k = 0, i = off; k < n; k++, i += stride) {
                    dst[k] = b.getDouble(i << 3);
                }
                break;
            case FLOAT16:
                for (int k = 0, i = off; k < n; k++, i += stride) {
                    dst[k] = Half.toFloat(b.getShort(i << 1));
                }
                break;
            case BFLOAT16:
                for (int k = 0, i = off; k < n; k++, i += stride) {
                    dst[k] = Half.bf16ToFloat(b.getShort(i << 1));
                }
                break;
            case UINT64:
                for (int k = 0, i = off; k < n; k++, i += stride) {
                    dst[k] = unsignedToDouble(b.getLong(i << 3));
                }
                break;
            default: {
                long[] tmp = tmpLongs(n);
                loadLong(t, off, stride, n, tmp);
                for (int k = 0; k < n; k++) {
                    dst[k] = tmp[k];
                }
            }
        }
    }

    /**
     * Number of adjacent slices to move at once with {@link #loadColumns}: about 4096 doubles per tile (stays
     * in L1/L2), and at least 8 slices so that each cache line read serves several slices, unless the
     * slices are so long that even that tile would be huge.
     */
    public static int tileWidth(int n, int inner) {
        if (n > (1 << 17)) {
            return 1;
        }
        return Math.min(inner, Math.max(8, 4096 / Math.max(1, n)));
    }

    /**
     * Loads {@code w} neighbouring strided slices, slice-major: {@code dst[c * n + k] = x[off + c + k * stride]}
     * for c in [0, w), k in [0, n). Each slice then is a contiguous row of {@code dst}.
     */
    public static void loadColumns(Tensor t, int off, int stride, int n, int w, double[] dst) {
        if (w == 1) {
            load(t, off, stride, n, dst);
            return;
        }
        double[] tmp = tmpDoubles(w);
        for (int k = 0; k < n; k++) {
            load(t, off + k * stride, 1, w, tmp);
            for (int c = 0, j = k; c < w; c++, j += n) {
                dst[j] = tmp[c];
            }
        }
    }

    /** The inverse of {@link #loadColumns}. */
    public static void storeColumns(Tensor t, int off, int stride, int n, int w, double[] src) {
        if (w == 1) {
            store(t, off, stride, n, src);
            return;
        }
        double[] tmp = tmpDoubles(w);
        for (int k = 0; k < n; k++) {
            for (int c = 0, j = k; c < w; c++, j += n) {
                tmp[c] = src[j];
            }
            store(t, off + k * stride, 1, w, tmp);
        }
    }

    /** {@link #loadKeys} for {@code w} neighbouring slices, laid out like {@link #loadColumns}. */
    public static void loadKeyColumns(Tensor t, int off, int stride, int n, int w, long[] dst, long nanKey) {
        if (w == 1) {
            loadKeys(t, off, stride, n, dst, nanKey);
            return;
        }
        long[] tmp = tmpLongs2(w);
        for (int k = 0; k < n; k++) {
            loadKeys(t, off + k * stride, 1, w, tmp, nanKey);
            for (int c = 0, j = k; c < w; c++, j += n) {
                dst[j] = tmp[c];
            }
        }
    }

    /** Like {@link #load}, element k read at {@code base + offs[k]}. */
    public static void gather(Tensor t, int base, int[] offs, int n, double[] dst) {
        ByteBuffer b = t.data();
        switch (t.dtype()) {
            case FLOAT32:
                for (int k = 0; k < n; k++) {
                    dst[k] = b.getFloat((base + offs[k]) << 2);
                }
                break;
            case FLOAT64:
                for (int k = 0; k < n; k++) {
                    dst[k] = b.getDouble((base + offs[k]) << 3);
                }
                break;
            default:
                for (int k = 0; k < n; k++) {
                    dst[k] = t.getDouble(base + offs[k]);
                }
        }
    }

    /** {@code x[off + k * stride] = src[k]}, rounded to nearest for floats; for integers truncated toward
     * zero and saturated to the dtype's range (NaN stores 0). */
    public static void store(Tensor t, int off, int stride, int n, double[] src) {
        ByteBuffer b = t.data();
        switch (t.dtype()) {
            case FLOAT32:
                for (int k = 0, i = off; k < n; k++, i += stride) {
                    b.putFloat(i << 2, (float) src[k]);
                }
                break;
            case FLOAT64:
                for (int k = 0, i = off; k < n; k++, i += stride) {
                    b.putDouble(i << 3, src[k]);
                }
                break;
            case FLOAT16:
                for (int k = 0, i = off; k < n; k++, i += stride) {
                    b.putShort(i << 1, Half.fromFloat((float) src[k]));
                }
                break;
            case BFLOAT16:
                for (int k = 0, i = off; k < n; k++, i += stride) {
                    b.putShort(i << 1, Half.floatToBf16((float) src[k]));
                }
                break;
            default: {
                long[] tmp = tmpLongs(n);
                for (int k = 0; k < n; k++) {
                    tmp[k] = doubleToLong(src[k], t.dtype());
                }
                storeLong(t, off, stride, n, tmp);
            }
        }
    }

    /** Integer elements as long: signed types sign-extended, unsigned zero-extended, UINT64 as raw bits. */
    public static void loadLong(Tensor t, int off, int stride, int n, long[] dst) {
        ByteBuffer b = t.data();
        switch (t.dtype()) {
            case INT8:
                for (int k = 0, i = off; k < n; k++, i += stride) {
                    dst[k] = b.get(i);
                }
                break;
            case UINT8:
                for (int k = 0, i = off; k < n; k++, i += stride) {
                    dst[k] = b.get(i) & 0xff;
                }
                break;
            case BOOL:
                for (int k = 0, i = off; k < n; k++, i += stride) {
                    dst[k] = b.get(i) != 0 ? 1 : 0;
                }
                break;
            case INT16:
                for (int k = 0, i = off; k < n; k++, i += stride) {
                    dst[k] = b.getShort(i << 1);
                }
                break;
            case UINT16:
                for (int k = 0, i = off; k < n; k++, i += stride) {
                    dst[k] = b.getShort(i << 1) & 0xffff;
                }
                break;
            case INT32:
                for (int k = 0, i = off; k < n; k++, i += stride) {
                    dst[k] = b.getInt(i << 2);
                }
                break;
            case UINT32:
                for (int k = 0, i = off; k < n; k++, i += stride) {
                    dst[k] = b.getInt(i << 2) & 0xffffffffL;
                }
                break;
            case INT64:
            case UINT64:
                for (int k = 0, i = off; k < n; k++, i += stride) {
                    dst[k] = b.getLong(i << 3);
                }
                break;
            default:
                throw new IllegalStateException(t.dtype() + " is not an integer type");
        }
    }

    /** Like {@link #loadLong}, element k read at {@code base + offs[k]}. */
    public static void gatherLong(Tensor t, int base, int[] offs, int n, long[] dst) {
        for (int k = 0; k < n; k++) {
            dst[k] = t.getLong(base + offs[k]);
        }
    }

    /** Stores longs, wrapping to the element width like a C cast. */
    public static void storeLong(Tensor t, int off, int stride, int n, long[] src) {
        ByteBuffer b = t.data();
        switch (t.dtype()) {
            case INT8:
            case UINT8:
                for (int k = 0, i = off; k < n; k++, i += stride) {
                    b.put(i, (byte) src[k]);
                }
                break;
            case BOOL:
                for (int k = 0, i = off; k < n; k++, i += stride) {
                    b.put(i, (byte) (src[k] != 0 ? 1 : 0));
                }
                break;
            case INT16:
            case UINT16:
                for (int k = 0, i = off; k < n; k++, i += stride) {
                    b.putShort(i << 1, (short) src[k]);
                }
                break;
            case INT32:
            case UINT32:
                for (int k = 0, i = off; k < n; k++, i += stride) {
                    b.putInt(i << 2, (int) src[k]);
                }
                break;
            case INT64:
            case UINT64:
                for (int k = 0, i = off; k < n; k++, i += stride) {
                    b.putLong(i << 3, src[k]);
                }
                break;
            default:
                throw new IllegalStateException(t.dtype() + " is not an integer type");
        }
    }

    /**
     * Order-preserving long keys: comparing keys as signed longs orders the elements as their dtype does
     * (unsigned types unsigned, floats numerically with -0.0 equal to 0.0). Every NaN gets {@code nanKey}.
     */
    public static void loadKeys(Tensor t, int off, int stride, int n, long[] dst, long nanKey) {
        DType d = t.dtype();
        if (d.isFloat()) {
            double[] tmp = tmpDoubles(n);
            load(t, off, stride, n, tmp);
            for (int k = 0; k < n; k++) {
                dst[k] = floatKey(tmp[k], nanKey);
            }
            return;
        }
        loadLong(t, off, stride, n, dst);
        if (d == DType.UINT64) {
            for (int k = 0; k < n; k++) {
                dst[k] ^= Long.MIN_VALUE;
            }
        }
    }

    static long floatKey(double v, long nanKey) {
        if (v != v) {
            return nanKey;
        }
        long bits = Double.doubleToRawLongBits(v + 0.0);
        return bits ^ ((bits >> 63) & Long.MAX_VALUE);
    }

    /** Copies element {@code from} of {@code src} to element {@code to} of {@code dst} (same dtype). */
    public static void copyElement(Tensor src, int from, Tensor dst, int to) {
        ByteBuffer s = src.data();
        ByteBuffer d = dst.data();
        switch (src.dtype().byteWidth()) {
            case 1: d.put(to, s.get(from)); break;
            case 2: d.putShort(to << 1, s.getShort(from << 1)); break;
            case 4: d.putInt(to << 2, s.getInt(from << 2)); break;
            case 8: d.putLong(to << 3, s.getLong(from << 3)); break;
            default: throw new IllegalStateException(src.dtype().toString());
        }
    }

    public static double unsignedToDouble(long v) {
        return v >= 0 ? v : (double) (v >>> 1) * 2.0 + (v & 1);
    }

    /** Truncation toward zero, saturating at the dtype's range; NaN becomes 0. */
    static long doubleToLong(double v, DType d) {
        if (v != v) {
            return 0;
        }
        if (d == DType.UINT64) {
            if (v >= 0x1p64) {
                return -1L;
            }
            return v >= 0x1p63 ? (long) (v - 0x1p63) ^ Long.MIN_VALUE : v <= 0 ? 0 : (long) v;
        }
        long lo = minOf(d);
        long hi = maxOf(d);
        return v <= lo ? lo : v >= hi ? hi : (long) v;
    }

    /** Smallest value of an integer or bool dtype (0 for unsigned types). */
    public static long minOf(DType d) {
        switch (d) {
            case INT8: return Byte.MIN_VALUE;
            case INT16: return Short.MIN_VALUE;
            case INT32: return Integer.MIN_VALUE;
            case INT64: return Long.MIN_VALUE;
            default: return 0;
        }
    }

    /** Largest value of an integer or bool dtype (UINT64: all bits set, i.e. -1 as a long). */
    public static long maxOf(DType d) {
        switch (d) {
            case INT8: return Byte.MAX_VALUE;
            case UINT8: return 0xff;
            case INT16: return Short.MAX_VALUE;
            case UINT16: return 0xffff;
            case INT32: return Integer.MAX_VALUE;
            case UINT32: return 0xffffffffL;
            case INT64: return Long.MAX_VALUE;
            case UINT64: return -1L;
            case BOOL: return 1;
            default: throw new IllegalArgumentException(d + " is not an integer type");
        }
    }
}
