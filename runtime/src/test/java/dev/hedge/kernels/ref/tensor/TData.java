package dev.hedge.kernels.ref.tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.hedge.runtime.DType;
import dev.hedge.runtime.Tensor;
import java.util.Arrays;
import java.util.Random;

/** Random tensors, row-major index helpers and element comparison for the kernel tests. */
final class TData {

    /** Dtypes the data-movement tests run over: every element width, packed 4-bit included. */
    static final DType[] MOVE_TYPES = {DType.FLOAT32, DType.INT8, DType.FLOAT16, DType.INT64, DType.UINT4,
        DType.INT4, DType.BOOL, DType.FLOAT64};

    private TData() {
    }

    static Tensor random(DType t, int[] shape, Random rnd) {
        Tensor x = Tensor.allocate(t, shape);
        int n = x.elementCount();
        for (int i = 0; i < n; i++) {
            if (t.isFloat()) {
                x.setDouble(i, Math.round(rnd.nextGaussian() * 64) / 8.0);
            } else if (t == DType.BOOL) {
                x.setLong(i, rnd.nextInt(2));
            } else {
                x.setLong(i, rnd.nextInt(1 << Math.min(30, t.bits())) - (t.isSigned() ? 1 << (Math.min(30, t.bits()) - 1) : 0));
            }
        }
        return x;
    }

    static DType moveType(Random rnd) {
        return MOVE_TYPES[rnd.nextInt(MOVE_TYPES.length)];
    }

    static int[] randomShape(Random rnd, int maxRank, int maxDim) {
        int r = rnd.nextInt(maxRank + 1);
        int[] s = new int[r];
        for (int i = 0; i < r; i++) {
            s[i] = rnd.nextInt(10) == 0 ? 0 : 1 + rnd.nextInt(maxDim);
        }
        return s;
    }

    static int[] strides(int[] shape) {
        int[] s = new int[shape.length];
        int acc = 1;
        for (int i = shape.length - 1; i >= 0; i--) {
            s[i] = acc;
            acc *= shape[i];
        }
        return s;
    }

    static int[] unravel(int flat, int[] shape) {
        int[] c = new int[shape.length];
        for (int d = shape.length - 1; d >= 0; d--) {
            c[d] = flat % shape[d];
            flat /= shape[d];
        }
        return c;
    }

    static int ravel(int[] coord, int[] shape) {
        int f = 0;
        for (int d = 0; d < shape.length; d++) {
            f = f * shape[d] + coord[d];
        }
        return f;
    }

    static int count(int[] shape) {
        int n = 1;
        for (int d : shape) {
            n *= d;
        }
        return n;
    }

    /** Element i in a comparable form: the long value for integers, the double's bits for floats. */
    static long key(Tensor t, int i) {
        return t.dtype().isFloat() ? Double.doubleToLongBits(t.getDouble(i)) : t.getLong(i);
    }

    /** Asserts dtype, shape and every element of {@code actual} equal {@code expected}. */
    static void assertSame(Tensor expected, Tensor actual, String what) {
        assertEquals(expected.dtype(), actual.dtype(), what + ": dtype");
        assertArrayEquals(expected.shape(), actual.shape(), what + ": shape");
        for (int i = 0; i < expected.elementCount(); i++) {
            if (key(expected, i) != key(actual, i)) {
                throw new AssertionError(what + ": element " + i + " " + Arrays.toString(unravel(i, expected.shape()))
                        + " is " + actual.getDouble(i) + ", expected " + expected.getDouble(i));
            }
        }
    }

    /** Copies element {@code si} of {@code src} into element {@code di} of {@code dst} (same dtype). */
    static void put(Tensor dst, int di, Tensor src, int si) {
        if (src.dtype().isFloat()) {
            dst.setDouble(di, src.getDouble(si));
        } else {
            dst.setLong(di, src.getLong(si));
        }
    }
}
