package dev.hedge.kernels.ref.tensor;

import dev.hedge.ir.Node;
import dev.hedge.kernels.Kernel;
import dev.hedge.kernels.PrepareContext;
import dev.hedge.kernels.RunContext;
import dev.hedge.runtime.DType;
import dev.hedge.runtime.Tensor;
import dev.hedge.runtime.UnsupportedModelException;
import java.nio.ByteBuffer;
import java.util.Arrays;

/** GatherND with batch_dims: each index tuple selects one block of the data, copied whole. */
public final class GatherNDKernel implements Kernel {

    private final Node node;
    private NdIndex index;
    private int inner;
    private int bits;

    public GatherNDKernel(Node node) {
        this.node = node;
    }

    @Override
    public void prepare(PrepareContext ctx) {
        int[] data = ctx.inputShape(0);
        if (ctx.inputType(1) != DType.INT64) {
            throw new UnsupportedModelException(node.describe() + ": indices must be INT64, got " + ctx.inputType(1));
        }
        int[] idx = ctx.inputShape(1);
        long b = node.intAttr("batch_dims");
        index = new NdIndex(data, idx, b);
        int k = idx[idx.length - 1];
        int bd = (int) b;
        int[] out = new int[idx.length - 1 + data.length - bd - k];
        System.arraycopy(idx, 0, out, 0, idx.length - 1);
        System.arraycopy(data, bd + k, out, idx.length - 1, data.length - bd - k);
        Prep.product(out, 0, out.length);
        inner = Prep.product(data, bd + k, data.length);
        bits = ctx.inputType(0).bits();
        ctx.setOutput(0, ctx.inputType(0), out);
        Prep.passQuant(ctx, 0, 0, a -> a < bd ? a : a >= bd + k ? a - bd - k + idx.length - 1 : -1);
    }

    @Override
    public void run(RunContext ctx) {
        ByteBuffer src = ctx.input(0).data();
        Tensor idx = ctx.input(1);
        ByteBuffer dst = ctx.output(0).data();
        int n = index.tuples();
        for (int t = 0; t < n; t++) {
            int off = index.offset(t, idx.data(), node, 1);
            Elems.copy(src, off, dst, t * inner, inner, bits);
        }
    }

    /**
     * Shared by GatherND and ScatterND: the data offset selected by index tuple {@code t} (batch offset plus
     * the tuple's coordinates times the data strides), with range checks and negative wrap.
     */
    static final class NdIndex {
        private final int[] idxShape;
        private final int[] dataShape;
        private final int[] dataStrides;
        private final int batch;
        private final int k;
        private final int perBatch;
        private final int batchStride;
        private final int tuples;

        NdIndex(int[] data, int[] idx, long batchDims) {
            int r = data.length;
            int q = idx.length;
            if (q < 1) {
                throw new IllegalArgumentException("indices must have rank >= 1");
            }
            if (batchDims < 0 || batchDims >= Math.min(r, q)) {
                throw new IllegalArgumentException("batch_dims " + batchDims + " must be in [0, "
                        + Math.min(r, q) + ") for data rank " + r + " and indices rank " + q);
            }
            int b = (int) batchDims;
            for (int d = 0; d < b; d++) {
                if (data[d] != idx[d]) {
                    throw new IllegalArgumentException("batch dimension " + d + " differs: data "
                            + Arrays.toString(data) + ", indices " + Arrays.toString(idx));
                }
            }
            int kk = idx[q - 1];
            if (kk < 1 || kk > r - b) {
                throw new IllegalArgumentException("the last indices dimension (" + kk + ") must be in [1, "
                        + (r - b) + "] for data " + Arrays.toString(data) + " and batch_dims " + b);
            }
            this.idxShape = idx.clone();
            this.dataShape = data.clone();
            this.dataStrides = StridedCopy.strides(data);
            this.batch = b;
            this.k = kk;
            this.tuples = Prep.product(idx, 0, q - 1);
            this.perBatch = b == 0 ? tuples : Prep.product(idx, b, q - 1);
            this.batchStride = b == 0 ? 0 : dataStrides[b - 1];
        }

        int tuples() {
            return tuples;
        }

        int offset(int t, ByteBuffer ib, Node node, int input) {
            int off = perBatch == 0 ? 0 : (t / perBatch) * batchStride;
            int base = t * k;
            for (int j = 0; j < k; j++) {
                int dim = dataShape[batch + j];
                int v = Indices.wrapped(ib, base + j, true, dim, node, input, idxShape, batch + j);
                off += v * dataStrides[batch + j];
            }
            return off;
        }
    }
}
