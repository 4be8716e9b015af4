package dev.hedge.kernels.ref.linalg;

import dev.hedge.ir.Node;
import dev.hedge.kernels.Kernel;
import dev.hedge.kernels.PrepareContext;
import dev.hedge.kernels.RunContext;
import dev.hedge.kernels.util.FusedActivation;
import dev.hedge.kernels.util.ScratchArrays;
import dev.hedge.kernels.util.Shapes;
import dev.hedge.kernels.util.Tiles;
import dev.hedge.runtime.DType;
import dev.hedge.runtime.Tensor;
import java.nio.FloatBuffer;
import java.util.Arrays;

/**
 * MatMul with numpy semantics: N-d operands are stacks of matrices whose batch dimensions broadcast; a 1-D
 * first operand is a row vector and a 1-D second operand a column vector, and that dimension is dropped
 * from the result. When B has no batch of its own and A's batches are contiguous, all of A is one tall
 * matrix and the product is a single GEMM. A constant B is packed once per batch matrix when that pays
 * ({@link Sgemm#packingPays}).
 *
 * <p>float32 runs in output tiles of each product on the intra-op threads ({@link Tiles}: fixed by the
 * shape, row tiles only when B is packed); other types on the calling thread.
 *
 * <p>Scratch for non-float32 types (per thread): slots 0, 1, 2 hold A, B and Y as floats.
 */
final class MatMulKernel implements Kernel, RunContext.TileTask {

    private final Node node;
    private final FusedActivation act;
    private DType dtype;
    private int m;
    private int n;
    private int k;
    private int aElems;
    private int bElems;
    private int yElems;
    /** Per output matrix: first element of its A and B matrices (empty when folded into one GEMM). */
    private int[] aOffsets;
    private int[] bOffsets;
    /** Rows of the single GEMM when folded, else -1. */
    private int foldedRows;
    /** Packed B per B batch matrix (index = bOffsets[i] / (k * n)), or null. */
    private Sgemm.PackedB[] packed;
    private Tiles tiles;

    MatMulKernel(Node node) {
        this.node = node;
        this.act = FusedActivation.of(node);
    }

