package dev.hedge.kernels.cpu;

import dev.hedge.ir.Node;
import dev.hedge.kernels.Kernel;
import dev.hedge.kernels.PrepareContext;
import dev.hedge.kernels.RunContext;
import dev.hedge.kernels.util.Tiles;
import dev.hedge.ops.Op;
import dev.hedge.runtime.DType;
import dev.hedge.runtime.Tensor;
import dev.hedge.runtime.UnsupportedModelException;
import java.nio.ByteBuffer;
import java.util.Arrays;

/**
 * QLinearConv and ConvInteger on NCHW images (1-D and 2-D). Depthwise convolutions (group = channels,
 * one input channel per group) run a direct kernel: on AVX-512 with multiplier 1 and constant weights, the fp32
 * depthwise kernels on (x - zx) and (w - zw) as floats, whose sums are integers exact in float32, then the same
 * requantization; otherwise int16 products into int32. Every other convolution runs the native 8-bit GEMM per
 * image and group in its CONV variant (weights as rows, im2col pixels as the panel), writing NCHW directly.
 * Constant weights are packed at prepare; others per run into scratch.
 *
 * <p>Threads: the GEMM's tiles are blocks of pixels (whole packed panels) and, for small images, of output
 * channels, after the im2col is packed once; the depthwise kernel's are blocks of channels, each thread with its
 * own padded plane. Every output is the same integer sum whichever tile computes it, so results do not depend on
 * the thread count.
 *
 * <p>QLinearConv inputs: x, x_scale, x_zero_point, w, w_scale, w_zero_point, y_scale, y_zero_point, B.
 * ConvInteger: x, w, x_zero_point, w_zero_point; INT32 output.
 */
final class QConvKernel implements Kernel, RunContext.TileTask {

    private final Node node;
    private final int isa;
    private final boolean integer;
    private final int wIn;
    /** Created for sparse-encoded constant weights, read as stored (NativeBackend.offers). */
    private final boolean sparse;

    // prepared
    private boolean xUnsigned;
    private boolean wUnsigned;
    private int zx;
    private int batch;
    private int channels;
    private int cout;
    private int group;
    private Geom g;          // per group (channels per group)
    private boolean depthwise;
    private int outSize;
    private ByteBuffer[] requant; // per group (GEMM) or one (depthwise)
    private ByteBuffer wZp;
    private int wZpStride;
    private int[] wZeroPoints;
    private int code;
    private long wGroupBytes;
    private ByteBuffer packedW; // null: packed per run
    private long panelBytes;
    private long tmpBytes;
    private SparseInt8 sparseW;
    private int colTiles;      // GEMM: pixel blocks of colBlock, output-channel blocks of rowBlock
    private int rowTiles;
    private long colBlock;
    private long rowBlock;
    private long dwScratch;    // depthwise: per-thread scratch, channel blocks of dwBlock
    private int dwTiles;
    private int dwBlock;
    /** Depthwise in float lanes: weights (w - w_zero_point) as floats, or null for the int16 kernel. */
    private ByteBuffer dwFloatW;

    /** GEMM tiles of each image and group, made at prepare (the kernel's fields never change at run time). */
    private RunContext.TileTask[] gemmTasks;

    QConvKernel(Node node, int isa, boolean sparse) {
        this.node = node;
        this.isa = isa;
        this.integer = node.op() == Op.ConvInteger;
        this.wIn = integer ? 1 : 3;
        this.sparse = sparse;
    }

