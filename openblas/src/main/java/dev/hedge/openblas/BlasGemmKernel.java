package dev.hedge.openblas;

import dev.hedge.ir.Node;
import dev.hedge.kernels.Kernel;
import dev.hedge.kernels.PrepareContext;
import dev.hedge.kernels.RunContext;
import dev.hedge.kernels.util.FusedActivation;
import dev.hedge.kernels.util.Tiles;
import dev.hedge.kernels.util.Shapes;
import dev.hedge.runtime.DType;
import dev.hedge.runtime.Tensor;
import java.nio.ByteBuffer;
import java.util.Arrays;

/**
 * Gemm, {@code Y = act(alpha * op(A) * op(B) + beta * C)}, as one sgemm per output tile. A constant B is used
 * in place (transposed or not: OpenBLAS reads either layout), so fully-connected weights stay in the
 * memory-mapped file. A constant C is broadcast and scaled by beta once at prepare and added with the
 * activation as each tile is finished; a computed C is broadcast into Y before the products (beta 1).
 */
final class BlasGemmKernel implements Kernel, RunContext.TileTask {

    private static final int A = 0;
    private static final int B = 1;
    private static final int Y = 2;

    private final Node node;
    private final FusedActivation act;
    private boolean ta;
    private boolean tb;
    private float alpha;
    private float beta;
    private int m;
    private int n;
    private int k;
    private Operands.Constant bConst;
    /** beta * C broadcast to {@code cRowCount x n} (1 or m rows), when C is a constant. */
    private float[] cRows;
    private int cRowCount;
    /** C computed at run time: its shape, broadcast into Y before the products. */
    private int[] cShape;
    private Tiles tiling;

    BlasGemmKernel(Node node) {
        this.node = node;
        this.act = FusedActivation.of(node);
    }

    @Override
    public void prepare(PrepareContext ctx) {
        Operands.requireFloat(ctx, 0, "A");
        Operands.requireFloat(ctx, 1, "B");
        boolean hasC = ctx.hasInput(2);
        if (hasC) {
            Operands.requireFloat(ctx, 2, "C");
        }
        ta = node.intAttr("transA") != 0;
        tb = node.intAttr("transB") != 0;
        alpha = node.floatAttr("alpha");
        beta = node.floatAttr("beta");
        int[] as = ctx.inputShape(0);
        int[] bs = ctx.inputShape(1);
        if (as.length != 2 || bs.length != 2) {
            throw new IllegalArgumentException(node.describe() + ": A " + Arrays.toString(as) + " and B "
                    + Arrays.toString(bs) + " must be matrices");
        }
        m = ta ? as[1] : as[0];
        k = ta ? as[0] : as[1];
        int kb = tb ? bs[1] : bs[0];
        n = tb ? bs[0] : bs[1];
        if (k != kb) {
            throw new IllegalArgumentException(node.describe() + ": inner dimensions differ: op(A) is " + m + "x" + k
                    + ", op(B) is " + kb + "x" + n);
        }
        ctx.setOutput(0, DType.FLOAT32, m, n);
        cRows = null;
        cShape = null;
        if (hasC && beta != 0f) {
            int[] cs = ctx.inputShape(2);
            int[] bc;
            try {
                bc = Shapes.broadcast(cs, new int[] {m, n});
            } catch (IllegalArgumentException e) {
                bc = null;
            }
            if (cs.length > 2 || bc == null || bc[0] != m || bc[1] != n) {
                throw new IllegalArgumentException(node.describe() + ": C " + Arrays.toString(cs)
                        + " does not broadcast to [" + m + ", " + n + "]");
            }
            Tensor cv = ctx.isConstant(2) ? ctx.inputValue(2) : null;
            if (cv != null) {
                int[] st = Shapes.broadcastStrides(cs, new int[] {m, n});
                cRowCount = st[0] == 0 ? 1 : m;
                cRows = new float[cRowCount * n];
                for (int i = 0; i < cRowCount; i++) {
                    for (int j = 0; j < n; j++) {
                        cRows[i * n + j] = beta * cv.getFloat(i * st[0] + j * st[1]);
                    }
                }
            } else {
                cShape = cs;
            }
        }
        bConst = ctx.isConstant(1) && ctx.inputValue(1) != null ? new Operands.Constant(ctx.inputValue(1)) : null;
        if (bConst != null) {
            ctx.reportPackedBytes(bConst.copiedBytes);
        }
        tiling = new Tiles(m, n, k);
        ctx.requestScratch(Operands.HEADER);
    }

    @Override
    public void run(RunContext ctx) {
        ByteBuffer h = ctx.scratch();
        Tensor y = ctx.output(0);
        long yAddr = Blas.address(y.data());
        Operands.header(h, A, Operands.address(ctx.input(0), 0));
        Operands.header(h, B, bConst != null ? bConst.address : Operands.address(ctx.input(1), 1));
        Operands.header(h, Y, yAddr);
        if (cShape != null) {
            fillC(ctx.input(2), y);
        }
        ctx.parallelFor(tiling.count(), this);
    }

    /** Y = beta * C broadcast (C computed at run time; the products then add to it). */
    private void fillC(Tensor c, Tensor y) {
        int[] st = Shapes.broadcastStrides(cShape, new int[] {m, n});
        java.nio.FloatBuffer cb = c.floats();
        java.nio.FloatBuffer yb = y.floats();
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                yb.put(i * n + j, beta * cb.get(i * st[0] + j * st[1]));
            }
        }
    }

    @Override
    public void run(RunContext ctx, int tile, int worker) {
        ByteBuffer h = ctx.scratch();
        long a = Operands.header(h, A);
        long b = Operands.header(h, B);
        long y = Operands.header(h, Y);
        int m0 = tiling.m0(tile);
        int m1 = tiling.m1(tile);
        int n0 = tiling.n0(tile);
        int n1 = tiling.n1(tile);
        long yt = y + 4L * ((long) m0 * n + n0);
        float b0 = cShape != null ? 1f : 0f;
        if (k == 0) {
            if (cShape == null) {
                Rows.zero(y, n, m0, m1, n0, n1);
            }
        } else {
            long at = ta ? a + 4L * m0 : a + 4L * m0 * k;
            long bt = tb ? b + 4L * n0 * k : b + 4L * n0;
            Blas.gemm(ta, tb, m1 - m0, n1 - n0, k, alpha, at, Math.max(1, ta ? m : k), bt, Math.max(1, tb ? k : n),
                    b0, yt, Math.max(1, n));
        }
        if (cRows != null || !act.isNone()) {
            Rows.epilogue(y, n, m0, m1, n0, n1, null, 0, cRows, cRowCount, n, act);
        }
    }
}
