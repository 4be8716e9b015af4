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
 * QLinearConv and ConvInteger: {@code acc[n, m, p] = sum (x - x_zp)(w - w_zp[m]) (+ bias[m])} in int32 over the
 * group's input channels and kernel taps (padding contributes 0, i.e. the input zero point), then either the
 * int32 accumulator (ConvInteger) or its requantization ({@link Requant}) to the output type (QLinearConv).
 *
 * <p>Per image and group the zero-point-adjusted input is unrolled (im2col, in column blocks) and multiplied by
 * the group's adjusted weights, which are packed once at prepare time when they and their zero point are
 * constants. Scratch ({@link ScratchArrays}, ints): slot 0 the image, 1 the column block, 2 the accumulators,
 * 3 weights that are not constants.
 */
public final class IntConvKernel implements Kernel {

    /** Budget of the im2col block, in ints. */
    private static final int COL_BUDGET = 1 << 20;

    private final Node node;
    private final boolean qlinear;
    private final FusedActivation act;
    /** Input indices: x, x_zp, w, w_zp (and for QLinearConv the scales, y and bias). */
    private final int ix;
    private final int ixz;
    private final int iw;
    private final int iwz;

    private ConvShape g;
    private int cg;
    private int mg;
    private int kg;
    private int colBlock;
    private boolean xUnsigned;
    private boolean wUnsigned;
    private DType outType;
    private int[] packedW;
    private float[] multipliers;
    private int[] bias;
    private int yZp;
    private int lo;
    private int hi;

    private IntConvKernel(Node node, boolean qlinear) {
        this.node = node;
        this.qlinear = qlinear;
        this.act = FusedActivation.of(node);
        this.ix = 0;
        this.ixz = 2;
        this.iw = qlinear ? 3 : 1;
        this.iwz = qlinear ? 5 : 3;
    }

    public static IntConvKernel qlinearConv(Node node) {
        return new IntConvKernel(node, true);
    }

    public static IntConvKernel convInteger(Node node) {
        return new IntConvKernel(node, false);
    }

    @Override
    public void prepare(PrepareContext ctx) {
        DType xt = ctx.inputType(ix);
        DType wt = ctx.inputType(iw);
        QTypes.require8Bit(node, "input x", xt);
        QTypes.require8Bit(node, "weight w", wt);
        xUnsigned = xt == DType.UINT8;
        wUnsigned = wt == DType.UINT8;
        g = new ConvShape(node, ctx.inputShape(ix), ctx.inputShape(iw));
        cg = g.channels / g.groups;
        mg = g.maps / g.groups;
        kg = cg * g.kernelSize();
        int outSize = g.outSize();
        colBlock = outSize == 0 ? 1 : (long) kg * outSize <= COL_BUDGET ? outSize
                : Math.max(1, Math.min(outSize, COL_BUDGET / Math.max(1, kg)));
        if (ctx.hasInput(ixz)) {
            checkType(ctx, ixz, "x_zero_point", xt);
            requireCount(ctx, ixz, "x_zero_point", 1);
        }
        if (ctx.hasInput(iwz)) {
            checkType(ctx, iwz, "w_zero_point", wt);
            requireCount(ctx, iwz, "w_zero_point", g.maps);
        }
        if (qlinear) {
            prepareQLinear(ctx);
        } else {
            outType = DType.INT32;
        }
        packedW = null;
        if (ctx.isConstant(iw) && (!ctx.hasInput(iwz) || ctx.isConstant(iwz))) {
            Tensor w = ctx.inputValue(iw);
            Tensor wz = ctx.hasInput(iwz) ? ctx.inputValue(iwz) : null;
            if (w != null && (wz != null || !ctx.hasInput(iwz))) {
                packedW = new int[g.maps * kg];
                packWeights(w, wz, packedW);
            }
        }
        ctx.setOutput(0, outType, g.outputShape());
    }

    private void prepareQLinear(PrepareContext ctx) {
        Requant.activation(node);
        QTypes.requireScale(node, "x_scale", ctx.inputType(1));
        QTypes.requireScale(node, "w_scale", ctx.inputType(4));
        QTypes.requireScale(node, "y_scale", ctx.inputType(6));
        requireCount(ctx, 1, "x_scale", 1);
        requireCount(ctx, 4, "w_scale", g.maps);
        requireCount(ctx, 6, "y_scale", 1);
        outType = ctx.inputType(7);
        QTypes.require8Bit(node, "y_zero_point", outType);
        requireCount(ctx, 7, "y_zero_point", 1);
        if (ctx.hasInput(8)) {
            if (ctx.inputType(8) != DType.INT32) {
                throw new UnsupportedModelException(node.describe() + ": bias B is " + ctx.inputType(8)
                        + "; INT32 expected");
            }
            int[] bs = ctx.inputShape(8);
            if (bs.length != 1 || bs[0] != g.maps) {
                throw new IllegalArgumentException("bias shape " + Arrays.toString(bs)
                        + " is not [" + g.maps + "]");
            }
        }
        multipliers = null;
        bias = null;
        if (ctx.isConstant(1) && ctx.isConstant(4) && ctx.isConstant(6) && ctx.isConstant(7)
                && (!ctx.hasInput(8) || ctx.isConstant(8))) {
            Tensor xs = ctx.inputValue(1);
            Tensor ws = ctx.inputValue(4);
            Tensor ys = ctx.inputValue(6);
            Tensor yz = ctx.inputValue(7);
            multipliers = new float[g.maps];
            for (int m = 0; m < g.maps; m++) {
                float wScale = QTypes.scale(ws, ws.elementCount() == 1 ? 0 : m);
                multipliers[m] = Requant.multiplier(QTypes.scale(xs, 0), wScale, QTypes.scale(ys, 0));
            }
            yZp = QTypes.zeroPoint(yz, 0);
            lo = Requant.lo(act, outType, QTypes.scale(ys, 0), yZp);
            hi = Requant.hi(act, outType, QTypes.scale(ys, 0), yZp);
            if (ctx.hasInput(8)) {
                bias = ctx.inputValue(8).toIntArray();
            }
        }
    }

