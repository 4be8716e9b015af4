package dev.hedge.kernels.ref.linalg;

import dev.hedge.ir.Node;
import dev.hedge.kernels.Kernel;
import dev.hedge.kernels.PrepareContext;
import dev.hedge.kernels.RunContext;
import dev.hedge.kernels.util.FusedActivation;
import dev.hedge.kernels.util.ScratchArrays;
import dev.hedge.kernels.util.Tiles;
import dev.hedge.runtime.DType;
import dev.hedge.runtime.Tensor;
import java.nio.FloatBuffer;
import java.util.Arrays;

/**
 * Gemm: {@code Y = act(alpha * op(A) * op(B) + beta * C)}, C optional and unidirectionally broadcast to
 * {@code [M, N]}. A C that is constant per row (scalar, {@code [M, 1]}, ...)
 * becomes the GEMM's row bias; one with N columns is first written into Y, which the GEMM then adds to.
 * A constant B is packed once when that pays ({@link Sgemm#packingPays}). With beta 0, C is not read (as
 * BLAS: NaNs in C do not reach Y).
 *
 * <p>float32 runs in output tiles on the intra-op threads ({@link Tiles}: fixed by the shape, row tiles only
 * when B is packed); other types on the calling thread.
 *
 * <p>Scratch (per thread): slots 0, 1, 2 hold A, B and Y as floats for non-float32 types; slot 3 holds C
 * when it is not a constant.
 */
final class GemmKernel implements Kernel, RunContext.TileTask {

    private final Node node;
    private final FusedActivation act;
    private final boolean transA;
    private final boolean transB;
    private final float alpha;
    private final float beta;
    private DType dtype;
    private int m;
    private int n;
    private int k;
    private int lda;
    private int ldb;
    /** C as used: absent, per row (rows x 1 values, rows 1 or M), or full (rows x N, rows 1 or M). */
    private boolean hasC;
    private boolean cPerRow;
    private int cRows;
    private int cSize;
    /** beta * C, when C is a constant. */
    private float[] cScaled;
    private Sgemm.PackedB packedB;
    private Tiles tiles;

    GemmKernel(Node node) {
        this.node = node;
        this.act = FusedActivation.of(node);
        this.transA = node.intAttr("transA") != 0;
        this.transB = node.intAttr("transB") != 0;
        this.alpha = node.floatAttr("alpha");
        this.beta = node.floatAttr("beta");
    }

    @Override
    public void prepare(PrepareContext ctx) {
        dtype = ctx.inputType(0);
        FloatData.require(node, "input A", dtype);
        for (int i = 1; i < 3; i++) {
            if (ctx.hasInput(i) && ctx.inputType(i) != dtype) {
                throw new IllegalArgumentException("input " + i + " is " + ctx.inputType(i)
                        + ", input A is " + dtype);
            }
        }
        int[] a = ctx.inputShape(0);
        int[] b = ctx.inputShape(1);
        if (a.length != 2 || b.length != 2) {
            throw new IllegalArgumentException("A " + Arrays.toString(a) + " and B "
                    + Arrays.toString(b) + " must both be 2-D");
        }
        m = transA ? a[1] : a[0];
        k = transA ? a[0] : a[1];
        int kb = transB ? b[1] : b[0];
        n = transB ? b[0] : b[1];
        if (k != kb) {
            throw new IllegalArgumentException("inner dimensions differ: op(A) is " + m + "x" + k
                    + ", op(B) is " + kb + "x" + n + " (A " + Arrays.toString(a) + " transA=" + (transA ? 1 : 0)
                    + ", B " + Arrays.toString(b) + " transB=" + (transB ? 1 : 0) + ")");
        }
        lda = Math.max(1, a[1]);
        ldb = Math.max(1, b[1]);
        hasC = ctx.hasInput(2) && beta != 0f;
        if (ctx.hasInput(2)) {
            int[] c = ctx.inputShape(2);
            if (c.length > 2) {
                throw new IllegalArgumentException("C " + Arrays.toString(c)
                        + " has more than 2 dimensions");
            }
            int cm = c.length == 2 ? c[0] : 1;
            int cn = c.length >= 1 ? c[c.length - 1] : 1;
            if ((cm != 1 && cm != m) || (cn != 1 && cn != n)) {
                throw new IllegalArgumentException("C " + Arrays.toString(c)
                        + " cannot be broadcast to [" + m + ", " + n + "]");
            }
            cPerRow = cn == 1;
            cRows = cm;
            cSize = cm * cn;
            Tensor cv = hasC && ctx.isConstant(2) ? ctx.inputValue(2) : null;
            if (cv != null) {
                cScaled = new float[cPerRow ? m : cSize];
                scaleC(FloatData.toArray(cv), cScaled, 0);
            }
        }
        ctx.setOutput(0, dtype, m, n);
        Tensor bv = ctx.isConstant(1) && Sgemm.packingPays(m, n) ? ctx.inputValue(1) : null;
        if (bv != null) {
            packedB = Sgemm.pack(transB, k, n, FloatData.toArray(bv), null, 0, ldb);
            ctx.reportPackedBytes(packedB.bytes());
        }
        if (cScaled != null) {
            ctx.reportPackedBytes(4L * cScaled.length);
        }
        tiles = new Tiles(m, n, k, packedB == null, Integer.MAX_VALUE);
    }

