package dev.hedge.kernels.ref.tensor;

import dev.hedge.ir.Node;
import dev.hedge.kernels.Kernel;
import dev.hedge.kernels.PrepareContext;
import dev.hedge.kernels.RunContext;
import dev.hedge.runtime.DType;
import dev.hedge.runtime.Tensor;
import java.nio.ByteBuffer;
import java.util.Arrays;

/** GatherElements: out[i...] = data[i... with the axis coordinate replaced by indices[i...]]. */
public final class GatherElementsKernel implements Kernel {

    private final Node node;
    private ElementWalk walk;
    private int bits;

    public GatherElementsKernel(Node node) {
        this.node = node;
    }

    @Override
    public void prepare(PrepareContext ctx) {
        int[] data = ctx.inputShape(0);
        Prep.requireIndexType(ctx, node, 1, "indices");
        int[] idx = ctx.inputShape(1);
        if (idx.length != data.length || data.length == 0) {
            throw new IllegalArgumentException("indices " + Arrays.toString(idx) + " must have the rank of data "
                    + Arrays.toString(data) + " (at least 1)");
        }
        int axis = Prep.axis(node.intAttr("axis"), data.length, "axis");
        walk = new ElementWalk(data, idx, axis, "indices");
        bits = ctx.inputType(0).bits();
        ctx.setOutput(0, ctx.inputType(0), idx);
        Prep.passQuant(ctx, 0, 0, a -> a == axis ? -1 : a);
    }

    @Override
    public void run(RunContext ctx) {
        ByteBuffer src = ctx.input(0).data();
        Tensor idx = ctx.input(1);
        ByteBuffer ib = idx.data();
        boolean wide = idx.dtype() == DType.INT64;
        ByteBuffer dst = ctx.output(0).data();
        int n = walk.count();
        int inner = walk.inner();
        for (int row = 0, i = 0; i < n; row++) {
            int base = walk.rowBase(row);
            for (int j = 0; j < inner; j++, i++) {
                int off = walk.offset(base, j, ib, i, wide, node, 1);
                Elems.copyOne(src, off, dst, i, bits);
            }
        }
    }
}