    @Override
    public void prepare(PrepareContext ctx) {
        DType tx = ctx.inputType(0);
        DType tw = ctx.inputType(wIn);
        if (!QuantInputs.isByteType(tx) || !QuantInputs.isByteType(tw)) {
            throw new UnsupportedModelException(node.describe() + ": inputs are " + tx + " and " + tw + ", not 8-bit");
        }
        xUnsigned = tx == DType.UINT8;
        wUnsigned = tw == DType.UINT8;
        int[] xs = ctx.inputShape(0);
        int[] ws = ctx.inputShape(wIn);
        if (xs.length < 3 || ws.length != xs.length) {
            throw new IllegalArgumentException("input " + Arrays.toString(xs) + " and weights "
                    + Arrays.toString(ws) + " do not form a convolution");
        }
        group = (int) node.intAttr("group");
        batch = xs[0];
        channels = xs[1];
        cout = ws[0];
        if (group < 1 || channels % group != 0 || cout % group != 0 || ws[1] != channels / group) {
            throw new IllegalArgumentException("group " + group + " does not split input "
                    + Arrays.toString(xs) + " for weights " + Arrays.toString(ws));
        }
        long[] kernel = new long[xs.length - 2];
        for (int i = 0; i < kernel.length; i++) {
            kernel[i] = ws[2 + i];
        }
        long[] ks = node.intsAttr("kernel_shape");
        if (ks != null && !Arrays.equals(ks, kernel)) {
            throw new IllegalArgumentException("kernel_shape " + Arrays.toString(ks)
                    + " differs from the weights' " + Arrays.toString(kernel));
        }
        // one input channel is an ordinary conv for the GEMM (the direct kernel would run every output channel's
        // window alone, e.g. 258 x 256 taps of an STFT filter bank)
        depthwise = !sparse && group == channels && ws[1] == 1 && channels > 1;
        g = Geom.of(node, xs, kernel, depthwise ? channels : channels / group, false);

        Requant.Output out;
        int[] bias = new int[cout];
        int[] xzp;
        if (integer) {
            xzp = QuantInputs.zeroPoints(ctx, 2, "x_zero_point", tx, 0);
            wZeroPoints = QuantInputs.expand(QuantInputs.zeroPoints(ctx, 3, "w_zero_point", tw, cout), cout);
            out = Requant.Output.int32(cout);
        } else {
            float xScale = QuantInputs.scales(ctx, 1, "x_scale", 0)[0];
            xzp = QuantInputs.zeroPoints(ctx, 2, "x_zero_point", tx, 0);
            float[] wScale = QuantInputs.expand(QuantInputs.scales(ctx, 4, "w_scale", cout), cout);
            wZeroPoints = QuantInputs.expand(QuantInputs.zeroPoints(ctx, 5, "w_zero_point", tw, cout), cout);
            out = Requant.qlinearOutput(ctx, node, xScale, wScale, cout);
            bias = QuantInputs.bias(ctx, 8, "B", cout);
        }
        DType outType = out.type();
        float[] mult = out.mult();
        int yzp = out.zeroPoint();
        int lo = out.lo();
        int hi = out.hi();
        zx = xzp[0];
        int type = Requant.outType(outType);
        outSize = outType == DType.INT32 ? 4 : 1;
        int per = cout / group;
        if (depthwise) {
            requant = new ByteBuffer[] {Requant.build(mult, bias, yzp, lo, hi, type)};
        } else {
            requant = new ByteBuffer[group];
            for (int gi = 0; gi < group; gi++) {
                requant[gi] = Requant.build(Arrays.copyOfRange(mult, gi * per, (gi + 1) * per),
                        Arrays.copyOfRange(bias, gi * per, (gi + 1) * per), yzp, lo, hi, type);
            }
        }
        wZp = QuantInputs.ints(wZeroPoints);
        wZpStride = 1;

        Tensor w = ctx.inputValue(wIn);
        long k = g.reduction();
        if (sparse) {
            if (w == null || w.sparse() == null || group != 1 || depthwise) {
                throw new UnsupportedModelException(node.describe() + ": sparse weights need a constant, ungrouped conv");
            }
            sparseW = SparseInt8.of(isa, w, wUnsigned, cout, (int) k, false, wZeroPoints, g.outPlane());
            ctx.reportPackedBytes(sparseW.weightBytes() + requantBytes());
            ctx.requestScratch(sparseW.scratchBytes(g));
            ctx.setOutput(0, outType, g.outputShape(batch, cout, xs.length));
            long outImage = (long) cout * g.outPlane() * outSize;
            gemmTasks = new RunContext.TileTask[batch];
            for (int b = 0; b < batch; b++) {
                long ooff = b * outImage;
                gemmTasks[b] = (c, tile, worker) -> sparseW.tile(tile, c.scratch(), 0, requant[0], c.output(0).data(),
                        ooff, g.outPlane(), false);
            }
            return;
        }
        if (w != null && w.isEncoded()) {
            throw new UnsupportedModelException(node.describe() + ": weights are stored encoded");
        }
        int threads = ctx.threads();
        if (depthwise) {
            wGroupBytes = 2L * cout * g.kh * g.kw;
            packedW = w == null ? null : depthwiseWeights(Staging.direct(w, 0), Native.allocate(wGroupBytes), 0);
            long taps = g.kh * g.kw;
            // a direct depthwise multiply-add costs about eight of the GEMM's, whose rate the work bound assumes
            double work = 8.0 * cout * g.outPlane() * taps;
            dwTiles = threads == 1 ? 1 : Tiles.split(threads, channels, 1, 1, 1, work)[0];
            dwBlock = Tiles.ceilDiv(channels, dwTiles);
            if (packedW != null && outSize == 1 && Native.depthwiseS8F32Runs(isa, g, cout / channels)) {
                // the float-lane kernel (exact: see hk_qdwf.h) runs 2-5x the int16 kernel's speed on MobileNet's
                // layers; its narrow planes take blocks of 16 channels
                dwFloatW = floatDepthwiseWeights(Staging.direct(w, 0));
                dwBlock = Tiles.ceilDiv(dwBlock, 16) * 16;
                dwScratch = Native.align64(Native.depthwiseS8F32ScratchBytes(g));
            } else {
                dwScratch = Native.align64(Native.depthwiseScratchBytes(g));
            }
            dwTiles = Tiles.ceilDiv(channels, dwBlock);
            ctx.requestScratch(dwScratch * threads + (packedW == null ? wGroupBytes : 0));
            ctx.reportPackedBytes(Native.capacity(packedW) + Native.capacity(dwFloatW) + requantBytes());
        } else {
            ByteBuffer wb = w == null ? null : Staging.direct(w, 0);
            code = Native.chooseFamily(isa, wb, 0, wUnsigned, cout, k, k, 1, g.outPlane());
            wGroupBytes = Native.rowBytes(code, Native.WHO_WT, per, k);
            packedW = w == null ? null : packWeights(wb, Native.allocate(Math.multiplyExact(wGroupBytes, group)), 0);
            panelBytes = Native.panelBytes(code, Native.WHO_ACT, g.outPlane(), k);
            tmpBytes = Native.im2colTmpBytes(code, g.outPlane());
            ctx.requestScratch(panelBytes + tmpBytes + (packedW == null ? wGroupBytes * group : 0));
            ctx.reportPackedBytes(Native.capacity(packedW) + requantBytes());
            int nr = Native.panelWidth(code);
            int mr = Native.rowsPerCall(code);
            int[] split = Tiles.split(threads, g.outPlane(), nr, per, mr, (double) per * g.outPlane() * k);
            colBlock = (long) Tiles.ceilDiv(Tiles.ceilDiv((int) g.outPlane(), nr), split[0]) * nr;
            colTiles = (int) ((g.outPlane() + colBlock - 1) / colBlock);
            rowBlock = (long) Tiles.ceilDiv(Tiles.ceilDiv(per, mr), split[1]) * mr;
            rowTiles = (int) ((per + rowBlock - 1) / rowBlock);
            gemmTasks = new RunContext.TileTask[batch * group];
            for (int i = 0; i < gemmTasks.length; i++) {
                int b = i / group;
                int gi = i % group;
                gemmTasks[i] = (c, tile, worker) -> gemmTile(c, b, gi, tile);
            }
        }
        ctx.setOutput(0, outType, g.outputShape(batch, cout, xs.length));
    }

