package dev.hedge.kernels.ref.quant;

/** int32 matrix product with wrap-around accumulation (as int32 hardware accumulators do). */
final class IntGemm {

    private IntGemm() {
    }

    /**
     * {@code c[i * n + j] += sum_k a[aOff + i * k + kk] * b[kk * n + j]} for an {@code m x k} row-major A and a
     * {@code k x n} row-major B.
     */
    static void multiply(int[] a, int aOff, int m, int k, int[] b, int n, int[] c) {
        for (int i = 0; i < m; i++) {
            int ci = i * n;
            int ai = aOff + i * k;
            for (int kk = 0; kk < k; kk++) {
                int av = a[ai + kk];
                if (av == 0) {
                    continue;
                }
                int bk = kk * n;
                for (int j = 0; j < n; j++) {
                    c[ci + j] += av * b[bk + j];
                }
            }
        }
    }
}
