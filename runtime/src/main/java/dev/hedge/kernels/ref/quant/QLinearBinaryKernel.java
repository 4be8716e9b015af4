package dev.hedge.kernels.ref.quant;

import dev.hedge.ir.Node;
import dev.hedge.kernels.Kernel;
import dev.hedge.kernels.PrepareContext;
import dev.hedge.kernels.RunContext;
import dev.hedge.kernels.util.BroadcastIndex;
import dev.hedge.kernels.util.Shapes;
import dev.hedge.ops.Op;
import dev.hedge.runtime.DType;
import java.nio.ByteBuffer;

/**
 * QLinearAdd and QLinearMul on UINT8 or INT8 (the zero points' type, shared by A, B and C) with numpy
 * broadcasting and an optional fused Relu / Clip, computed in fixed point as {@link QFixed} defines.
 */
public final class QLinearBinaryKernel implements Kernel {

    private final Node node;
    private final boolean mul;
    private QFixed.Binary p;
    private BroadcastIndex index;
    private boolean unsigned;

    public QLinearBinaryKernel(Node node) {
        this.node = node;
        this.mul = node.op() == Op.QLinearMul;
    }

    @Override
    public void prepare(PrepareContext ctx) {
        int[] as = ctx.inputShape(0);
        int[] bs = ctx.inputShape(3);
        int[] out = Shapes.broadcast(as, bs);
        p = QFixed.binary(ctx, node, mul);
        unsigned = p.type() == DType.UINT8;
        index = new BroadcastIndex(out, as, bs);
        ctx.setOutput(0, p.type(), out);
    }

    @Override
    public void run(RunContext ctx) {
        ByteBuffer a = ctx.input(0).data();
        ByteBuffer b = ctx.input(3).data();
        ByteBuffer y = ctx.output(0).data();
        int inner = index.inner();
        int sa = index.innerStride(0);
        int sb = index.innerStride(1);
        QFixed.Binary q = p;
        for (int row = 0, o = 0; row < index.outer(); row++) {
            int ia = index.rowOffset(0, row);
            int ib = index.rowOffset(1, row);
            for (int j = 0; j < inner; j++, o++, ia += sa, ib += sb) {
                int va = QTypes.get8(a, ia, unsigned);
                int vb = QTypes.get8(b, ib, unsigned);
                y.put(o, (byte) (mul ? q.mul(va, vb) : q.add(va, vb)));
            }
        }
    }
}
