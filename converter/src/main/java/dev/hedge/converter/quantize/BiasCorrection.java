package dev.hedge.converter.quantize;

import dev.hedge.ir.Node;
import dev.hedge.ops.Op;
import dev.hedge.runtime.Tensor;

/**
 * Bias correction: quantized weights {@code Wq = W + dW} shift each output by {@code dW . x}, whose expectation
 * {@code dW . E[x]} is removed by adding {@code -dW . E[x]} to the bias. {@code E[x]} is the per-channel mean of
 * the layer input over the calibration data. For inputs that are all positive (after a ReLU) this mean part is
 * most of the error the weights add.
 */
public final class BiasCorrection {

    private BiasCorrection() {
    }

    /** The input's channel axis whose means the correction needs (null: the layer is not corrected). */
    public static Integer inputChannelAxis(Node n) {
        switch (n.op()) {
            case Conv: return 1;
            case Gemm: return n.intAttr("transA") != 0 ? null : 1;
            case MatMul: return -1;
            default: return null;
        }
    }

    /**
     * The correction per output channel for weights {@code w} and their dequantized values {@code wq}, both in the
     * layout {@code n} reads them ({@code outAxis} the output channels), or null when the means do not fit.
     * {@code factor} multiplies the weights in the layer's output (Gemm alpha).
     */
    static float[] correction(Node n, Tensor w, Tensor wq, int outAxis, double[] mean, double factor) {
        if (mean == null) {
            return null;
        }
        float[] a = w.toFloatArray();
        float[] b = wq.toFloatArray();
        int[] s = w.shape();
        double[] c;
        if (n.op() == Op.Conv) {
            int maps = s[0];
            int cg = s[1];
            int ksize = a.length / maps / Math.max(1, cg);
            int groups = (int) n.intAttr("group");
            if (mean.length != cg * groups) {
                return null;
            }
            c = new double[maps];
            int perGroup = maps / groups;
            for (int e = 0; e < a.length; e++) {
                int m = e / (cg * ksize);
                int ch = (m / perGroup) * cg + (e / ksize) % cg;
                c[m] -= ((double) b[e] - a[e]) * mean[ch];
            }
        } else {
            if (s.length != 2) {
                return null;
            }
            int rows = s[0];
            int cols = s[1];
            int inputs = outAxis == 1 ? rows : cols;
            if (mean.length != inputs) {
                return null;
            }
            c = new double[outAxis == 1 ? cols : rows];
            for (int e = 0; e < a.length; e++) {
                int r = e / cols;
                int col = e % cols;
                int out = outAxis == 1 ? col : r;
                int in = outAxis == 1 ? r : col;
                c[out] -= ((double) b[e] - a[e]) * mean[in];
            }
        }
        float[] f = new float[c.length];
        for (int i = 0; i < f.length; i++) {
            f[i] = (float) (c[i] * factor);
        }
        return f;
    }
}
