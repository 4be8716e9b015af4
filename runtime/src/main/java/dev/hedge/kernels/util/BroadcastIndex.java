package dev.hedge.kernels.util;

/**
 * Precomputed walk over an output shape giving, for each output element, the flat offsets into up to
 * three broadcast inputs. Built at prepare time; {@link #offsets} fills caller arrays without allocating.
 * Inner-dimension runs are exposed so kernels can loop contiguously.
 */
public final class BroadcastIndex {

    private final int[] outShape;
    private final int[][] strides;
    private final int inner;
    private final int[] innerStride;
    private final int outer;

    /** {@code inputs} are the input shapes; {@code out} their broadcast shape. */
    public BroadcastIndex(int[] out, int[]... inputs) {
        this.outShape = out.clone();
        this.strides = new int[inputs.length][];
        for (int k = 0; k < inputs.length; k++) {
            strides[k] = Shapes.broadcastStrides(inputs[k], out);
        }
        this.inner = out.length == 0 ? 1 : out[out.length - 1];
        this.innerStride = new int[inputs.length];
        for (int k = 0; k < inputs.length; k++) {
            innerStride[k] = out.length == 0 ? 0 : strides[k][out.length - 1];
        }
        this.outer = inner == 0 ? 0 : Shapes.product(out) / inner;
    }

    /** Number of rows (all dims but the last). */
    public int outer() {
        return outer;
    }

    /** Length of the last dimension. */
    public int inner() {
        return inner;
    }

    /** Stride of input {@code k} along the last dimension (0 when broadcast, 1 when contiguous). */
    public int innerStride(int k) {
        return innerStride[k];
    }

    /** Start offset of input {@code k} for row {@code row}. */
    public int rowOffset(int k, int row) {
        int off = 0;
        int r = row;
        int[] st = strides[k];
        for (int d = outShape.length - 2; d >= 0; d--) {
            int dim = outShape[d];
            int idx = r % dim;
            r /= dim;
            off += idx * st[d];
        }
        return off;
    }
}
