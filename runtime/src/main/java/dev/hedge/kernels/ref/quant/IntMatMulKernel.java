package dev.hedge.kernels.ref.quant;

import dev.hedge.ir.Node;
import dev.hedge.kernels.Kernel;
import dev.hedge.kernels.PrepareContext;
import dev.hedge.kernels.RunContext;
import dev.hedge.kernels.util.FusedActivation;
import dev.hedge.kernels.util.ScratchArrays;
import dev.hedge.kernels.util.Shapes;
import dev.hedge.runtime.DType;
import dev.hedge.runtime.Tensor;
import dev.hedge.runtime.UnsupportedModelException;
import java.nio.ByteBuffer;
import java.util.Arrays;

/**
 * QLinearMatMul and MatMulInteger with numpy matmul shapes (1-D operands, broadcast batch dimensions):
 * {@code acc = sum_k (a - a_zp[row]) (b[k, col] - b_zp[col])} in int32, then the accumulator itself
 * (MatMulInteger) or, with the Hedge bias (optional 9th input, INT32 [N]) added, its requantization
 * ({@link Requant}) with {@code a_scale[row] * b_scale[col] / y_scale} (QLinearMatMul).
 *
 * <p>Zero points and scales of {@code a} are per tensor (one value), per row (M values) or per row of each
 * batch matrix ([..., M, 1]); those of {@code b} per tensor, per column (N values) or per column of each
 * batch matrix ([..., 1, N]). A constant {@code b} is packed once at prepare time. Scratch
 * ({@link ScratchArrays}, ints): slot 0 the A matrix, 1 a B matrix that is not constant, 2 the accumulators.
 */
public final class IntMatMulKernel implements Kernel {

    private final Node node;
    private final boolean qlinear;
    private final FusedActivation act;
    private final int ia;
    private final int iaz;
    private final int ib;
    private final int ibz;

    private int m;
    private int k;
    private int n;
    private int[] aBatch;
    private int[] bBatch;
    private int aMatrices;
    private int bMatrices;
    private boolean aUnsigned;
    private boolean bUnsigned;
    private DType outType;
    private int[][] packedB;
    private boolean hasBias;

    private IntMatMulKernel(Node node, boolean qlinear) {
        this.node = node;
        this.qlinear = qlinear;
        this.act = FusedActivation.of(node);
        this.ia = 0;
        this.iaz = 2;
        this.ib = qlinear ? 3 : 1;
        this.ibz = qlinear ? 5 : 3;
    }

    public static IntMatMulKernel qlinearMatMul(Node node) {
        return new IntMatMulKernel(node, true);
    }

    public static IntMatMulKernel matMulInteger(Node node) {
        return new IntMatMulKernel(node, false);
    }

