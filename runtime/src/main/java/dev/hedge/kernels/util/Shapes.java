package dev.hedge.kernels.util;

import java.util.Arrays;

/** Shape arithmetic shared by kernels. Errors are IllegalArgumentException; the planner adds the node name. */
public final class Shapes {

    private Shapes() {
    }

    public static int product(int[] shape) {
        return product(shape, 0, shape.length);
    }

    /** Product of {@code shape[from..to)}, checked for int overflow. */
    public static int product(int[] shape, int from, int to) {
        long p = 1;
        for (int i = from; i < to; i++) {
            p *= shape[i];
            if (p > Integer.MAX_VALUE) {
                throw new IllegalArgumentException("shape " + Arrays.toString(shape) + " is too large");
            }
        }
        return (int) p;
    }

    /** Row-major strides in elements. */
    public static int[] strides(int[] shape) {
        int[] s = new int[shape.length];
        int acc = 1;
        for (int i = shape.length - 1; i >= 0; i--) {
            s[i] = acc;
            acc *= shape[i];
        }
        return s;
    }

    /** Resolves a possibly negative axis against {@code rank}; throws when out of [-rank, rank). */
    public static int axis(long axis, int rank) {
        long a = axis < 0 ? axis + rank : axis;
        if (a < 0 || a >= rank) {
            throw new IllegalArgumentException("axis " + axis + " is out of range for rank " + rank);
        }
        return (int) a;
    }

    /** Numpy-style broadcast of two shapes. */
    public static int[] broadcast(int[] a, int[] b) {
        int r = Math.max(a.length, b.length);
        int[] out = new int[r];
        for (int i = 0; i < r; i++) {
            int da = i < r - a.length ? 1 : a[i - (r - a.length)];
            int db = i < r - b.length ? 1 : b[i - (r - b.length)];
            if (da != db && da != 1 && db != 1) {
                throw new IllegalArgumentException("shapes " + Arrays.toString(a) + " and " + Arrays.toString(b)
                        + " cannot be broadcast together");
            }
            out[i] = da == 1 ? db : da;
        }
        return out;
    }

    /** Broadcast of any number of shapes. */
    public static int[] broadcast(int[]... shapes) {
        int[] out = new int[0];
        for (int[] s : shapes) {
            out = broadcast(out, s);
        }
        return out;
    }

    /**
     * Element strides of {@code in} read as if it had shape {@code out} (right-aligned; 0 for broadcast
     * dimensions). {@code out} must be a broadcast of {@code in}.
     */
    public static int[] broadcastStrides(int[] in, int[] out) {
        int[] st = strides(in);
        int[] res = new int[out.length];
        int off = out.length - in.length;
        for (int i = 0; i < out.length; i++) {
            if (i < off) {
                res[i] = 0;
            } else {
                int d = in[i - off];
                res[i] = d == 1 && out[i] != 1 ? 0 : st[i - off];
            }
        }
        return res;
    }

    /** Whether {@code in}, broadcast to {@code out}, is the same layout (no broadcasting needed). */
    public static boolean sameShape(int[] a, int[] b) {
        return Arrays.equals(a, b);
    }

    public static int[] toInts(long[] v) {
        int[] r = new int[v.length];
        for (int i = 0; i < v.length; i++) {
            r[i] = Math.toIntExact(v[i]);
        }
        return r;
    }

    public static String str(int[] shape) {
        return Arrays.toString(shape);
    }
}
