package dev.hedge.kernels.ref.elementwise;

import dev.hedge.runtime.DType;
import dev.hedge.runtime.Half;
import dev.hedge.runtime.Tensor;
import java.nio.ByteBuffer;
import java.util.Arrays;

/**
 * Moves runs of elements between tensors and lane arrays. A run starts at element {@code off} and has
 * stride 1 (contiguous) or 0 (one element repeated: a broadcast). The dispatch on dtype happens once per
 * run, never per element.
 */
final class Access {

    private Access() {
    }

    /** Loads {@code n} elements into {@code dst[pos..]}, an array of the lane the kernel computes in. */
    static void load(Tensor t, int off, int stride, Object dst, int pos, int n) {
        if (dst instanceof float[] f) {
            loadFloats(t, off, stride, f, pos, n);
        } else if (dst instanceof double[] d) {
            loadDoubles(t, off, stride, d, pos, n);
        } else if (dst instanceof long[] l) {
            loadLongs(t, off, stride, l, pos, n);
        } else {
            loadBools(t, off, stride, (int[]) dst, pos, n);
        }
    }

    static void loadFloats(Tensor t, int off, int stride, float[] dst, int pos, int n) {
        ByteBuffer b = t.data();
        switch (t.dtype()) {
            case FLOAT32:
                if (stride == 0) {
                    Arrays.fill(dst, pos, pos + n, b.getFloat(off * 4));
                } else {
                    t.floats().get(off, dst, pos, n);
                }
                break;
            case FLOAT16:
                if (stride == 0) {
                    Arrays.fill(dst, pos, pos + n, Half.toFloat(b.getShort(off * 2)));
                } else {
                    for (int i = 0; i < n; i++) {
                        dst[pos + i] = Half.toFloat(b.getShort((off + i) * 2));
                    }
                }
                break;
            case BFLOAT16:
                if (stride == 0) {
                    Arrays.fill(dst, pos, pos + n, Half.bf16ToFloat(b.getShort(off * 2)));
                } else {
                    for (int i = 0; i < n; i++) {
                        dst[pos + i] = Half.bf16ToFloat(b.getShort((off + i) * 2));
                    }
                }
                break;
            default:
                throw new IllegalStateException(t.dtype() + " does not load as float");
        }
    }

    /** Any dtype as double: exact for every float type and for integers up to 2^53. */
    static void loadDoubles(Tensor t, int off, int stride, double[] dst, int pos, int n) {
        ByteBuffer b = t.data();
        if (stride == 0) {
            Arrays.fill(dst, pos, pos + n, t.getDouble(off));
            return;
        }
        switch (t.dtype()) {
            case FLOAT64:
                for (int i = 0; i < n; i++) {
                    dst[pos + i] = b.getDouble((off + i) * 8);
                }
                break;
            case FLOAT32:
                for (int i = 0; i < n; i++) {
                    dst[pos + i] = b.getFloat((off + i) * 4);
                }
                break;
            default:
                for (int i = 0; i < n; i++) {
                    dst[pos + i] = t.getDouble(off + i);
                }
        }
    }

    /** Integers (sign- or zero-extended per dtype) and BOOL as 0/1. */
    static void loadLongs(Tensor t, int off, int stride, long[] dst, int pos, int n) {
        if (stride == 0) {
            Arrays.fill(dst, pos, pos + n, longAt(t, off));
            return;
        }
        ByteBuffer b = t.data();
        switch (t.dtype()) {
            case INT8:
                for (int i = 0; i < n; i++) {
                    dst[pos + i] = b.get(off + i);
                }
                break;
            case UINT8:
                for (int i = 0; i < n; i++) {
                    dst[pos + i] = b.get(off + i) & 0xff;
                }
                break;
            case INT16:
                for (int i = 0; i < n; i++) {
                    dst[pos + i] = b.getShort((off + i) * 2);
                }
                break;
            case UINT16:
                for (int i = 0; i < n; i++) {
                    dst[pos + i] = b.getShort((off + i) * 2) & 0xffff;
                }
                break;
            case INT32:
                for (int i = 0; i < n; i++) {
                    dst[pos + i] = b.getInt((off + i) * 4);
                }
                break;
            case UINT32:
                for (int i = 0; i < n; i++) {
                    dst[pos + i] = b.getInt((off + i) * 4) & 0xffffffffL;
                }
                break;
            case INT64: case UINT64:
                for (int i = 0; i < n; i++) {
                    dst[pos + i] = b.getLong((off + i) * 8);
                }
                break;
            default:
                for (int i = 0; i < n; i++) {
                    dst[pos + i] = longAt(t, off + i);
                }
        }
    }

    private static long longAt(Tensor t, int i) {
        if (t.dtype().isFloat()) {
            throw new IllegalStateException(t.dtype() + " does not load as an integer");
        }
        return t.getLong(i);
    }

