package dev.hedge.converter.quantize;

import dev.hedge.ir.Node;
import dev.hedge.ops.Op;
import dev.hedge.runtime.Tensor;

/**
 * Bias correction: quantized weights {@code Wq = W + dW} shift each output by {@code dW . x}, whose expectation
 * {@code dW . E[x]} is removed by adding {@code -dW . E[x]} to the bias. {@code E[x]} is the mean of each column
 * of the rows the layer multiplies its weights with ({@link InputStatistics}): for a Conv one per channel and
 * kernel tap, so a tap that only ever reads padding contributes nothing (a per-channel mean would charge it the
 * channel's mean and shift the output instead of correcting it). For inputs that are all positive (after a ReLU)
 * this mean part is most of the error the weights add.
 */
public final class BiasCorrection {

    private BiasCorrection() {
    }

    /**
     * The correction per output row for weights {@code w} and their dequantized values {@code wq}, both in the
     * layout {@code n} reads them ({@code outAxis} the output channels), or null when the means do not fit.
     * {@code mean[g]} are the column means of group g (Conv group, recurrent direction). {@code factor} multiplies
     * the weights in the layer's output (Gemm alpha). Recurrent weights [dirs, rows, k] give {@code dirs * rows}
     * values, direction-major.
     */
    static float[] correction(Node n, Tensor w, Tensor wq, int outAxis, double[][] mean, double factor) {
        if (mean == null) {
            return null;
        }
        float[] a = w.toFloatArray();
        float[] b = wq.toFloatArray();
        int[] s = w.shape();
        double[] c;
        if (n.op() == Op.Conv || InputStatistics.recurrent(n.op())) {
            // rows of k weights, consecutive rows sharing one group's means
            int rows = n.op() == Op.Conv ? s[0] : s[0] * s[1];
            int k = a.length / Math.max(1, rows);
            int groups = mean.length;
            if (groups == 0 || rows % groups != 0) {
                return null;
            }
            for (double[] m : mean) {
                if (m.length != k) {
                    return null;
                }
            }
            int perGroup = rows / groups;
            c = new double[rows];
            for (int e = 0; e < a.length; e++) {
                int r = e / k;
                c[r] -= ((double) b[e] - a[e]) * mean[r / perGroup][e % k];
            }
        } else {
            if (s.length != 2 || mean.length != 1) {
                return null;
            }
            int rows = s[0];
            int cols = s[1];
            int inputs = outAxis == 1 ? rows : cols;
            if (mean[0].length != inputs) {
                return null;
            }
            c = new double[outAxis == 1 ? cols : rows];
            for (int e = 0; e < a.length; e++) {
                int r = e / cols;
                int col = e % cols;
                int out = outAxis == 1 ? col : r;
                int in = outAxis == 1 ? r : col;
                c[out] -= ((double) b[e] - a[e]) * mean[0][in];
            }
        }
        float[] f = new float[c.length];
        for (int i = 0; i < f.length; i++) {
            f[i] = (float) (c[i] * factor);
        }
        return f;
    }
}
