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
 * ConvTranspose (1-D to 3-D, groups, strides, dilations, pads/auto_pad, output_padding, output_shape,
 * optional bias, fused activation) as GEMM + col2im: per image and group, {@code col = W_g^T * X_g} with
 * W_g the group's {@code C/group x (M/group * kernel)} weights as stored (read transposed by the GEMM) and
 * X_g the group's input channels; col2im then scatters-adds every column into the output planes, which start
 * at the bias. Input positions are processed in column blocks so the col buffer stays bounded.
 *
 * <p>Scratch (per thread): slot 0 the image for non-float32 input, slot 1 the col block, slot 2 the output
 * image, slot 3 weights and bias that are not constants.
 */
final class ConvTransposeKernel implements Kernel {

    private static final int COL_BUDGET = 1 << 20;

    private final Node node;
    private final FusedActivation act;
    private DType dtype;
    private ConvGeometry g;
    private int batch;
    private int channels;
    private int maps;
    private int groups;
    private int cg;
    private int mg;
    private int kgT;
    private int colBlock;
    private boolean hasBias;
    private float[] weights;
    private float[] bias;

    ConvTransposeKernel(Node node) {
        this.node = node;
        this.act = FusedActivation.of(node);
    }

    @Override
    public void prepare(PrepareContext ctx) {
        FloatData.requireConvInputs(node, ctx);
        dtype = ctx.inputType(0);
        hasBias = ctx.hasInput(2);
        int[] xs = ctx.inputShape(0);
        int[] ws = ctx.inputShape(1);
        long grp = node.intAttr("group");
        batch = xs[0];
        channels = xs[1];
        if (grp < 1 || channels % grp != 0) {
            throw new IllegalArgumentException("group " + grp + " does not divide input channels "
                    + channels);
        }
        if (ws[0] != channels) {
            throw new IllegalArgumentException("weight shape " + Arrays.toString(ws)
                    + " needs " + channels + " input channels first (input shape " + Arrays.toString(xs) + ")");
        }
        groups = (int) grp;
        cg = channels / groups;
        mg = ws[1];
        maps = Math.multiplyExact(mg, groups);
        int r = xs.length - 2;
        int[] kernel = ConvGeometry.kernelShape(node, Arrays.copyOfRange(ws, 2, ws.length));
        g = ConvGeometry.convTranspose(node, Arrays.copyOfRange(xs, 2, xs.length), kernel);
        if (hasBias) {
            int[] bs = ctx.inputShape(2);
            if (bs.length != 1 || bs[0] != maps) {
                throw new IllegalArgumentException("bias shape " + Arrays.toString(bs)
                        + " is not [" + maps + "]");
            }
        }
        int[] out = new int[r + 2];
        out[0] = batch;
        out[1] = maps;
        System.arraycopy(g.outShape(), 0, out, 2, r);
        ctx.setOutput(0, dtype, out);

        kgT = mg * g.kernelSize();
        int inSize = g.inSize();
        long full = (long) kgT * inSize;
        colBlock = full <= COL_BUDGET ? inSize
                : Math.min(inSize, Math.max(Sgemm.NC, COL_BUDGET / Math.max(1, kgT) / Sgemm.NC * Sgemm.NC));
        Tensor w = ctx.isConstant(1) ? ctx.inputValue(1) : null;
        weights = w != null ? FloatData.toArray(w) : null;
        Tensor b = hasBias && ctx.isConstant(2) ? ctx.inputValue(2) : null;
        bias = b != null ? FloatData.toArray(b) : null;
    }

    @Override
    public void run(RunContext ctx) {
        Tensor x = ctx.input(0);
        Tensor y = ctx.output(0);
        float[] wv = weights;
        float[] bv = bias;
        int bOff = 0;
        int wn = channels * kgT;
        if (wv == null || (hasBias && bv == null)) {
            float[] wb = ScratchArrays.floats(3, wn + maps);
            if (wv == null) {
                FloatData.read(ctx.input(1), 0, wb, 0, wn);
                wv = wb;
            }
            if (hasBias && bv == null) {
                FloatData.read(ctx.input(2), 0, wb, wn, maps);
                bv = wb;
                bOff = wn;
            }
        }
        boolean f32 = dtype == DType.FLOAT32;
        int inSize = g.inSize();
        int outSize = g.outSize();
        int imageIn = channels * inSize;
        int imageOut = maps * outSize;
        FloatBuffer xb = f32 ? x.floats() : null;
        float[] xa = f32 ? null : ScratchArrays.floats(0, imageIn);
        float[] col = ScratchArrays.floats(1, kgT * colBlock);
        float[] ya = ScratchArrays.floats(2, imageOut);
        for (int n = 0; n < batch; n++) {
            if (!f32) {
                FloatData.read(x, n * imageIn, xa, 0, imageIn);
            }
            for (int m = 0; m < maps; m++) {
                Arrays.fill(ya, m * outSize, (m + 1) * outSize, bv != null ? bv[bOff + m] : 0f);
            }
            for (int grp = 0; grp < groups; grp++) {
                int xo = (f32 ? n * imageIn : 0) + grp * cg * inSize;
                for (int n0 = 0; n0 < inSize; n0 += colBlock) {
                    int nb = Math.min(colBlock, inSize - n0);
                    Sgemm.sgemm(true, false, kgT, nb, cg, 1f, wv, null, grp * cg * kgT, Math.max(1, kgT),
                            xa, xb, xo + n0, inSize, 0f, col, null, 0, nb, null, 0, null);
                    Im2Col.col2im(g, col, mg, n0, nb, ya, grp * mg * outSize);
                }
            }
            act.apply(ya, 0, imageOut);
            FloatData.write(ya, 0, y, n * imageOut, imageOut);
        }
    }
}
