package dev.hedge.kernels.cpu;

import dev.hedge.ir.Node;
import dev.hedge.kernels.Kernel;
import dev.hedge.kernels.PrepareContext;
import dev.hedge.kernels.RunContext;
import dev.hedge.kernels.ref.quant.QFixed;
import dev.hedge.kernels.util.Shapes;
import dev.hedge.runtime.DType;
import dev.hedge.runtime.UnsupportedModelException;
import java.util.Arrays;

/**
 * QLinearGlobalAveragePool on UINT8 / INT8 NCHW tensors ({@code hk_qelt.h}): an integer sum per plane (vpsadbw on
 * x86), then the reference's fixed-point division and requantization ({@link QFixed}), exactly.
 */
final class QGlobalAvgKernel implements Kernel {

    private final Node node;
    private final int isa;
    private QFixed.Average p;
    private int planes;
    private int size;

    QGlobalAvgKernel(Node node, int isa) {
        this.node = node;
        this.isa = isa;
    }

    @Override
    public void prepare(PrepareContext ctx) {
        int[] xs = ctx.inputShape(0);
        if (xs.length < 3) {
            throw new UnsupportedModelException(node.describe() + ": input " + Arrays.toString(xs)
                    + " has no spatial axes");
        }
        planes = Math.multiplyExact(xs[0], xs[1]);
        size = Shapes.product(xs, 2, xs.length);
        if (planes == 0 || size == 0 || size >= QFixed.MAX_WINDOW) {
            throw new UnsupportedModelException(node.describe() + ": planes of " + size
                    + " elements are left to the reference backend");
        }
        p = QFixed.average(ctx, node, size, size);
        int[] out = xs.clone();
        Arrays.fill(out, 2, out.length, 1);
        ctx.setOutput(0, p.type(), out);
    }

    @Override
    public void run(RunContext ctx) {
        QFixed.Average q = p;
        Native.qGlobalAverage(isa, q.type() == DType.INT8, Staging.direct(ctx.input(0), 0), planes, size,
                q.mult()[0], q.shift()[0], q.zx(), q.zy(), q.lo(), q.hi(), ctx.output(0).data());
    }
}
