package dev.hedge.converter.eval;

import dev.hedge.ir.Node;
import dev.hedge.kernels.RunContext;
import dev.hedge.runtime.Tensor;

/** Multiply-accumulates of one run of a layer node, from the shapes it actually ran with. */
public final class Macs {

    private Macs() {
    }

    /** MACs of the node's last run, or -1 for ops that are not layers. */
    public static long of(Node n, RunContext ctx) {
        Tensor y = ctx.output(0);
        switch (n.op()) {
            case Conv: case ConvInteger: case QLinearConv: {
                Tensor w = ctx.input(n.op() == dev.hedge.ops.Op.QLinearConv ? 3 : 1);
                return (long) y.elementCount() * (w.elementCount() / w.dim(0));
            }
            case ConvTranspose: {
                Tensor x = ctx.input(0);
                Tensor w = ctx.input(1);
                return (long) x.elementCount() * (w.elementCount() / w.dim(0));
            }
            case Gemm: {
                Tensor a = ctx.input(0);
                int k = n.intAttr("transA") != 0 ? a.dim(0) : a.dim(1);
                return (long) y.elementCount() * k;
            }
            case MatMul: case MatMulInteger: case QLinearMatMul: {
                Tensor a = ctx.input(0);
                return (long) y.elementCount() * a.dim(-1);
            }
            case LSTM: case GRU: case RNN: {
                Tensor x = ctx.input(0);
                Tensor w = ctx.input(1);
                Tensor r = ctx.input(2);
                boolean batchFirst = n.intAttr("layout") != 0;
                long steps = batchFirst ? x.dim(1) : x.dim(0);
                long batch = batchFirst ? x.dim(0) : x.dim(1);
                return steps * batch * ((long) w.elementCount() + r.elementCount());
            }
            default:
                return -1;
        }
    }
}
