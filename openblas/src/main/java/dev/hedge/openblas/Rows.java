package dev.hedge.openblas;

import dev.hedge.kernels.util.FusedActivation;
import dev.hedge.kernels.util.ScratchArrays;

/** Row-wise work on native float matrices, staged through a per-thread array (JNI copies, no allocation). */
final class Rows {

    /** ScratchArrays slot of the staging row; the im2col code uses slots 0 and 1. */
    private static final int SLOT = 2;

    private Rows() {
    }

    /**
     * For rows {@code [m0, m1)} and columns {@code [n0, n1)} of the matrix at {@code y} (leading dimension
     * {@code ldy}): adds {@code rowBias[biasOff + row]} (if given) and the row {@code addRows[(row % addRowCount)
     * * n + col]} (if given, already scaled), then applies the activation.
     */
    static void epilogue(long y, int ldy, int m0, int m1, int n0, int n1, float[] rowBias, int biasOff,
            float[] addRows, int addRowCount, int n, FusedActivation act) {
        int len = n1 - n0;
        if (len <= 0) {
            return;
        }
        float[] row = ScratchArrays.floats(SLOT, len);
        for (int r = m0; r < m1; r++) {
            long at = y + 4L * ((long) r * ldy + n0);
            Blas.read(at, row, 0, len);
            if (rowBias != null) {
                float b = rowBias[biasOff + r];
                for (int j = 0; j < len; j++) {
                    row[j] += b;
                }
            }
            if (addRows != null) {
                int base = (r % addRowCount) * n + n0;
                for (int j = 0; j < len; j++) {
                    row[j] += addRows[base + j];
                }
            }
            act.apply(row, 0, len);
            Blas.write(row, 0, len, at);
        }
    }

    /** Sets rows {@code [m0, m1)}, columns {@code [n0, n1)} to zero. */
    static void zero(long y, int ldy, int m0, int m1, int n0, int n1) {
        int len = n1 - n0;
        if (len <= 0) {
            return;
        }
        float[] row = ScratchArrays.floats(SLOT, len);
        java.util.Arrays.fill(row, 0, len, 0f);
        for (int r = m0; r < m1; r++) {
            Blas.write(row, 0, len, y + 4L * ((long) r * ldy + n0));
        }
    }
}
