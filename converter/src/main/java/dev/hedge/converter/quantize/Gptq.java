package dev.hedge.converter.quantize;

import dev.hedge.converter.reconstruct.Blas;

/**
 * Error-feedback rounding (GPTQ): the weights of an output are rounded one input at a time, and each rounding
 * error is spread over the inputs not rounded yet so that the output, on the calibration inputs, moves as little
 * as possible. With {@code U} the upper Cholesky factor of {@code (H + λI)⁻¹} (H the centred input Gram matrix),
 * rounding weight j with error {@code e = (w_j - q_j) / U_jj} subtracts {@code e U_jk} from every later weight k.
 * λ is 1% of the mean diagonal of H; inputs that never vary keep round-to-nearest.
 */
public final class Gptq {

    /** Where weight {@code j} of row {@code row} is rounded to: its dequantized grid value. */
    @FunctionalInterface
    public interface Grid {
        double round(int row, int j, double w);
    }

    private static final double DAMPING = 0.01;

    private Gptq() {
    }

    /**
     * Rounds {@code rows} rows of {@code k} weights ({@code w}, row-major, changed in place to the dequantized
     * grid values) with input Gram matrix {@code h} ({@code k x k}, upper triangle). Returns false (weights
     * untouched) when the damped matrix cannot be factored.
     */
    public static boolean round(double[] w, int rows, int k, double[] h, Grid grid) {
        double[] u = inverseCholesky(h, k);
        if (u == null) {
            return false;
        }
        for (int r = 0; r < rows; r++) {
            int off = r * k;
            for (int j = 0; j < k; j++) {
                double q = grid.round(r, j, w[off + j]);
                double err = (w[off + j] - q) / u[j * k + j];
                w[off + j] = q;
                for (int c = j + 1; c < k; c++) {
                    w[off + c] -= err * u[j * k + c];
                }
            }
        }
        return true;
    }

    /** Upper U with {@code Uᵀ U = (H + λI)⁻¹}, or null. */
    private static double[] inverseCholesky(double[] h, int k) {
        double trace = 0;
        for (int i = 0; i < k; i++) {
            trace += h[i * k + i];
        }
        double lambda = Math.max(DAMPING * trace / Math.max(1, k), 1e-12);
        for (int attempt = 0; attempt < 6; attempt++, lambda *= 10) {
            double[] a = new double[k * k];
            for (int i = 0; i < k; i++) {
                for (int j = i; j < k; j++) {
                    a[i * k + j] = h[i * k + j];
                }
                a[i * k + i] += lambda;
            }
            double[] inv = new double[k * k];
            for (int i = 0; i < k; i++) {
                inv[i * k + i] = 1;
            }
            if (Blas.solveSpd(a, inv, k, k) && Blas.cholesky(inv, k)) {
                return inv;
            }
        }
        return null;
    }
}