    private long requantBytes() {
        long n = 0;
        for (ByteBuffer q : requant) {
            n += q.capacity();
        }
        return n;
    }

    private ByteBuffer packWeights(ByteBuffer w, ByteBuffer dst, long doff) {
        int per = cout / group;
        long k = g.reduction();
        for (int gi = 0; gi < group; gi++) {
            Native.packRows(code, Native.WHO_WT, dst, doff + gi * wGroupBytes, w, gi * per * k, wUnsigned, per, k, k, 1,
                    wZp, 4L * gi * per, wZpStride);
        }
        return dst;
    }

    /** float (w - w_zero_point[c]) per output channel, as the fp32 depthwise kernels read them. */
    private ByteBuffer floatDepthwiseWeights(ByteBuffer w) {
        int taps = (int) (g.kh * g.kw);
        Native.region("depthwise weights", w, 0, (long) cout * taps);
        ByteBuffer dst = Native.allocate(4L * cout * taps);
        for (int c = 0; c < cout; c++) {
            for (int t = 0; t < taps; t++) {
                int i = c * taps + t;
                int v = wUnsigned ? w.get(i) & 0xff : w.get(i);
                dst.putFloat(4 * i, v - wZeroPoints[c]);
            }
        }
        return dst;
    }


    /** int16 (w - w_zero_point[c]) per output channel, as the depthwise kernel reads them. */
    private ByteBuffer depthwiseWeights(ByteBuffer w, ByteBuffer dst, long doff) {
        int taps = (int) (g.kh * g.kw);
        Native.region("depthwise weights", w, 0, (long) cout * taps);
        Native.region("depthwise weights", dst, doff, 2L * cout * taps);
        for (int c = 0; c < cout; c++) {
            for (int t = 0; t < taps; t++) {
                int i = c * taps + t;
                int v = wUnsigned ? w.get(i) & 0xff : w.get(i);
                dst.putShort((int) doff + 2 * i, (short) (v - wZeroPoints[c]));
            }
        }
        return dst;
    }