    @Override
    public void prepare(PrepareContext ctx) {
        DType at = ctx.inputType(ia);
        DType bt = ctx.inputType(ib);
        QTypes.require8Bit(node, "input a", at);
        QTypes.require8Bit(node, "input b", bt);
        aUnsigned = at == DType.UINT8;
        bUnsigned = bt == DType.UINT8;
        int[] as = ctx.inputShape(ia);
        int[] bs = ctx.inputShape(ib);
        if (as.length == 0 || bs.length == 0) {
            throw new IllegalArgumentException("matmul operands must have rank >= 1, got "
                    + Arrays.toString(as) + " and " + Arrays.toString(bs));
        }
        int[] a2 = as.length == 1 ? new int[] {1, as[0]} : as;
        int[] b2 = bs.length == 1 ? new int[] {bs[0], 1} : bs;
        m = a2[a2.length - 2];
        k = a2[a2.length - 1];
        n = b2[b2.length - 1];
        if (b2[b2.length - 2] != k) {
            throw new IllegalArgumentException("shapes " + Arrays.toString(as) + " and "
                    + Arrays.toString(bs) + " do not agree on the inner dimension");
        }
        int[] aBatchShape = Arrays.copyOf(a2, a2.length - 2);
        int[] bBatchShape = Arrays.copyOf(b2, b2.length - 2);
        int[] batchShape = Shapes.broadcast(aBatchShape, bBatchShape);
        int batches = Shapes.product(batchShape);
        aMatrices = Shapes.product(aBatchShape);
        bMatrices = Shapes.product(bBatchShape);
        aBatch = batchIndex(aBatchShape, batchShape, batches);
        bBatch = batchIndex(bBatchShape, batchShape, batches);
        // a 1-D operand's unit dimension is dropped from the output
        int[] out = Arrays.copyOf(batchShape, batchShape.length + (as.length > 1 ? 1 : 0) + (bs.length > 1 ? 1 : 0));
        int r = batchShape.length;
        if (as.length > 1) {
            out[r++] = m;
        }
        if (bs.length > 1) {
            out[r] = n;
        }
        checkPerRow(ctx, iaz, "a_zero_point", at);
        checkPerCol(ctx, ibz, "b_zero_point", bt);
        if (qlinear) {
            Requant.activation(node);
            QTypes.requireScale(node, "a_scale", ctx.inputType(1));
            QTypes.requireScale(node, "b_scale", ctx.inputType(4));
            QTypes.requireScale(node, "y_scale", ctx.inputType(6));
            checkPerRow(ctx, 1, "a_scale", null);
            checkPerCol(ctx, 4, "b_scale", null);
            requireScalar(ctx, 6, "y_scale");
            requireScalar(ctx, 7, "y_zero_point");
            outType = ctx.inputType(7);
            QTypes.require8Bit(node, "y_zero_point", outType);
            hasBias = ctx.hasInput(8);
            if (hasBias) {
                if (ctx.inputType(8) != DType.INT32) {
                    throw new UnsupportedModelException(node.describe() + ": bias is " + ctx.inputType(8)
                            + "; INT32 expected");
                }
                int[] s = ctx.inputShape(8);
                if (Shapes.product(s) != n || (s.length > 1 && s[s.length - 1] != n)) {
                    throw new IllegalArgumentException("bias shape " + Arrays.toString(s)
                            + " is not [" + n + "]");
                }
            }
        } else {
            outType = DType.INT32;
        }
        packedB = null;
        if (ctx.isConstant(ib) && (!ctx.hasInput(ibz) || ctx.isConstant(ibz))) {
            Tensor b = ctx.inputValue(ib);
            Tensor bz = ctx.hasInput(ibz) ? ctx.inputValue(ibz) : null;
            if (b != null) {
                packedB = new int[bMatrices][k * n];
                for (int i = 0; i < bMatrices; i++) {
                    packB(b, bz, i, packedB[i]);
                }
            }
        }
        ctx.setOutput(0, outType, out);
    }

    /** For each output batch, the index of the operand matrix it reads (broadcast batch dimensions). */
    private static int[] batchIndex(int[] own, int[] full, int batches) {
        int[] idx = new int[batches];
        int[] strides = Shapes.broadcastStrides(own, full);
        int[] pos = new int[full.length];
        for (int b = 0; b < batches; b++) {
            int off = 0;
            for (int d = 0; d < full.length; d++) {
                off += pos[d] * strides[d];
            }
            idx[b] = off;
            for (int d = full.length - 1; d >= 0; d--) {
                if (++pos[d] < full[d]) {
                    break;
                }
                pos[d] = 0;
            }
        }
        return idx;
    }

    private void checkPerRow(PrepareContext ctx, int i, String what, DType type) {
        checkCount(ctx, i, what, type, m, aMatrices, "rows");
    }

    private void checkPerCol(PrepareContext ctx, int i, String what, DType type) {
        checkCount(ctx, i, what, type, n, bMatrices, "columns");
    }

    private void checkCount(PrepareContext ctx, int i, String what, DType type, int per, int matrices, String unit) {
        if (!ctx.hasInput(i)) {
            return;
        }
        if (type != null && ctx.inputType(i) != type) {
            throw new IllegalArgumentException(what + " is " + ctx.inputType(i)
                    + ", expected " + type + " like its data");
        }
        int c = Shapes.product(ctx.inputShape(i));
        if (c != 1 && c != per && c != per * matrices) {
            throw new UnsupportedModelException(node.describe() + ": " + what + " shape "
                    + Arrays.toString(ctx.inputShape(i)) + " is neither per tensor nor per " + unit + " (" + per
                    + " " + unit + ")");
        }
    }