    /** {@code dst[dstOff..]} = beta * C from {@code c[0..cSize)}, a per-row C expanded to one value per row. */
    private void scaleC(float[] c, float[] dst, int dstOff) {
        if (cPerRow) {
            for (int i = 0; i < m; i++) {
                dst[dstOff + i] = beta * c[cRows == 1 ? 0 : i];
            }
        } else {
            for (int i = 0; i < cSize; i++) {
                dst[dstOff + i] = beta * c[i];
            }
        }
    }

    /** beta * C as used: the constant, or read into this thread's slot 3 (from {@link #cOffset()} there). */
    private float[] scaledC(RunContext ctx) {
        if (!hasC || cScaled != null) {
            return cScaled;
        }
        // Raw C first, beta * C after it in the same array.
        float[] cv = ScratchArrays.floats(3, cSize + (cPerRow ? m : cSize));
        FloatData.read(ctx.input(2), 0, cv, 0, cSize);
        scaleC(cv, cv, cSize);
        return cv;
    }

    private int cOffset() {
        return hasC && cScaled == null ? cSize : 0;
    }

    @Override
    public void run(RunContext ctx) {
        if (dtype == DType.FLOAT32) {
            ctx.parallelFor(tiles.count(), this);
            return;
        }
        // other float types: converted to float arrays, on the calling thread
        Tensor y = ctx.output(0);
        float[] cv = scaledC(ctx);
        int off = cOffset();
        float[] ya = ScratchArrays.floats(2, m * n);
        float gemmBeta = 0f;
        float[] rowBias = null;
        int rowBiasOff = 0;
        if (hasC) {
            if (cPerRow) {
                rowBias = cv;
                rowBiasOff = off;
            } else {
                gemmBeta = 1f;
                for (int i = 0; i < m; i++) {
                    System.arraycopy(cv, off + (cRows == 1 ? 0 : i * n), ya, i * n, n);
                }
            }
        }
        float[] aa = ScratchArrays.floats(0, m * k);
        FloatData.read(ctx.input(0), 0, aa, 0, m * k);
        if (packedB != null) {
            Sgemm.sgemm(transA, m, alpha, aa, null, 0, lda, packedB, gemmBeta, ya, null, 0, Math.max(1, n),
                    rowBias, rowBiasOff, act);
        } else {
            float[] ba = ScratchArrays.floats(1, k * n);
            FloatData.read(ctx.input(1), 0, ba, 0, k * n);
            Sgemm.sgemm(transA, transB, m, n, k, alpha, aa, null, 0, lda, ba, null, 0, ldb, gemmBeta, ya, null, 0,
                    Math.max(1, n), rowBias, rowBiasOff, act);
        }
        FloatData.write(ya, 0, y, 0, m * n);
    }

    /** One float32 tile: rows [m0, m1), columns [n0, n1) of Y. */
    @Override
    public void run(RunContext ctx, int tile, int worker) {
        int m0 = tiles.m0(tile);
        int mt = tiles.m1(tile) - m0;
        int n0 = tiles.n0(tile);
        int nt = tiles.n1(tile) - n0;
        if (mt <= 0 || nt <= 0) {
            return;
        }
        FloatBuffer yb = ctx.output(0).floats();
        float[] cv = scaledC(ctx);
        int off = cOffset();
        float gemmBeta = 0f;
        float[] rowBias = null;
        int rowBiasOff = 0;
        if (hasC) {
            if (cPerRow) {
                rowBias = cv;
                rowBiasOff = off + m0;
            } else {
                gemmBeta = 1f;
                for (int i = m0; i < m0 + mt; i++) {
                    yb.put(i * n + n0, cv, off + (cRows == 1 ? 0 : i * n) + n0, nt);
                }
            }
        }
        FloatBuffer ab = ctx.input(0).floats();
        int aOff = transA ? m0 : m0 * lda;
        int ldc = Math.max(1, n);
        if (packedB != null) {
            Sgemm.sgemm(transA, mt, alpha, null, ab, aOff, lda, packedB, gemmBeta, null, yb, m0 * n, ldc,
                    rowBias, rowBiasOff, act);
        } else {
            Sgemm.sgemm(transA, transB, mt, nt, k, alpha, null, ab, aOff, lda, null, ctx.input(1).floats(),
                    transB ? n0 * ldb : n0, ldb, gemmBeta, null, yb, m0 * n + n0, ldc, rowBias, rowBiasOff, act);
        }
    }
}
