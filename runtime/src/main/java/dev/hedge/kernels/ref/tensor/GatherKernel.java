package dev.hedge.kernels.ref.tensor;

import dev.hedge.ir.Node;
import dev.hedge.kernels.Kernel;
import dev.hedge.kernels.PrepareContext;
import dev.hedge.kernels.RunContext;
import dev.hedge.runtime.DType;
import dev.hedge.runtime.Tensor;
import java.nio.ByteBuffer;

/** Gather along one axis: for each outer block and index, one copy of the inner block. */
public final class GatherKernel implements Kernel {

    private final Node node;
    private int axis;
    private int outer;
    private int axisDim;
    private int inner;
    private int count;
    private int bits;
    private int[] indexShape;

    public GatherKernel(Node node) {
        this.node = node;
    }

    @Override
    public void prepare(PrepareContext ctx) {
        int[] data = ctx.inputShape(0);
        Prep.requireIndexType(ctx, node, 1, "indices");
        indexShape = ctx.inputShape(1);
        int r = data.length;
        if (r == 0) {
            throw new IllegalArgumentException("data must have rank >= 1");
        }
        axis = Prep.axis(node.intAttr("axis"), r, "axis");
        int q = indexShape.length;
        int[] out = new int[r - 1 + q];
        System.arraycopy(data, 0, out, 0, axis);
        System.arraycopy(indexShape, 0, out, axis, q);
        System.arraycopy(data, axis + 1, out, axis + q, r - axis - 1);
        Prep.product(out, 0, out.length);
        outer = Prep.product(data, 0, axis);
        axisDim = data[axis];
        inner = Prep.product(data, axis + 1, r);
        count = Prep.product(indexShape, 0, q);
        DType t = ctx.inputType(0);
        bits = t.bits();
        ctx.setOutput(0, t, out);
        int ax = axis;
        Prep.passQuant(ctx, 0, 0, a -> a < ax ? a : a > ax ? a + q - 1 : -1);
    }

    @Override
    public void run(RunContext ctx) {
        ByteBuffer src = ctx.input(0).data();
        Tensor idx = ctx.input(1);
        ByteBuffer ib = idx.data();
        boolean wide = idx.dtype() == DType.INT64;
        ByteBuffer dst = ctx.output(0).data();
        // validate everything first, so no partial output is produced and empty outer blocks still check
        for (int j = 0; j < count; j++) {
            Indices.wrapped(ib, j, wide, axisDim, node, 1, indexShape, axis);
        }
        for (int o = 0; o < outer; o++) {
            int srcBlock = o * axisDim;
            int dstBlock = o * count;
            for (int j = 0; j < count; j++) {
                long v = Indices.get(ib, j, wide);
                int k = (int) (v < 0 ? v + axisDim : v);
                Elems.copy(src, (srcBlock + k) * inner, dst, (dstBlock + j) * inner, inner, bits);
            }
        }
    }
}