    @Override
    public void run(RunContext ctx) {
        ByteBuffer x = Staging.direct(ctx.input(0), 0);
        ByteBuffer scratch = ctx.scratch();
        long inImage = (long) channels * g.inPlane();
        if (sparseW != null) {
            ByteBuffer out = ctx.output(0).data();
            long outImage = (long) cout * g.outPlane() * outSize;
            for (int b = 0; b < batch; b++) {
                if (sparseW.tiled()) {
                    sparseW.pack(x, b * inImage, xUnsigned, zx, g, scratch, 0);
                    ctx.parallelFor(sparseW.tiles(), gemmTasks[b]);
                } else {
                    sparseW.run(x, b * inImage, xUnsigned, zx, g, scratch, 0, requant[0], out, b * outImage, g.outPlane());
                }
            }
            return;
        }
        if (depthwise) {
            if (packedW == null) {
                depthwiseWeights(Staging.direct(ctx.input(wIn), 1), scratch, dwScratch * ctx.threads());
            }
            ctx.parallelFor(batch * dwTiles, this);
            return;
        }
        if (packedW == null) {
            packWeights(Staging.direct(ctx.input(wIn), 1), scratch, panelBytes + tmpBytes);
        }
        for (int b = 0; b < batch; b++) {
            for (int gi = 0; gi < group; gi++) {
                Native.packIm2col(code, scratch, 0, x, b * inImage + gi * g.c * g.inPlane(), xUnsigned, g, zx, scratch,
                        panelBytes);
                ctx.parallelFor(colTiles * rowTiles, gemmTasks[b * group + gi]);
            }
        }
    }

    /** A tile of the depthwise kernel: a block of input channels of one image. */
    @Override
    public void run(RunContext ctx, int tile, int worker) {
        int b = tile / dwTiles;
        long c0 = (long) (tile % dwTiles) * dwBlock;
        long c1 = Math.min(channels, c0 + dwBlock);
        if (dwFloatW != null) {
            Native.depthwiseS8F32(isa, Staging.direct(ctx.input(0), 0), b * (long) channels * g.inPlane(), xUnsigned, zx,
                    g, dwFloatW, 0, requant[0], 0, ctx.output(0).data(), b * (long) cout * g.outPlane(), ctx.scratch(),
                    worker * dwScratch, c0, c1);
            return;
        }
        ByteBuffer w = packedW != null ? packedW : ctx.scratch();
        long woff = packedW != null ? 0 : dwScratch * ctx.threads();
        Native.depthwise(isa, Staging.direct(ctx.input(0), 0), b * (long) channels * g.inPlane(), xUnsigned, zx, g,
                cout / channels, w, woff, requant[0], 0, ctx.output(0).data(), b * (long) cout * g.outPlane() * outSize,
                ctx.scratch(), worker * dwScratch, c0, c1);
    }

    /** A tile of the GEMM of image {@code b}, group {@code gi}, whose im2col panel is at the start of scratch. */
    private void gemmTile(RunContext ctx, int b, int gi, int tile) {
        int per = cout / group;
        long p = g.outPlane();
        ByteBuffer scratch = ctx.scratch();
        ByteBuffer w = packedW != null ? packedW : scratch;
        long woff = packedW != null ? 0 : panelBytes + tmpBytes;
        long c0 = (tile % colTiles) * colBlock;
        long r0 = (long) (tile / colTiles) * rowBlock;
        long ooff = (b * (long) cout + (long) gi * per) * p * outSize;
        Native.qgemmTile(code, false, w, woff + gi * wGroupBytes, per, scratch, 0, p, g.reduction(), requant[gi], 0,
                ctx.output(0).data(), ooff, p, r0, Math.min(per, r0 + rowBlock), c0, Math.min(p, c0 + colBlock));
    }
}