    private void checkType(PrepareContext ctx, int i, String what, DType expected) {
        if (ctx.inputType(i) != expected) {
            throw new IllegalArgumentException(what + " is " + ctx.inputType(i) + ", expected "
                    + expected + " like its data");
        }
    }

    private void requireCount(PrepareContext ctx, int i, String what, int perChannel) {
        int[] s = ctx.inputShape(i);
        int n = Shapes.product(s);
        if (s.length > 1 || (n != 1 && n != perChannel)) {
            throw new IllegalArgumentException(what + " shape " + Arrays.toString(s)
                    + (perChannel == 1 ? " is not a scalar" : " is neither a scalar nor [" + perChannel + "]"));
        }
    }

    /** (w - w_zp[m]) for every weight, in the stored [M, C/group, kernel...] order. */
    private void packWeights(Tensor w, Tensor wz, int[] dst) {
        ByteBuffer wb = w.data();
        boolean perChannel = wz != null && wz.elementCount() > 1;
        for (int m = 0; m < g.maps; m++) {
            int z = wz == null ? 0 : QTypes.zeroPoint(wz, perChannel ? m : 0);
            for (int k = 0; k < kg; k++) {
                int e = m * kg + k;
                dst[e] = QTypes.get8(wb, e, wUnsigned) - z;
            }
        }
    }

    @Override
    public void run(RunContext ctx) {
        Tensor x = ctx.input(ix);
        Tensor y = ctx.output(0);
        int[] wv = packedW;
        if (wv == null) {
            wv = ScratchArrays.ints(3, g.maps * kg);
            packWeights(ctx.input(iw), ctx.input(iwz), wv);
        }
        int xz = QTypes.zeroPoint(ctx.input(ixz), 0);
        int inSize = g.inSize();
        int outSize = g.outSize();
        int imageIn = g.channels * inSize;
        int imageOut = g.maps * outSize;
        int[] xa = ScratchArrays.ints(0, imageIn);
        int[] col = ScratchArrays.ints(1, kg * colBlock);
        int[] acc = ScratchArrays.ints(2, mg * colBlock);
        ByteBuffer xb = x.data();
        for (int n = 0; n < g.batch; n++) {
            int xBase = n * imageIn;
            for (int i = 0; i < imageIn; i++) {
                xa[i] = QTypes.get8(xb, xBase + i, xUnsigned) - xz;
            }
            for (int grp = 0; grp < g.groups; grp++) {
                for (int n0 = 0; n0 < outSize; n0 += colBlock) {
                    int nb = Math.min(colBlock, outSize - n0);
                    g.im2col(xa, grp * cg * inSize, cg, col, n0, nb);
                    Arrays.fill(acc, 0, mg * nb, 0);
                    IntGemm.multiply(wv, grp * mg * kg, mg, kg, col, nb, acc);
                    store(ctx, y, acc, n * imageOut + grp * mg * outSize + n0, grp * mg, nb, outSize);
                }
            }
        }
    }

    /** Writes accumulators of maps {@code [m0, m0 + mg)} for {@code nb} positions into y from {@code yOff}. */
    private void store(RunContext ctx, Tensor y, int[] acc, int yOff, int m0, int nb, int outSize) {
        ByteBuffer yb = y.data();
        if (!qlinear) {
            for (int m = 0; m < mg; m++) {
                for (int j = 0; j < nb; j++) {
                    yb.putInt((yOff + m * outSize + j) * 4, acc[m * nb + j]);
                }
            }
            return;
        }
        float[] mult = multipliers;
        int[] b = bias;
        int zp = yZp;
        int l = lo;
        int h = hi;
        Tensor xs = null;
        Tensor ws = null;
        Tensor ys = null;
        Tensor bt = null;
        if (mult == null) {
            xs = ctx.input(1);
            ws = ctx.input(4);
            ys = ctx.input(6);
            bt = ctx.input(8);
            zp = QTypes.zeroPoint(ctx.input(7), 0);
            l = Requant.lo(act, outType, QTypes.scale(ys, 0), zp);
            h = Requant.hi(act, outType, QTypes.scale(ys, 0), zp);
        }
        for (int mi = 0; mi < mg; mi++) {
            int m = m0 + mi;
            float mm;
            int bm;
            if (mult != null) {
                mm = mult[m];
                bm = b == null ? 0 : b[m];
            } else {
                mm = Requant.multiplier(QTypes.scale(xs, 0), QTypes.scale(ws, ws.elementCount() == 1 ? 0 : m),
                        QTypes.scale(ys, 0));
                bm = bt == null ? 0 : bt.data().getInt(m * 4);
            }
            int a = mi * nb;
            int o = yOff + mi * outSize;
            for (int j = 0; j < nb; j++) {
                yb.put(o + j, (byte) Requant.requantize(acc[a + j] + bm, mm, zp, l, h));
            }
        }
    }
}