    private void requireScalar(PrepareContext ctx, int i, String what) {
        if (Shapes.product(ctx.inputShape(i)) != 1) {
            throw new IllegalArgumentException(what + " shape "
                    + Arrays.toString(ctx.inputShape(i)) + " is not a scalar");
        }
    }

    /** Index into a per-tensor / per-row-or-column / per-batch-row-or-column parameter. */
    private static int paramIndex(Tensor t, int matrix, int per, int i) {
        int c = t.elementCount();
        return c == 1 ? 0 : c == per ? i : matrix * per + i;
    }

    /** (b - b_zp[col]) of operand matrix {@code mat} into a row-major k x n array. */
    private void packB(Tensor b, Tensor bz, int mat, int[] dst) {
        ByteBuffer bb = b.data();
        int base = mat * k * n;
        for (int kk = 0; kk < k; kk++) {
            for (int j = 0; j < n; j++) {
                int z = bz == null ? 0 : QTypes.zeroPoint(bz, paramIndex(bz, mat, n, j));
                dst[kk * n + j] = QTypes.get8(bb, base + kk * n + j, bUnsigned) - z;
            }
        }
    }

    @Override
    public void run(RunContext ctx) {
        Tensor a = ctx.input(ia);
        Tensor az = ctx.input(iaz);
        Tensor y = ctx.output(0);
        ByteBuffer ab = a.data();
        ByteBuffer yb = y.data();
        int[] am = ScratchArrays.ints(0, m * k);
        int[] acc = ScratchArrays.ints(2, m * n);
        int[] bm = packedB == null ? ScratchArrays.ints(1, k * n) : null;
        Tensor as = qlinear ? ctx.input(1) : null;
        Tensor bs = qlinear ? ctx.input(4) : null;
        Tensor bias = qlinear && hasBias ? ctx.input(8) : null;
        float yScale = qlinear ? QTypes.scale(ctx.input(6), 0) : 0f;
        int yZp = qlinear ? QTypes.zeroPoint(ctx.input(7), 0) : 0;
        int lo = qlinear ? Requant.lo(act, outType, yScale, yZp) : 0;
        int hi = qlinear ? Requant.hi(act, outType, yScale, yZp) : 0;
        int lastA = -1;
        for (int batch = 0; batch < aBatch.length; batch++) {
            int amat = aBatch[batch];
            int bmat = bBatch[batch];
            if (amat != lastA) {
                int base = amat * m * k;
                for (int i = 0; i < m; i++) {
                    int z = az == null ? 0 : QTypes.zeroPoint(az, paramIndex(az, amat, m, i));
                    for (int kk = 0; kk < k; kk++) {
                        am[i * k + kk] = QTypes.get8(ab, base + i * k + kk, aUnsigned) - z;
                    }
                }
                lastA = amat;
            }
            int[] b;
            if (packedB != null) {
                b = packedB[bmat];
            } else {
                packB(ctx.input(ib), ctx.input(ibz), bmat, bm);
                b = bm;
            }
            Arrays.fill(acc, 0, m * n, 0);
            IntGemm.multiply(am, 0, m, k, b, n, acc);
            int yOff = batch * m * n;
            if (!qlinear) {
                for (int e = 0; e < m * n; e++) {
                    yb.putInt((yOff + e) * 4, acc[e]);
                }
                continue;
            }
            for (int i = 0; i < m; i++) {
                float aScale = QTypes.scale(as, paramIndex(as, amat, m, i));
                for (int j = 0; j < n; j++) {
                    float mult = Requant.multiplier(aScale, QTypes.scale(bs, paramIndex(bs, bmat, n, j)), yScale);
                    int v = acc[i * n + j] + (bias == null ? 0 : bias.data().getInt(j * 4));
                    yb.put(yOff + i * n + j, (byte) Requant.requantize(v, mult, yZp, lo, hi));
                }
            }
        }
    }
}
