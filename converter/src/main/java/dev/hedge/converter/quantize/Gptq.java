package dev.hedge.converter.quantize;

import dev.hedge.converter.reconstruct.Blas;

/**
 * Error-feedback rounding (GPTQ): the weights of an output are rounded one input at a time, and each rounding
 * error is spread over the inputs not rounded yet so that the output, on the calibration inputs, moves as little
 * as possible. With {@code U} the upper Cholesky factor of {@code (H + λI)⁻¹} (H the centred input Gram matrix),
 * rounding weight j with error {@code e = (w_j - q_j) / U_jj} subtracts {@code e U_jk} from every later weight k.
 * λ is 1% of the mean diagonal of H; inputs that never vary keep round-to-nearest. The inputs are taken in
 * order of decreasing variance (GPTQ's act-order): the weights whose errors weigh most are rounded while the most
 * weights are left to absorb them.
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
        Integer[] order = new Integer[k];
        for (int i = 0; i < k; i++) {
            order[i] = i;
        }
        java.util.Arrays.sort(order, (a, b) -> Double.compare(h[b * k + b], h[a * k + a]));
        double[] hp = new double[k * k];
        for (int i = 0; i < k; i++) {
            for (int j = i; j < k; j++) {
                int a = Math.min(order[i], order[j]);
                int b = Math.max(order[i], order[j]);
                hp[i * k + j] = h[a * k + b];
            }
        }
        double[] u = inverseCholesky(hp, k);
        if (u == null) {
            return false;
        }
        double[] v = new double[k];
        for (int r = 0; r < rows; r++) {
            int off = r * k;
            for (int j = 0; j < k; j++) {
                v[j] = w[off + order[j]];
            }
            for (int j = 0; j < k; j++) {
                double q = grid.round(r, order[j], v[j]);
                double err = (v[j] - q) / u[j * k + j];
                v[j] = q;
                for (int c = j + 1; c < k; c++) {
                    v[c] -= err * u[j * k + c];
                }
            }
            for (int j = 0; j < k; j++) {
                w[off + order[j]] = v[j];
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
