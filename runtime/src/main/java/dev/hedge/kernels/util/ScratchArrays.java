package dev.hedge.kernels.util;

/**
 * Per-thread, grow-only heap arrays for pure-Java kernels that compute faster on arrays than on buffers
 * (GEMM packing, row buffers). Steady-state runs allocate nothing, and sessions on different threads
 * never share an array. Each kernel call may hold at most one array per slot: slots 0..3 exist so that a
 * kernel can use several at once (e.g. packed A and packed B).
 */
public final class ScratchArrays {

    private static final int SLOTS = 4;

    private static final ThreadLocal<float[][]> FLOATS = ThreadLocal.withInitial(() -> new float[SLOTS][0]);
    private static final ThreadLocal<int[][]> INTS = ThreadLocal.withInitial(() -> new int[SLOTS][0]);
    private static final ThreadLocal<double[][]> DOUBLES = ThreadLocal.withInitial(() -> new double[SLOTS][0]);
    private static final ThreadLocal<long[][]> LONGS = ThreadLocal.withInitial(() -> new long[SLOTS][0]);

    private ScratchArrays() {
    }

    /** A float array of at least {@code n} elements for this thread and slot (contents undefined). */
    public static float[] floats(int slot, int n) {
        float[][] a = FLOATS.get();
        if (a[slot].length < n) {
            a[slot] = new float[n];
        }
        return a[slot];
    }

    public static int[] ints(int slot, int n) {
        int[][] a = INTS.get();
        if (a[slot].length < n) {
            a[slot] = new int[n];
        }
        return a[slot];
    }

    public static double[] doubles(int slot, int n) {
        double[][] a = DOUBLES.get();
        if (a[slot].length < n) {
            a[slot] = new double[n];
        }
        return a[slot];
    }

    public static long[] longs(int slot, int n) {
        long[][] a = LONGS.get();
        if (a[slot].length < n) {
            a[slot] = new long[n];
        }
        return a[slot];
    }
}