    @Override
    public void prepare(PrepareContext ctx) {
        dtype = ctx.inputType(0);
        FloatData.require(node, "input A", dtype);
        if (ctx.inputType(1) != dtype) {
            throw new IllegalArgumentException("B is " + ctx.inputType(1) + ", A is " + dtype);
        }
        int[] a = ctx.inputShape(0);
        int[] b = ctx.inputShape(1);
        if (a.length == 0 || b.length == 0) {
            throw new IllegalArgumentException("operands must have rank >= 1, got A "
                    + Arrays.toString(a) + " and B " + Arrays.toString(b));
        }
        boolean aVec = a.length == 1;
        boolean bVec = b.length == 1;
        m = aVec ? 1 : a[a.length - 2];
        k = a[a.length - 1];
        int kb = bVec ? b[0] : b[b.length - 2];
        n = bVec ? 1 : b[b.length - 1];
        if (k != kb) {
            throw new IllegalArgumentException("inner dimensions differ: A "
                    + Arrays.toString(a) + " has " + k + " columns, B " + Arrays.toString(b) + " has " + kb + " rows");
        }
        int[] aBatch = aVec ? new int[0] : Arrays.copyOf(a, a.length - 2);
        int[] bBatch = bVec ? new int[0] : Arrays.copyOf(b, b.length - 2);
        int[] batch = Shapes.broadcast(aBatch, bBatch);
        int[] out = Arrays.copyOf(batch, batch.length + (aVec ? 0 : 1) + (bVec ? 0 : 1));
        int p = batch.length;
        if (!aVec) {
            out[p++] = m;
        }
        if (!bVec) {
            out[p] = n;
        }
        ctx.setOutput(0, dtype, out);
        aElems = Shapes.product(a);
        bElems = Shapes.product(b);
        yElems = Shapes.product(out);

        int batches = Shapes.product(batch);
        int bBatches = Shapes.product(bBatch);
        boolean aFull = Shapes.product(aBatch) == batches;
        if (bBatches == 1 && aFull) {
            foldedRows = Math.multiplyExact(batches, m);
            aOffsets = new int[0];
            bOffsets = new int[0];
        } else {
            foldedRows = -1;
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
        Tensor bv = ctx.isConstant(1) ? ctx.inputValue(1) : null;
        if (bv != null && k > 0 && n > 0 && Sgemm.packingPays(foldedRows >= 0 ? foldedRows : m, n)) {
            float[] bf = FloatData.toArray(bv);
            packed = new Sgemm.PackedB[bBatches];
            for (int i = 0; i < bBatches; i++) {
                packed[i] = Sgemm.pack(false, k, n, bf, null, i * k * n, n);
                ctx.reportPackedBytes(packed[i].bytes());
            }
        }
        tiles = new Tiles(foldedRows >= 0 ? foldedRows : m, n, k, packed == null, Integer.MAX_VALUE);
    }

    @Override
    public void run(RunContext ctx) {
        if (dtype == DType.FLOAT32) {
            ctx.parallelFor((foldedRows >= 0 ? 1 : aOffsets.length) * tiles.count(), this);
            return;
        }
        // other float types: converted to float arrays, on the calling thread
        Tensor y = ctx.output(0);
        float[] aa = ScratchArrays.floats(0, aElems);
        FloatData.read(ctx.input(0), 0, aa, 0, aElems);
        float[] ya = ScratchArrays.floats(2, yElems);
        float[] ba = null;
        if (packed == null) {
            ba = ScratchArrays.floats(1, bElems);
            FloatData.read(ctx.input(1), 0, ba, 0, bElems);
        }
        int lda = Math.max(1, k);
        int ldc = Math.max(1, n);
        if (foldedRows >= 0) {
            if (packed != null) {
                Sgemm.sgemm(false, foldedRows, 1f, aa, null, 0, lda, packed[0], 0f, ya, null, 0, ldc, null, 0, act);
            } else {
                Sgemm.sgemm(false, false, foldedRows, n, k, 1f, aa, null, 0, lda, ba, null, 0, ldc, 0f, ya, null, 0,
                        ldc, null, 0, act);
            }
        } else {
            int mn = m * n;
            for (int i = 0; i < aOffsets.length; i++) {
                if (packed != null) {
                    Sgemm.sgemm(false, m, 1f, aa, null, aOffsets[i], lda, packed[bOffsets[i] / (k * n)], 0f, ya, null,
                            i * mn, ldc, null, 0, act);
                } else {
                    Sgemm.sgemm(false, false, m, n, k, 1f, aa, null, aOffsets[i], lda, ba, null, bOffsets[i], ldc, 0f,
                            ya, null, i * mn, ldc, null, 0, act);
                }
            }
        }
        FloatData.write(ya, 0, y, 0, yElems);
    }

    /** One float32 tile: rows [m0, m1), columns [n0, n1) of one product (of the folded one, or of batch i). */
    @Override
    public void run(RunContext ctx, int tile, int worker) {
        int i = tile / tiles.count();
        int t = tile % tiles.count();
        int m0 = tiles.m0(t);
        int mt = tiles.m1(t) - m0;
        int n0 = tiles.n0(t);
        int nt = tiles.n1(t) - n0;
        if (mt <= 0 || nt <= 0) {
            return;
        }
        boolean folded = foldedRows >= 0;
        int lda = Math.max(1, k);
        int ldc = Math.max(1, n);
        int aBase = (folded ? 0 : aOffsets[i]) + m0 * k;
        int yBase = (folded ? 0 : i * m * n) + m0 * n;
        FloatBuffer ab = ctx.input(0).floats();
        FloatBuffer yb = ctx.output(0).floats();
        if (packed != null) {
            Sgemm.sgemm(false, mt, 1f, null, ab, aBase, lda, packed[folded ? 0 : bOffsets[i] / (k * n)], 0f, null, yb,
                    yBase, ldc, null, 0, act);
        } else {
            Sgemm.sgemm(false, false, mt, nt, k, 1f, null, ab, aBase, lda, null, ctx.input(1).floats(),
                    (folded ? 0 : bOffsets[i]) + n0, ldc, 0f, null, yb, yBase + n0, ldc, null, 0, act);
        }
    }
}
