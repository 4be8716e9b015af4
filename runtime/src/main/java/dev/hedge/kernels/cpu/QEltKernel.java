package dev.hedge.kernels.cpu;

import dev.hedge.ir.Node;
import dev.hedge.kernels.Kernel;
import dev.hedge.kernels.PrepareContext;
import dev.hedge.kernels.RunContext;
import dev.hedge.kernels.ref.quant.QFixed;
import dev.hedge.kernels.util.Shapes;
import dev.hedge.kernels.util.Tiles;
import dev.hedge.ops.Op;
import dev.hedge.runtime.DType;
import dev.hedge.runtime.Tensor;
import dev.hedge.runtime.UnsupportedModelException;
import java.util.Arrays;

/**
 * QLinearAdd / QLinearMul on UINT8 / INT8 ({@code hk_qelt.h}), exactly the reference's fixed point
 * ({@link QFixed}): operands of one shape (residual connections), or one operand broadcast as a scalar or a
 * contiguous block of axes (a per-channel vector such as {@code [1, C, 1, 1]}). Other broadcasts stay on the
 * reference backend. Fixed-size chunks are split over the intra-op threads.
 */
final class QEltKernel implements Kernel, RunContext.TileTask {

    /** Elements per tile. */
    private static final int CHUNK = 1 << 16;

    private final Node node;
    private final int isa;
    private final boolean mul;
    private Layout layout;
    private QFixed.Binary p;
    private int n;
    private int tiles;

    QEltKernel(Node node, int isa) {
        this.node = node;
        this.isa = isa;
        this.mul = node.op() == Op.QLinearMul;
    }

    /**
     * How the operands pair up: {@code swap} when input B is the full one; the other holds every element
     * ({@code full}) or {@code mid} values, value {@code (i / inner) % mid} pairing with output element i.
     */
    record Layout(boolean swap, boolean full, long mid, long inner) {

        /** The layout of operands of these shapes, or null when the native kernel does not take them. */
        static Layout of(int[] a, int[] b) {
            int[] out;
            try {
                out = Shapes.broadcast(a, b);
            } catch (IllegalArgumentException e) {
                return null;
            }
            long total = Tensor.elementCount(out);
            boolean swap = Tensor.elementCount(a) != total;
            int[] other = swap ? a : b;
            if (swap && Tensor.elementCount(b) != total) {
                return null;
            }
            if (Tensor.elementCount(other) == total) {
                return new Layout(swap, true, total, 1);
            }
            int off = out.length - other.length;
            int first = -1;
            int last = -1;
            for (int d = 0; d < other.length; d++) {
                if (other[d] != 1) {
                    if (first < 0) {
                        first = d + off;
                    } else if (last != d + off - 1) {
                        return null;
                    }
                    last = d + off;
                }
            }
            if (first < 0) {
                return new Layout(swap, false, 1, Math.max(1, total));
            }
            return new Layout(swap, false, Shapes.product(out, first, last + 1),
                    Shapes.product(out, last + 1, out.length));
        }
    }

    @Override
    public void prepare(PrepareContext ctx) {
        int[] as = ctx.inputShape(0);
        int[] bs = ctx.inputShape(3);
        layout = Layout.of(as, bs);
        if (layout == null) {
            throw new UnsupportedModelException(node.describe() + ": operands " + Arrays.toString(as) + " and "
                    + Arrays.toString(bs) + " broadcast in a way the native kernel does not take");
        }
        QFixed.Binary q = QFixed.binary(ctx, node, mul);
        if (q.lo() > q.hi()) {
            throw new UnsupportedModelException(node.describe() + ": empty clamp range; the reference backend runs it");
        }
        // The kernel's operand a is the full one: swap the parameters with the operands.
        if (!layout.swap()) {
            p = q;
        } else if (mul) {
            p = new QFixed.Binary(q.type(), q.ma(), 0, q.shift(), q.zb(), q.za(), q.zc(), q.lo(), q.hi());
        } else {
            p = new QFixed.Binary(q.type(), q.mb(), q.ma(), q.shift(), q.zb(), q.za(), q.zc(), q.lo(), q.hi());
        }
        int[] out = Shapes.broadcast(as, bs);
        n = Tensor.elementCount(out);
        ctx.setOutput(0, q.type(), out);
        tiles = Math.max(1, Tiles.ceilDiv(n, CHUNK));
    }

    @Override
    public void run(RunContext ctx) {
        if (n > 0) {
            ctx.parallelFor(tiles, this);
        }
    }

    @Override
    public void run(RunContext ctx, int tile, int worker) {
        long i0 = (long) tile * CHUNK;
        long len = Math.min(n, i0 + CHUNK) - i0;
        int ia = layout.swap() ? 3 : 0;
        QFixed.Binary q = p;
        Native.qelt(isa, mul, q.type() == DType.INT8, Staging.direct(ctx.input(ia), 0),
                Staging.direct(ctx.input(3 - ia), 1), layout.full(), layout.mid(), layout.inner(), ctx.output(0).data(),
                n, i0, len, q.ma(), q.mb(), q.shift(), q.za(), q.zb(), q.zc(), q.lo(), q.hi());
    }
}
