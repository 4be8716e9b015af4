package dev.hedge.kernels.ref.tensor;

import dev.hedge.ir.Node;
import dev.hedge.kernels.Kernel;
import dev.hedge.kernels.PrepareContext;
import dev.hedge.kernels.RunContext;
import dev.hedge.ops.Op;
import dev.hedge.runtime.Tensor;

/**
 * Shape (with start/end) and Size. Their values follow from the input shape, so prepare gives them with
 * {@code setOutputValue} and the node never runs in a static plan. {@link #run} writes the same values for
 * plans where the input shape is only known at run time.
 */
public final class ShapeKernel implements Kernel {

    private final Node node;
    private long[] value;

    public ShapeKernel(Node node) {
        this.node = node;
    }

    @Override
    public void prepare(PrepareContext ctx) {
        int[] in = ctx.inputShape(0);
        Tensor t;
        if (node.op() == Op.Size) {
            long n = 1;
            for (int d : in) {
                n *= d;
            }
            value = new long[] {n};
            t = Tensor.of(value, new int[0]);
        } else {
            int r = in.length;
            int start = clampAxis(node.intAttr("start"), r);
            int end = node.hasAttr("end") ? clampAxis(node.intAttr("end"), r) : r;
            int n = Math.max(0, end - start);
            value = new long[n];
            for (int i = 0; i < n; i++) {
                value[i] = in[start + i];
            }
            t = Tensor.of(value, n);
        }
        ctx.setOutputValue(0, t);
    }

    /** ONNX Shape clamps start and end into [0, rank] after adding rank to negative values. */
    private static int clampAxis(long v, int rank) {
        long a = v < 0 ? v + rank : v;
        return (int) Math.max(0, Math.min(rank, a));
    }

    @Override
    public void run(RunContext ctx) {
        Tensor out = ctx.output(0);
        for (int i = 0; i < value.length; i++) {
            out.data().putLong(i * 8, value[i]);
        }
    }
}
