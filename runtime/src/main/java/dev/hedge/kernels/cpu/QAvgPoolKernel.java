package dev.hedge.kernels.cpu;

import dev.hedge.ir.Node;
import dev.hedge.kernels.Kernel;
import dev.hedge.kernels.PrepareContext;
import dev.hedge.kernels.RunContext;
import dev.hedge.kernels.ref.quant.QFixed;
import dev.hedge.runtime.DType;
import dev.hedge.runtime.UnsupportedModelException;
import java.nio.ByteBuffer;
import java.util.Arrays;

/**
 * QLinearAveragePool on UINT8 / INT8 NCHW tensors with 1-D / 2-D windows ({@code hk_qelt.h}): integer window
 * sums and the reference's fixed-point division per divisor ({@link QFixed}), exactly; the divisors'
 * multipliers are tabulated once at prepare time.
 */
final class QAvgPoolKernel implements Kernel {

    private final Node node;
    private Geom g;
    private boolean countPad;
    private QFixed.Average p;
    private ByteBuffer table;

    QAvgPoolKernel(Node node) {
        this.node = node;
    }

    @Override
    public void prepare(PrepareContext ctx) {
        int[] xs = ctx.inputShape(0);
        if (xs.length != 3 && xs.length != 4) {
            throw new UnsupportedModelException(node.describe() + ": input " + Arrays.toString(xs)
                    + " is not NCW / NCHW");
        }
        g = Geom.of(node, xs, node.intsAttr("kernel_shape"), Math.multiplyExact(xs[0], xs[1]), true);
        countPad = node.intAttr("count_include_pad") != 0;
        long taps = Math.multiplyExact(g.kh, g.kw);
        if (taps >= QFixed.MAX_WINDOW) {
            throw new UnsupportedModelException(node.describe() + ": windows of " + taps
                    + " taps are left to the reference backend");
        }
        p = QFixed.average(ctx, node, 1, (int) taps);
        table = Native.allocate(12 * taps);
        for (int i = 0; i < taps; i++) {
            table.putLong(8 * i, p.mult()[i]);
            table.putInt((int) (8 * taps) + 4 * i, p.shift()[i]);
        }
        ctx.reportPackedBytes(table.capacity());
        ctx.setOutput(0, p.type(), g.outputShape(xs[0], xs[1], xs.length));
    }

    @Override
    public void run(RunContext ctx) {
        QFixed.Average q = p;
        Native.qAveragePool(q.type() == DType.INT8, Staging.direct(ctx.input(0), 0), g, countPad, table, q.zx(),
                q.zy(), q.lo(), q.hi(), ctx.output(0).data());
    }
}
