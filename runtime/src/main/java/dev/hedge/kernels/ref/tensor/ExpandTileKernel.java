package dev.hedge.kernels.ref.tensor;

import dev.hedge.ir.Node;
import dev.hedge.kernels.Kernel;
import dev.hedge.kernels.PrepareContext;
import dev.hedge.kernels.RunContext;
import dev.hedge.kernels.util.Shapes;
import dev.hedge.ops.Op;
import java.util.Arrays;

/**
 * Expand (bidirectional broadcast to a shape) and Tile (repeat along each axis). Both are strided copies:
 * Expand reads broadcast axes with stride 0; Tile views the output as [repeat, dim] pairs per axis.
 */
public final class ExpandTileKernel implements Kernel {

    private final Node node;
    private StridedCopy copy;

    public ExpandTileKernel(Node node) {
        this.node = node;
    }

    @Override
    public void prepare(PrepareContext ctx) {
        int[] in = ctx.inputShape(0);
        int bits = ctx.inputType(0).bits();
        int[] out;
        if (node.op() == Op.Expand) {
            long[] s = Prep.ints(ctx, 1, "shape");
            int[] shape = new int[s.length];
            for (int i = 0; i < s.length; i++) {
                shape[i] = Prep.toDim(s[i], "shape entry");
            }
            out = Shapes.broadcast(in, shape);
            Prep.product(out, 0, out.length);
            copy = new StridedCopy(out, Shapes.broadcastStrides(in, out), 0, StridedCopy.strides(out), 0, bits);
            int shift = out.length - in.length;
            Prep.passQuant(ctx, 0, 0, a -> in[a] == out[a + shift] ? a + shift : -1);
        } else {
            long[] reps = Prep.ints(ctx, 1, "repeats");
            int r = in.length;
            if (reps.length != r) {
                throw new IllegalArgumentException("repeats " + Arrays.toString(reps) + " has " + reps.length
                        + " entries for an input of rank " + r);
            }
            out = new int[r];
            int[] view = new int[2 * r];
            int[] src = new int[2 * r];
            int[] inStrides = StridedCopy.strides(in);
            for (int a = 0; a < r; a++) {
                int rep = Prep.toDim(reps[a], "repeat count");
                out[a] = Prep.toDim((long) rep * in[a], "tiled dimension");
                view[2 * a] = rep;
                view[2 * a + 1] = in[a];
                src[2 * a] = 0;
                src[2 * a + 1] = inStrides[a];
            }
            Prep.product(out, 0, r);
            int[] outStrides = StridedCopy.strides(out);
            int[] dst = new int[2 * r];
            for (int a = 0; a < r; a++) {
                dst[2 * a] = in[a] * outStrides[a];
                dst[2 * a + 1] = outStrides[a];
            }
            copy = new StridedCopy(view, src, 0, dst, 0, bits);
            Prep.passQuant(ctx, 0, 0, a -> reps[a] == 1 ? a : -1);
        }
        ctx.setOutput(0, ctx.inputType(0), out);
    }

    @Override
    public void run(RunContext ctx) {
        copy.run(ctx.input(0).data(), ctx.output(0).data());
    }
}