    static void loadBools(Tensor t, int off, int stride, int[] dst, int pos, int n) {
        if (t.dtype() != DType.BOOL) {
            throw new IllegalStateException(t.dtype() + " does not load as bool");
        }
        ByteBuffer b = t.data();
        if (stride == 0) {
            Arrays.fill(dst, pos, pos + n, b.get(off) != 0 ? 1 : 0);
            return;
        }
        for (int i = 0; i < n; i++) {
            dst[pos + i] = b.get(off + i) != 0 ? 1 : 0;
        }
    }

    /** Stores {@code src[pos..pos+n)} into elements {@code off..} of {@code t}, converting to its dtype. */
    static void store(Object src, int pos, Tensor t, int off, int n) {
        if (src instanceof float[] f) {
            storeFloats(f, pos, t, off, n);
        } else if (src instanceof double[] d) {
            storeDoubles(d, pos, t, off, n);
        } else if (src instanceof long[] l) {
            storeLongs(l, pos, t, off, n);
        } else {
            storeBools((int[]) src, pos, t, off, n);
        }
    }

    static void storeFloats(float[] src, int pos, Tensor t, int off, int n) {
        ByteBuffer b = t.data();
        switch (t.dtype()) {
            case FLOAT32:
                t.floats().put(off, src, pos, n);
                break;
            case FLOAT16:
                for (int i = 0; i < n; i++) {
                    b.putShort((off + i) * 2, Half.fromFloat(src[pos + i]));
                }
                break;
            case BFLOAT16:
                for (int i = 0; i < n; i++) {
                    b.putShort((off + i) * 2, Half.floatToBf16(src[pos + i]));
                }
                break;
            default:
                throw new IllegalStateException("float values do not store as " + t.dtype());
        }
    }

    /** Doubles into a float type (rounded once, to nearest even) or BOOL (non-zero, NaN included, is true). */
    static void storeDoubles(double[] src, int pos, Tensor t, int off, int n) {
        ByteBuffer b = t.data();
        switch (t.dtype()) {
            case FLOAT64:
                for (int i = 0; i < n; i++) {
                    b.putDouble((off + i) * 8, src[pos + i]);
                }
                break;
            case FLOAT32:
                for (int i = 0; i < n; i++) {
                    b.putFloat((off + i) * 4, (float) src[pos + i]);
                }
                break;
            case FLOAT16:
                for (int i = 0; i < n; i++) {
                    b.putShort((off + i) * 2, Convert.toHalf(src[pos + i]));
                }
                break;
            case BFLOAT16:
                for (int i = 0; i < n; i++) {
                    b.putShort((off + i) * 2, Convert.toBf16(src[pos + i]));
                }
                break;
            case BOOL:
                for (int i = 0; i < n; i++) {
                    b.put(off + i, (byte) (src[pos + i] != 0 ? 1 : 0));
                }
                break;
            default:
                throw new IllegalStateException("double values do not store as " + t.dtype());
        }
    }

    /** Longs into an integer type (keeping the low bits, like a C cast) or BOOL (non-zero is true). */
    static void storeLongs(long[] src, int pos, Tensor t, int off, int n) {
        ByteBuffer b = t.data();
        switch (t.dtype()) {
            case INT8: case UINT8:
                for (int i = 0; i < n; i++) {
                    b.put(off + i, (byte) src[pos + i]);
                }
                break;
            case INT16: case UINT16:
                for (int i = 0; i < n; i++) {
                    b.putShort((off + i) * 2, (short) src[pos + i]);
                }
                break;
            case INT32: case UINT32:
                for (int i = 0; i < n; i++) {
                    b.putInt((off + i) * 4, (int) src[pos + i]);
                }
                break;
            case INT64: case UINT64:
                for (int i = 0; i < n; i++) {
                    b.putLong((off + i) * 8, src[pos + i]);
                }
                break;
            case BOOL:
                for (int i = 0; i < n; i++) {
                    b.put(off + i, (byte) (src[pos + i] != 0 ? 1 : 0));
                }
                break;
            case INT4: case UINT4:
                for (int i = 0; i < n; i++) {
                    t.setLong(off + i, src[pos + i]);
                }
                break;
            default:
                throw new IllegalStateException("integer values do not store as " + t.dtype());
        }
    }

    static void storeBools(int[] src, int pos, Tensor t, int off, int n) {
        if (t.dtype() != DType.BOOL) {
            throw new IllegalStateException("bool values do not store as " + t.dtype());
        }
        ByteBuffer b = t.data();
        for (int i = 0; i < n; i++) {
            b.put(off + i, (byte) (src[pos + i] != 0 ? 1 : 0));
        }
    }
}
