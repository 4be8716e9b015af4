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
 * Conv (1-D to 3-D, groups, strides, dilations, pads/auto_pad, optional bias, fused activation).
 *
 * <p>Per image and group, {@code Y_g = W_g * col_g}: W_g is the group's {@code M/group x (C/group * kernel)}
 * weights (row-major as stored, copied to a float array once at prepare time when constant) and col_g the
 * im2col patch matrix, built one column block at a time so its buffer stays bounded. A 1x1 kernel with unit
 * strides and no padding multiplies the input directly; a depthwise conv (one input channel per group) runs
 * the direct {@link Depthwise} kernel instead of GEMMs with a one-channel K. Bias and activation are applied
 * by the GEMM as it stores each block.
 *
 * <p>float32 runs in tiles on the intra-op threads: per image and group, blocks of output columns (im2col
 * and pointwise), or blocks of channels (depthwise), fixed by the shape so results do not depend on the
 * thread count. A tile copies only the input rows its columns read (2-D and 1-D). Other types run on the
 * calling thread.
 *
 * <p>Scratch (per thread, {@link ScratchArrays}): slot 0 the current image (a tile: its input rows), slot 1
 * the column block or the depthwise output planes of one channel, slot 2 the output image for non-float32
 * types, slot 3 weights and bias that are not constants.
 */
final class ConvKernel implements Kernel, RunContext.TileTask {

    private enum Mode { IM2COL, POINTWISE, DEPTHWISE }

    /** Column-block budget of the im2col buffer, in floats. */
    private static final int COL_BUDGET = 1 << 20;

    private final Node node;
    private final FusedActivation act;
    private DType dtype;
    private ConvGeometry g;
    private Mode mode;
    private Depthwise depthwise;
    private int batch;
    private int channels;
    private int maps;
    private int groups;
    private int cg;
    private int mg;
    private int kg;
    private int colBlock;
    private boolean hasBias;
    private float[] weights;
    private float[] bias;
    /** float32 tiles: column tiles per image and group (im2col, pointwise), channels per tile (depthwise). */
    private Tiles columnTiles;
    private int channelsPerTile;
    private int tilesPerImage;

    ConvKernel(Node node) {
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
        maps = ws[0];
        if (grp < 1 || channels % grp != 0 || maps % grp != 0) {
            throw new IllegalArgumentException("group " + grp + " does not divide input channels "
                    + channels + " and output channels " + maps);
        }
        groups = (int) grp;
        cg = channels / groups;
        mg = maps / groups;
        if (ws[1] != cg) {
            throw new IllegalArgumentException("weight shape " + Arrays.toString(ws)
                    + " needs " + cg + " input channels per group (input has " + channels + ", group " + groups + ")");
        }
        int r = xs.length - 2;
        int[] kernel = ConvGeometry.kernelShape(node, Arrays.copyOfRange(ws, 2, ws.length));
        g = ConvGeometry.conv(node, Arrays.copyOfRange(xs, 2, xs.length), kernel);
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

        kg = cg * g.kernelSize();
        if (cg == 1 && groups > 1) {
            mode = Mode.DEPTHWISE;
            depthwise = new Depthwise(g);
        } else if (g.isPointwise()) {
            mode = Mode.POINTWISE;
        } else {
            mode = Mode.IM2COL;
        }
        int outSize = g.outSize();
        long full = (long) kg * outSize;
        colBlock = full <= COL_BUDGET ? outSize
                : Math.min(outSize, Math.max(Sgemm.NC, COL_BUDGET / kg / Sgemm.NC * Sgemm.NC));
        Tensor w = ctx.isConstant(1) ? ctx.inputValue(1) : null;
        weights = w != null ? FloatData.toArray(w) : null;
        Tensor b = hasBias && ctx.isConstant(2) ? ctx.inputValue(2) : null;
        bias = b != null ? FloatData.toArray(b) : null;
        ctx.reportPackedBytes(4L * ((weights == null ? 0 : weights.length) + (bias == null ? 0 : bias.length)));
        if (mode == Mode.DEPTHWISE) {
            int tiles = Tiles.pieces(channels, (double) mg * outSize * g.kernelSize());
            channelsPerTile = Tiles.ceilDiv(channels, tiles);
            tilesPerImage = Tiles.ceilDiv(channels, channelsPerTile);
        } else {
            columnTiles = new Tiles(1, outSize, mg * kg, true, mode == Mode.IM2COL ? colBlock : Integer.MAX_VALUE);
            tilesPerImage = groups * columnTiles.count();
        }
    }

