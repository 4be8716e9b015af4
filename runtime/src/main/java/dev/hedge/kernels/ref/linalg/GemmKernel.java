package dev.hedge.kernels.ref.linalg;

import dev.hedge.ir.Node;
import dev.hedge.kernels.Kernel;
import dev.hedge.kernels.PrepareContext;
import dev.hedge.kernels.RunContext;
import dev.hedge.kernels.util.FusedActivation;
import dev.hedge.kernels.util.ScratchArrays;
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
 * <p>Scratch for non-float32 types (per thread): slots 0, 1, 2 hold A, B and Y as floats; slot 3 holds C
 * when it is not a constant.
 */
final class GemmKernel implements Kernel {

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
        }
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

    @Override
    public void run(RunContext ctx) {
        Tensor y = ctx.output(0);
        boolean f32 = dtype == DType.FLOAT32;
        float[] cv = cScaled;
        int off = 0;
        if (hasC && cv == null) {
            // Raw C first, beta * C after it in the same array.
            cv = ScratchArrays.floats(3, cSize + (cPerRow ? m : cSize));
            FloatData.read(ctx.input(2), 0, cv, 0, cSize);
            scaleC(cv, cv, cSize);
            off = cSize;
        }
        FloatBuffer yb = f32 ? y.floats() : null;
        float[] ya = f32 ? null : ScratchArrays.floats(2, m * n);
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
                    int src = off + (cRows == 1 ? 0 : i * n);
                    if (f32) {
                        yb.put(i * n, cv, src, n);
                    } else {
                        System.arraycopy(cv, src, ya, i * n, n);
                    }
                }
            }
        }
        float[] aa = null;
        FloatBuffer ab = null;
        if (f32) {
            ab = ctx.input(0).floats();
        } else {
            aa = ScratchArrays.floats(0, m * k);
            FloatData.read(ctx.input(0), 0, aa, 0, m * k);
        }
        if (packedB != null) {
            Sgemm.sgemm(transA, m, alpha, aa, ab, 0, lda, packedB, gemmBeta, ya, yb, 0, Math.max(1, n),
                    rowBias, rowBiasOff, act);
        } else {
            float[] ba = null;
            FloatBuffer bb = null;
            if (f32) {
                bb = ctx.input(1).floats();
            } else {
                ba = ScratchArrays.floats(1, k * n);
                FloatData.read(ctx.input(1), 0, ba, 0, k * n);
            }
            Sgemm.sgemm(transA, transB, m, n, k, alpha, aa, ab, 0, lda, ba, bb, 0, ldb, gemmBeta, ya, yb, 0,
                    Math.max(1, n), rowBias, rowBiasOff, act);
        }
        if (!f32) {
            FloatData.write(ya, 0, y, 0, m * n);
        }
    }
}
