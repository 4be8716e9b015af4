package dev.hedge.converter.reconstruct;

import static org.bytedeco.openblas.global.openblas.CblasNoTrans;
import static org.bytedeco.openblas.global.openblas.CblasRowMajor;
import static org.bytedeco.openblas.global.openblas.CblasTrans;
import static org.bytedeco.openblas.global.openblas.CblasUpper;
import static org.bytedeco.openblas.global.openblas.LAPACK_ROW_MAJOR;

import org.bytedeco.openblas.global.openblas;

/** The few BLAS / LAPACK calls reconstruction needs, through the JavaCPP OpenBLAS preset; row-major doubles. */
public final class Blas {

    private Blas() {
    }

    /**
     * Solves {@code A X = B} for symmetric positive definite {@code A} ({@code n x n}; only its upper triangle
     * is read) by Cholesky ({@code LAPACKE_dposv}). {@code a} is overwritten by the factor, {@code b}
     * ({@code n x nrhs}) by the solution. Returns false when {@code A} is not positive definite.
     */
    public static boolean solveSpd(double[] a, double[] b, int n, int nrhs) {
        if (a.length < (long) n * n || b.length < (long) n * nrhs) {
            throw new IllegalArgumentException("solveSpd: arrays too small for n=" + n + ", nrhs=" + nrhs);
        }
        if (n == 0) {
            return true;
        }
        int info = openblas.LAPACKE_dposv(LAPACK_ROW_MAJOR, (byte) 'U', n, nrhs, a, n, b, nrhs);
        if (info < 0) {
            throw new IllegalStateException("LAPACKE_dposv: argument " + (-info) + " is invalid");
        }
        return info == 0;
    }

    /**
     * Cholesky factor {@code U} with {@code A = Uᵀ U} ({@code LAPACKE_dpotrf}, upper): {@code a} ({@code n x n},
     * upper triangle read) is overwritten with U in its upper triangle, the strict lower triangle zeroed.
     * Returns false when {@code A} is not positive definite.
     */
    public static boolean cholesky(double[] a, int n) {
        if (n == 0) {
            return true;
        }
        int info = openblas.LAPACKE_dpotrf(LAPACK_ROW_MAJOR, (byte) 'U', n, a, n);
        if (info < 0) {
            throw new IllegalStateException("LAPACKE_dpotrf: argument " + (-info) + " is invalid");
        }
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < i; j++) {
                a[i * n + j] = 0;
            }
        }
        return info == 0;
    }

    /** {@code C (k x k, upper triangle) += Xᵀ X} for {@code X} of {@code rows x k}. */
    public static void addGram(double[] x, int rows, int k, double[] c) {
        if (rows > 0 && k > 0) {
            openblas.cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, k, rows, 1.0, x, k, 1.0, c, k);
        }
    }

    /** {@code C (k x m) += Xᵀ Y} for {@code X} of {@code rows x k} and {@code Y} of {@code rows x m}. */
    public static void addCross(double[] x, double[] y, int rows, int k, int m, double[] c) {
        if (rows > 0 && k > 0 && m > 0) {
            openblas.cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, k, m, rows, 1.0, x, k, y, m, 1.0, c, m);
        }
    }

    /** {@code Y (rows x m) = X Wᵀ} for {@code X} of {@code rows x k} and {@code W} of {@code m x k}. */
    public static void timesTransposed(double[] x, double[] w, int rows, int k, int m, double[] y) {
        if (k == 0) {
            java.util.Arrays.fill(y, 0, rows * m, 0.0);
        } else if (rows > 0 && m > 0) {
            openblas.cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, rows, m, k, 1.0, x, k, w, k, 0.0, y, m);
        }
    }
}
