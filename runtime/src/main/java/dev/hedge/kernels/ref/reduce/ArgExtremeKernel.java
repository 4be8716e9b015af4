package dev.hedge.kernels.ref.reduce;

import dev.hedge.ir.Node;
import dev.hedge.kernels.Kernel;
import dev.hedge.kernels.PrepareContext;
import dev.hedge.kernels.RunContext;
import dev.hedge.kernels.util.Shapes;
import dev.hedge.runtime.DType;
import dev.hedge.runtime.Tensor;
import dev.hedge.runtime.UnsupportedModelException;
import java.nio.ByteBuffer;

/**
 * ArgMax and ArgMin (INT64 output). Values are compared through order-preserving long keys, so every
 * numeric dtype compares exactly; a NaN wins (like numpy), ties go to the first index unless
 * {@code select_last_index}.
 */
public final class ArgExtremeKernel implements Kernel {

    private final Node node;
    private final boolean max;
    private final boolean keepdims;
    private final boolean last;

    private int outer;
    private int count;
    private int inner;

    public ArgExtremeKernel(Node node, boolean max) {
        this.node = node;
        this.max = max;
        this.keepdims = node.intAttr("keepdims") != 0;
        this.last = node.intAttr("select_last_index") != 0;
    }

    @Override
    public void prepare(PrepareContext ctx) {
        DType d = ctx.inputType(0);
        if (d == DType.BOOL || !Rows.numeric(d)) {
            throw new UnsupportedModelException(node.describe() + ": " + d + " input is not supported");
        }
        int[] shape = ctx.inputShape(0);
        int axis = Shapes.axis(node.intAttr("axis"), shape.length);
        outer = Shapes.product(shape, 0, axis);
        count = shape[axis];
        inner = Shapes.product(shape, axis + 1, shape.length);
        if (count == 0 && outer * (long) inner > 0) {
            throw new IllegalArgumentException("axis " + axis + " of input shape " + Shapes.str(shape)
                    + " is empty: there is no " + (max ? "maximum" : "minimum"));
        }
        int[] out = keepdims ? shape.clone() : new int[shape.length - 1];
        if (keepdims) {
            out[axis] = 1;
        } else {
            for (int i = 0, j = 0; i < shape.length; i++) {
                if (i != axis) {
                    out[j++] = shape[i];
                }
            }
        }
        ctx.setOutput(0, DType.INT64, out);
    }

    @Override
    public void run(RunContext ctx) {
        Tensor x = ctx.input(0);
        ByteBuffer y = ctx.output(0).data();
        if (count == 0) {
            return;
        }
        int w = Rows.tileWidth(count, inner);
        long[] keys = Rows.longs(0, count * w);
        long nanKey = max ? Long.MAX_VALUE : Long.MIN_VALUE;
        for (int a = 0; a < outer; a++) {
            for (int i0 = 0; i0 < inner; i0 += w) {
                int cw = Math.min(w, inner - i0);
                Rows.loadKeyColumns(x, a * count * inner + i0, inner, count, cw, keys, nanKey);
                for (int c = 0; c < cw; c++) {
                    int off = c * count;
                    int best = 0;
                    long bk = keys[off];
                    for (int k = 1; k < count; k++) {
                        long v = keys[off + k];
                        boolean better = max ? (last ? v >= bk : v > bk) : (last ? v <= bk : v < bk);
                        if (better) {
                            bk = v;
                            best = k;
                        }
                    }
                    y.putLong((a * inner + i0 + c) << 3, best);
                }
            }
        }
    }
}
