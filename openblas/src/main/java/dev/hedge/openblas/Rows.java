package dev.hedge.openblas;

import dev.hedge.kernels.util.FusedActivation;
import dev.hedge.kernels.util.ScratchArrays;

/** Row-wise work on native float matrices, staged through a per-thread array (JNI copies, no allocation). */
final class Rows {

    /** ScratchArrays slot of the staging rows; the im2col code uses slots 0 and 1. */
    private static final int SLOT = 2;
    /** Floats staged per copy when rows are contiguous (64 KiB: stays in L2 between the two copies). */
    private static final int BLOCK = 1 << 14;

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
        if (len <= 0 || m1 <= m0) {
            return;
        }
        // whole rows are contiguous: move up to BLOCK floats per JNI copy rather than a row each
        int rowsPerCopy = len == ldy ? Math.max(1, Math.min(m1 - m0, BLOCK / len)) : 1;
        float[] buf = ScratchArrays.floats(SLOT, rowsPerCopy * len);
        for (int r0 = m0; r0 < m1; r0 += rowsPerCopy) {
            int rows = Math.min(rowsPerCopy, m1 - r0);
            long at = y + 4L * ((long) r0 * ldy + n0);
            Blas.read(at, buf, 0, rows * len);
            for (int q = 0; q < rows; q++) {
                int r = r0 + q;
                int o = q * len;
                if (rowBias != null) {
                    float b = rowBias[biasOff + r];
                    for (int j = 0; j < len; j++) {
                        buf[o + j] += b;
                    }
                }
                if (addRows != null) {
                    int base = (r % addRowCount) * n + n0;
                    for (int j = 0; j < len; j++) {
                        buf[o + j] += addRows[base + j];
                    }
                }
            }
            act.apply(buf, 0, rows * len);
            Blas.write(buf, 0, rows * len, at);
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
