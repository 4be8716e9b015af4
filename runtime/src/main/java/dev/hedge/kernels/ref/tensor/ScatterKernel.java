package dev.hedge.kernels.ref.tensor;

import dev.hedge.ir.Node;
import dev.hedge.kernels.Kernel;
import dev.hedge.kernels.PrepareContext;
import dev.hedge.kernels.RunContext;
import dev.hedge.ops.Op;
import dev.hedge.runtime.DType;
import dev.hedge.runtime.Tensor;
import dev.hedge.runtime.UnsupportedModelException;
import java.nio.ByteBuffer;
import java.util.Arrays;

/**
 * ScatterND and ScatterElements: the output is a copy of the data with the updates written (or combined by
 * the reduction) at the indexed places, in index order, so duplicate indices apply one after the other.
 */
public final class ScatterKernel implements Kernel {

    private final Node node;
    private Reduction reduction;
    private DType dtype;
    private int bits;
    private GatherNDKernel.NdIndex ndIndex;
    private int inner;
    private ElementWalk walk;

    public ScatterKernel(Node node) {
        this.node = node;
    }

    @Override
    public void prepare(PrepareContext ctx) {
        int[] data = ctx.inputShape(0);
        int[] idx = ctx.inputShape(1);
        int[] upd = ctx.inputShape(2);
        dtype = ctx.inputType(0);
        bits = dtype.bits();
        if (ctx.inputType(2) != dtype) {
            throw new IllegalArgumentException("updates are " + ctx.inputType(2) + " but data is " + dtype);
        }
        reduction = Reduction.of(node, dtype);
        if (node.op() == Op.ScatterND) {
            if (ctx.inputType(1) != DType.INT64) {
                throw new UnsupportedModelException(node.describe() + ": indices must be INT64, got " + ctx.inputType(1));
            }
            ndIndex = new GatherNDKernel.NdIndex(data, idx, 0);
            int k = idx[idx.length - 1];
            int[] expected = new int[idx.length - 1 + data.length - k];
            System.arraycopy(idx, 0, expected, 0, idx.length - 1);
            System.arraycopy(data, k, expected, idx.length - 1, data.length - k);
            if (!Arrays.equals(expected, upd)) {
                throw new IllegalArgumentException("updates have shape " + Arrays.toString(upd) + ", expected "
                        + Arrays.toString(expected) + " for data " + Arrays.toString(data) + " and indices "
                        + Arrays.toString(idx));
            }
            inner = Prep.product(data, k, data.length);
        } else {
            Prep.requireIndexType(ctx, node, 1, "indices");
            if (idx.length != data.length || data.length == 0) {
                throw new IllegalArgumentException("indices " + Arrays.toString(idx) + " must have the rank of data "
                        + Arrays.toString(data) + " (at least 1)");
            }
            if (!Arrays.equals(idx, upd)) {
                throw new IllegalArgumentException("updates have shape " + Arrays.toString(upd)
                        + ", indices have " + Arrays.toString(idx));
            }
            int axis = Prep.axis(node.intAttr("axis"), data.length, "axis");
            walk = new ElementWalk(data, idx, axis, "indices");
        }
        ctx.setOutput(0, dtype, data);
        Prep.passQuant(ctx, 0, 0, a -> a);
    }

    @Override
    public void run(RunContext ctx) {
        ctx.input(0).copyTo(ctx.output(0));
        Tensor idx = ctx.input(1);
        ByteBuffer ib = idx.data();
        ByteBuffer ub = ctx.input(2).data();
        ByteBuffer ob = ctx.output(0).data();
        if (ndIndex != null) {
            int n = ndIndex.tuples();
            for (int t = 0; t < n; t++) {
                int off = ndIndex.offset(t, ib, node, 1);
                if (reduction == Reduction.NONE) {
                    Elems.copy(ub, t * inner, ob, off, inner, bits);
                } else {
                    for (int j = 0; j < inner; j++) {
                        reduction.apply(dtype, ob, off + j, ub, t * inner + j, bits);
                    }
                }
            }
            return;
        }
        boolean wide = idx.dtype() == DType.INT64;
        int n = walk.count();
        int len = walk.inner();
        for (int row = 0, i = 0; i < n; row++) {
            int base = walk.rowBase(row);
            for (int j = 0; j < len; j++, i++) {
                int off = walk.offset(base, j, ib, i, wide, node, 1);
                if (reduction == Reduction.NONE) {
                    Elems.copyOne(ub, i, ob, off, bits);
                } else {
                    reduction.apply(dtype, ob, off, ub, i, bits);
                }
            }
        }
    }
}