    @Override
    public void run(RunContext ctx) {
        if (dtype == DType.FLOAT32) {
            ctx.parallelFor(batch * tilesPerImage, this);
            return;
        }
        Tensor x = ctx.input(0);
        Tensor y = ctx.output(0);
        float[] wv = weights;
        float[] bv = bias;
        int bOff = 0;
        if (wv == null || (hasBias && bv == null)) {
            int wn = maps * kg;
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
        // other float types: converted to float arrays, on the calling thread
        int inSize = g.inSize();
        int outSize = g.outSize();
        int imageIn = channels * inSize;
        int imageOut = maps * outSize;
        float[] xa = ScratchArrays.floats(0, imageIn);
        float[] ya = mode == Mode.DEPTHWISE ? null : ScratchArrays.floats(2, imageOut);
        for (int n = 0; n < batch; n++) {
            FloatData.read(x, n * imageIn, xa, 0, imageIn);
            switch (mode) {
                case DEPTHWISE: {
                    // One input channel per group, so groups == channels and mg outputs per channel.
                    float[] res = ScratchArrays.floats(1, mg * outSize);
                    for (int c = 0; c < channels; c++) {
                        depthwise.run(xa, c * inSize, wv, c * mg * g.kernelSize(), mg, bv, bOff + c * mg, res);
                        act.apply(res, 0, mg * outSize);
                        FloatData.write(res, 0, y, n * imageOut + c * mg * outSize, mg * outSize);
                    }
                    break;
                }
                case POINTWISE:
                    for (int grp = 0; grp < groups; grp++) {
                        Sgemm.sgemm(false, false, mg, outSize, cg, 1f, wv, null, grp * mg * kg, Math.max(1, kg),
                                xa, null, grp * cg * inSize, Math.max(1, inSize), 0f, ya, null, grp * mg * outSize,
                                Math.max(1, outSize), bv, bOff + grp * mg, act);
                    }
                    break;
                default: {
                    float[] col = ScratchArrays.floats(1, kg * colBlock);
                    for (int grp = 0; grp < groups; grp++) {
                        for (int n0 = 0; n0 < outSize; n0 += colBlock) {
                            int nb = Math.min(colBlock, outSize - n0);
                            Im2Col.im2col(g, xa, grp * cg * inSize, cg, col, n0, nb);
                            Sgemm.sgemm(false, false, mg, nb, kg, 1f, wv, null, grp * mg * kg, Math.max(1, kg),
                                    col, null, 0, nb, 0f, ya, null, grp * mg * outSize + n0, outSize,
                                    bv, bOff + grp * mg, act);
                        }
                    }
                }
            }
            if (ya != null) {
                FloatData.write(ya, 0, y, n * imageOut, imageOut);
            }
        }
    }

    /** One float32 tile: image {@code n}, then a group's column block or a block of depthwise channels. */
    @Override
    public void run(RunContext ctx, int tile, int worker) {
        int n = tile / tilesPerImage;
        int t = tile % tilesPerImage;
        float[] wv = weights;
        float[] bv = bias;
        int bOff = 0;
        if (wv == null || (hasBias && bv == null)) {
            int wn = maps * kg;
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
        Tensor x = ctx.input(0);
        FloatBuffer yb = ctx.output(0).floats();
        int inSize = g.inSize();
        int outSize = g.outSize();
        int imageIn = channels * inSize;
        int imageOut = maps * outSize;
        if (mode == Mode.DEPTHWISE) {
            float[] xa = ScratchArrays.floats(0, inSize);
            float[] res = ScratchArrays.floats(1, mg * outSize);
            int c1 = Math.min(channels, (t + 1) * channelsPerTile);
            for (int c = t * channelsPerTile; c < c1; c++) {
                FloatData.read(x, n * imageIn + c * inSize, xa, 0, inSize);
                depthwise.run(xa, 0, wv, c * mg * g.kernelSize(), mg, bv, bOff + c * mg, res);
                act.apply(res, 0, mg * outSize);
                yb.put(n * imageOut + c * mg * outSize, res, 0, mg * outSize);
            }
            return;
        }
        int grp = t / columnTiles.count();
        int ct = t % columnTiles.count();
        int n0 = columnTiles.n0(ct);
        int nb = columnTiles.n1(ct) - n0;
        int yOff = n * imageOut + grp * mg * outSize + n0;
        if (mode == Mode.POINTWISE) {
            Sgemm.sgemm(false, false, mg, nb, cg, 1f, wv, null, grp * mg * kg, Math.max(1, kg),
                    null, x.floats(), n * imageIn + grp * cg * inSize + n0, Math.max(1, inSize),
                    0f, null, yb, yOff, Math.max(1, outSize), bv, bOff + grp * mg, act);
            return;
        }
        float[] xa = ScratchArrays.floats(0, cg * inSize);
        readInputRows(x, n * imageIn + grp * cg * inSize, xa, n0, nb);
        float[] col = ScratchArrays.floats(1, kg * nb);
        Im2Col.im2col(g, xa, 0, cg, col, n0, nb);
        Sgemm.sgemm(false, false, mg, nb, kg, 1f, wv, null, grp * mg * kg, Math.max(1, kg),
                col, null, 0, nb, 0f, null, yb, yOff, Math.max(1, outSize), bv, bOff + grp * mg, act);
    }

    /**
     * Copies the group's channel planes from {@code x[off..]} into {@code xa}, for 1-D and 2-D only the input
     * rows that output positions {@code [n0, n0 + nb)} read (at their usual places; Im2Col reads no others).
     */
    private void readInputRows(Tensor x, int off, float[] xa, int n0, int nb) {
        int inSize = g.inSize();
        int from = 0;
        int to = inSize;
        if (g.in[0] == 1 && g.out[0] == 1) {
            int outW = g.out[2];
            int h0 = n0 / outW;
            int h1 = (n0 + nb - 1) / outW;
            int lo = Math.max(0, h0 * g.stride[1] - g.padBegin[1]);
            int hi = Math.min(g.in[1] - 1, h1 * g.stride[1] - g.padBegin[1] + (g.kernel[1] - 1) * g.dilation[1]);
            if (hi < lo) {
                return; // every tap of these rows falls in the padding
            }
            from = lo * g.in[2];
            to = (hi + 1) * g.in[2];
        }
        for (int c = 0; c < cg; c++) {
            FloatData.read(x, off + c * inSize + from, xa, c * inSize + from, to - from);
        }
    }
}
