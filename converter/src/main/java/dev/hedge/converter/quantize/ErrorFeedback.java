package dev.hedge.converter.quantize;

import dev.hedge.ir.Node;
import dev.hedge.ops.Op;
import dev.hedge.runtime.Tensor;

/**
 * Applies {@link Gptq} to a weight tensor in the layout its layer reads it: the rows are the output channels
 * ({@code outAxis} 0: the first dimension; 1: the columns of a matrix; recurrent W / R {@code [dirs, rows, k]}:
 * every direction's rows), each with the layer's input width, in the order of the columns the input statistics
 * were gathered on ({@link InputStatistics}); Conv groups and recurrent directions use their own matrix.
 */
final class ErrorFeedback {

    /** The grid of element {@code e} (flat index in the weight's own layout). */
    @FunctionalInterface
    interface FlatGrid {
        double round(int e, double w);
    }

    private ErrorFeedback() {
    }

    /** The weights moved to their grid with error feedback, or null when the statistics do not fit the layer. */
    static Tensor apply(Node n, Tensor w, int outAxis, double[][] h, FlatGrid grid) {
        int[] s = w.shape();
        int rows;
        int k;
        boolean recurrent = InputStatistics.recurrent(n.op());
        if (recurrent) {
            if (s.length != 3) {
                return null;
            }
            rows = s[0] * s[1];
            k = s[2];
        } else if (outAxis == 0) {
            rows = s[0];
            k = w.elementCount() / Math.max(1, rows);
        } else if (outAxis == 1 && s.length == 2) {
            rows = s[1];
            k = s[0];
        } else {
            return null;
        }
        int groups = h.length;
        if (rows % groups != 0 || (groups > 1 && n.op() != Op.Conv && !recurrent)) {
            return null;
        }
        for (double[] g : h) {
            if (g == null || g.length != k * k) {
                return null;
            }
        }
        float[] src = w.toFloatArray();
        float[] out = new float[src.length];
        int axis = recurrent ? 0 : outAxis;
        int perGroup = rows / groups;
        for (int g = 0; g < groups; g++) {
            double[] m = new double[perGroup * k];
            for (int r = 0; r < perGroup; r++) {
                for (int j = 0; j < k; j++) {
                    m[r * k + j] = src[flat(axis, g * perGroup + r, j, rows, k)];
                }
            }
            int base = g * perGroup;
            boolean ok = Gptq.round(m, perGroup, k, h[g],
                    (r, j, v) -> grid.round(flat(axis, base + r, j, rows, k), v));
            if (!ok) {
                return null;
            }
            for (int r = 0; r < perGroup; r++) {
                for (int j = 0; j < k; j++) {
                    out[flat(axis, g * perGroup + r, j, rows, k)] = (float) m[r * k + j];
                }
            }
        }
        return Tensor.of(out, s);
    }

    private static int flat(int outAxis, int row, int j, int rows, int k) {
        return outAxis == 0 ? row * k + j : j * rows + row;
    }
}
