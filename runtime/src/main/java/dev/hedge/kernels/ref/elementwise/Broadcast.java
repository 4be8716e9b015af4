package dev.hedge.kernels.ref.elementwise;

import dev.hedge.kernels.util.Shapes;
import dev.hedge.runtime.Tensor;
import java.util.Arrays;

/**
 * How each input of an elementwise node maps onto the output, decided at prepare time. Inputs with the
 * output's element count are read contiguously, single elements are repeated, and the rest are walked
 * row by row over a collapsed shape: output dimensions of size 1 are dropped and neighbours that every
 * input reads the same way (all contiguous, or all broadcast) are merged, so NCHW + C11 becomes three
 * dimensions and the inner row stays long.
 */
final class Broadcast {

    private enum Kind { SAME, SCALAR, WALK }

    private final int[] outShape;
    private final int size;
    private final Kind[] kinds;
    /** Collapsed dimensions except the last (row index decomposition), outermost first. */
    private final int[] outer;
    private final int inner;
    /** Per input: strides over {@link #outer}. */
    private final int[][] outerStrides;
    /** Per input: 1 or 0 along the inner dimension. */
    private final int[] innerStride;

    private Broadcast(int[] outShape, int[][] inputs) {
        this.outShape = outShape;
        this.size = Shapes.product(outShape);
        int k = inputs.length;
        int r = outShape.length;
        int[][] strides = new int[k][];
        for (int j = 0; j < k; j++) {
            strides[j] = Shapes.broadcastStrides(inputs[j], outShape);
        }
        int[] dims = new int[r];
        int[][] cs = new int[k][r];
        int m = 0;
        for (int d = 0; d < r; d++) {
            int len = outShape[d];
            if (len == 1) {
                continue;
            }
            boolean merge = m > 0;
            for (int j = 0; j < k && merge; j++) {
                int prev = cs[j][m - 1];
                int cur = strides[j][d];
                merge = prev == cur * len || (prev == 0 && cur == 0);
            }
            if (merge) {
                dims[m - 1] *= len;
                for (int j = 0; j < k; j++) {
                    cs[j][m - 1] = strides[j][d];
                }
            } else {
                dims[m] = len;
                for (int j = 0; j < k; j++) {
                    cs[j][m] = strides[j][d];
                }
                m++;
            }
        }
        this.kinds = new Kind[k];
        this.innerStride = new int[k];
        this.outerStrides = new int[k][];
        this.inner = m == 0 ? 1 : dims[m - 1];
        this.outer = Arrays.copyOf(dims, Math.max(0, m - 1));
        for (int j = 0; j < k; j++) {
            int n = Shapes.product(inputs[j]);
            kinds[j] = n == size ? Kind.SAME : n == 1 ? Kind.SCALAR : Kind.WALK;
            innerStride[j] = m == 0 ? 0 : cs[j][m - 1];
            outerStrides[j] = Arrays.copyOf(cs[j], Math.max(0, m - 1));
        }
    }

    /** Numpy (multidirectional) broadcasting of all inputs; throws when they are incompatible. */
    static Broadcast of(int[]... inputs) {
        return new Broadcast(Shapes.broadcast(inputs), inputs);
    }

    int[] outShape() {
        return outShape.clone();
    }

    int size() {
        return size;
    }

    /** Loads output elements {@code [start, start+n)} of input {@code k} into {@code dst[0..n)}. */
    void load(int k, Tensor t, int start, int n, Object dst) {
        switch (kinds[k]) {
            case SAME:
                Access.load(t, start, 1, dst, 0, n);
                return;
            case SCALAR:
                Access.load(t, 0, 0, dst, 0, n);
                return;
            default:
                int row = start / inner;
                int col = start - row * inner;
                int s = innerStride[k];
                int pos = 0;
                while (pos < n) {
                    int len = Math.min(inner - col, n - pos);
                    Access.load(t, rowOffset(k, row) + col * s, s, dst, pos, len);
                    pos += len;
                    col = 0;
                    row++;
                }
        }
    }

    private int rowOffset(int k, int row) {
        int[] st = outerStrides[k];
        int off = 0;
        for (int d = outer.length - 1; d >= 0; d--) {
            int dim = outer[d];
            int q = row / dim;
            off += (row - q * dim) * st[d];
            row = q;
        }
        return off;
    }
}
