package dev.hedge.openblas;

import dev.hedge.ir.Node;
import dev.hedge.kernels.Kernel;
import dev.hedge.kernels.PrepareContext;
import dev.hedge.kernels.RunContext;
import dev.hedge.kernels.util.FusedActivation;
import dev.hedge.kernels.util.Tiles;
import dev.hedge.kernels.util.Shapes;
import dev.hedge.runtime.DType;
import java.nio.ByteBuffer;
import java.util.Arrays;

/**
 * MatMul with numpy semantics (batch dimensions broadcast, 1-D operands as row / column vectors), one
 * sgemm per output tile of each batch matrix. When B has no batch dimensions and A's batches are contiguous,
 * A is one tall matrix and the whole product is a single (tiled) GEMM. A constant B stays where it is.
 */
final class BlasMatMulKernel implements Kernel, RunContext.TileTask {

    private static final int A = 0;
    private static final int B = 1;
    private static final int Y = 2;

    private final Node node;
    private final FusedActivation act;
    /** Rows, inner and columns of each product (rows of the single GEMM when folded). */
    private int m;
    private int k;
    private int n;
    /** Per batch matrix: element offsets of its A and B matrices. */
    private int[] aOffsets;
    private int[] bOffsets;
    private Operands.Constant bConst;
    private Tiles tiling;

    BlasMatMulKernel(Node node) {
        this.node = node;
        this.act = FusedActivation.of(node);
    }

    @Override
    public void prepare(PrepareContext ctx) {
        Operands.requireFloat(ctx, 0, "A");
        Operands.requireFloat(ctx, 1, "B");
        int[] a = ctx.inputShape(0);
        int[] b = ctx.inputShape(1);
        if (a.length == 0 || b.length == 0) {
            throw new IllegalArgumentException(node.describe() + ": operands must have rank >= 1, got A "
                    + Arrays.toString(a) + " and B " + Arrays.toString(b));
        }
        boolean aVec = a.length == 1;
        boolean bVec = b.length == 1;
        int rows = aVec ? 1 : a[a.length - 2];
        k = a[a.length - 1];
        int kb = bVec ? b[0] : b[b.length - 2];
        n = bVec ? 1 : b[b.length - 1];
        if (k != kb) {
            throw new IllegalArgumentException(node.describe() + ": inner dimensions differ: A " + Arrays.toString(a)
                    + " has " + k + " columns, B " + Arrays.toString(b) + " has " + kb + " rows");
        }
        int[] aBatch = aVec ? new int[0] : Arrays.copyOf(a, a.length - 2);
        int[] bBatch = bVec ? new int[0] : Arrays.copyOf(b, b.length - 2);
        int[] batch;
        try {
            batch = Shapes.broadcast(aBatch, bBatch);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(node.describe() + ": batch dimensions of A " + Arrays.toString(a)
                    + " and B " + Arrays.toString(b) + " do not broadcast");
        }
        int[] out = Arrays.copyOf(batch, batch.length + (aVec ? 0 : 1) + (bVec ? 0 : 1));
        int p = batch.length;
        if (!aVec) {
            out[p++] = rows;
        }
        if (!bVec) {
            out[p] = n;
        }
        ctx.setOutput(0, DType.FLOAT32, out);
        int batches = Shapes.product(batch);
        if (Shapes.product(bBatch) == 1 && Shapes.product(aBatch) == batches) {
            m = Math.multiplyExact(batches, rows);
            aOffsets = new int[] {0};
            bOffsets = new int[] {0};
        } else {
            m = rows;
            aOffsets = new int[batches];
            bOffsets = new int[batches];
            int[] as = Shapes.broadcastStrides(aBatch, batch);
            int[] bs = Shapes.broadcastStrides(bBatch, batch);
            int[] idx = new int[batch.length];
            for (int i = 0; i < batches; i++) {
                long ao = 0;
                long bo = 0;
                for (int d = 0; d < batch.length; d++) {
                    ao += (long) idx[d] * as[d];
                    bo += (long) idx[d] * bs[d];
                }
                aOffsets[i] = Math.toIntExact(ao * m * k);
                bOffsets[i] = Math.toIntExact(bo * k * n);
                for (int d = batch.length - 1; d >= 0; d--) {
                    if (++idx[d] < batch[d]) {
                        break;
                    }
                    idx[d] = 0;
                }
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
        Operands.header(h, A, Operands.address(ctx.input(0), 0));
        Operands.header(h, B, bConst != null ? bConst.address : Operands.address(ctx.input(1), 1));
        Operands.header(h, Y, Blas.address(ctx.output(0).data()));
        ctx.parallelFor(aOffsets.length * tiling.count(), this);
    }

    @Override
    public void run(RunContext ctx, int tile, int worker) {
        ByteBuffer h = ctx.scratch();
        int per = tiling.count();
        int bi = tile / per;
        int t = tile % per;
        long y = Operands.header(h, Y) + 4L * bi * m * n;
        int m0 = tiling.m0(t);
        int m1 = tiling.m1(t);
        int n0 = tiling.n0(t);
        int n1 = tiling.n1(t);
        if (k == 0) {
            Rows.zero(y, n, m0, m1, n0, n1);
        } else {
            long a = Operands.header(h, A) + 4L * aOffsets[bi] + 4L * m0 * k;
            long b = Operands.header(h, B) + 4L * bOffsets[bi] + 4L * n0;
            Blas.gemm(false, false, m1 - m0, n1 - n0, k, 1f, a, k, b, Math.max(1, n), 0f,
                    y + 4L * ((long) m0 * n + n0), Math.max(1, n));
        }
        if (!act.isNone()) {
            Rows.epilogue(y, n, m0, m1, n0, n1, null, 0, null, 1, n, act);
        }
    }
}
