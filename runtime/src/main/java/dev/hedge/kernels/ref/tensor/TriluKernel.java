package dev.hedge.kernels.ref.tensor;

import dev.hedge.ir.Node;
import dev.hedge.kernels.Kernel;
import dev.hedge.kernels.PrepareContext;
import dev.hedge.kernels.RunContext;
import dev.hedge.runtime.Tensor;
import java.nio.ByteBuffer;
import java.util.Arrays;

/** Trilu: keeps the upper (j - i >= k) or lower (j - i <= k) triangle of the last two axes, zeroes the rest. */
public final class TriluKernel implements Kernel {

    private final Node node;
    private boolean upper;
    private int rows;
    private int cols;
    private int batch;
    private int bits;

    public TriluKernel(Node node) {
        this.node = node;
    }

    @Override
    public void prepare(PrepareContext ctx) {
        int[] in = ctx.inputShape(0);
        if (in.length < 2) {
            throw new IllegalArgumentException("input must have rank >= 2, got " + Arrays.toString(in));
        }
        if (ctx.hasInput(1)) {
            int[] ks = ctx.inputShape(1);
            if (Prep.product(ks, 0, ks.length) != 1 || !ctx.inputType(1).isInteger()) {
                throw new IllegalArgumentException("k must be one integer, got " + ctx.inputType(1) + Arrays.toString(ks));
            }
        }
        upper = node.intAttr("upper") != 0;
        rows = in[in.length - 2];
        cols = in[in.length - 1];
        batch = Prep.product(in, 0, in.length - 2);
        bits = ctx.inputType(0).bits();
        ctx.setOutput(0, ctx.inputType(0), in);
        Prep.passQuant(ctx, 0, 0, a -> a);
    }

    @Override
    public void run(RunContext ctx) {
        Tensor kt = ctx.input(1);
        long bound = (long) rows + cols + 1;
        // beyond +-(rows + cols) every k means the same; clamping keeps i + k from overflowing
        long k = kt == null ? 0 : Math.max(-bound, Math.min(bound, kt.getLong(0)));
        ByteBuffer src = ctx.input(0).data();
        ByteBuffer dst = ctx.output(0).data();
        for (int m = 0; m < batch; m++) {
            for (int i = 0; i < rows; i++) {
                int row = (m * rows + i) * cols;
                // kept columns are [from, to)
                long from;
                long to;
                if (upper) {
                    from = Math.max(0, Math.min(cols, i + k));
                    to = cols;
                } else {
                    from = 0;
                    to = Math.max(0, Math.min(cols, i + k + 1));
                }
                Elems.fill(dst, row, (int) from, bits, 0);
                Elems.copy(src, row + (int) from, dst, row + (int) from, (int) (to - from), bits);
                Elems.fill(dst, row + (int) to, cols - (int) to, bits, 0);
            }
        }
    }
}
