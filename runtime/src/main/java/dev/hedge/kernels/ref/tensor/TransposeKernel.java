package dev.hedge.kernels.ref.tensor;

import dev.hedge.ir.Node;
import dev.hedge.kernels.Kernel;
import dev.hedge.kernels.PrepareContext;
import dev.hedge.kernels.RunContext;
import java.util.Arrays;

/** Transpose: a strided copy (contiguous runs where the inner axis stays, a blocked 2-D loop otherwise). */
public final class TransposeKernel implements Kernel {

    private final Node node;
    private StridedCopy copy;

    public TransposeKernel(Node node) {
        this.node = node;
    }

    @Override
    public void prepare(PrepareContext ctx) {
        int[] in = ctx.inputShape(0);
        int r = in.length;
        long[] p = node.intsAttr("perm");
        int[] perm = new int[r];
        if (p == null) {
            for (int i = 0; i < r; i++) {
                perm[i] = r - 1 - i;
            }
        } else {
            if (p.length != r) {
                throw new IllegalArgumentException("perm " + Arrays.toString(p) + " has " + p.length
                        + " entries for an input of rank " + r);
            }
            boolean[] seen = new boolean[r];
            for (int i = 0; i < r; i++) {
                int a = Prep.axis(p[i], r, "perm entry");
                if (seen[a]) {
                    throw new IllegalArgumentException("perm " + Arrays.toString(p) + " is not a permutation");
                }
                seen[a] = true;
                perm[i] = a;
            }
        }
        int[] out = new int[r];
        int[] inStrides = StridedCopy.strides(in);
        int[] srcStrides = new int[r];
        for (int i = 0; i < r; i++) {
            out[i] = in[perm[i]];
            srcStrides[i] = inStrides[perm[i]];
        }
        copy = new StridedCopy(out, srcStrides, 0, StridedCopy.strides(out), 0, ctx.inputType(0).bits());
        ctx.setOutput(0, ctx.inputType(0), out);
        Prep.passQuant(ctx, 0, 0, a -> {
            for (int i = 0; i < r; i++) {
                if (perm[i] == a) {
                    return i;
                }
            }
            return -1;
        });
    }

    @Override
    public void run(RunContext ctx) {
        copy.run(ctx.input(0).data(), ctx.output(0).data());
    }
}
