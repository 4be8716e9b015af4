package dev.hedge.kernels.cpu;

import dev.hedge.ir.Node;
import dev.hedge.kernels.Kernel;
import dev.hedge.kernels.PrepareContext;
import dev.hedge.kernels.RunContext;
import dev.hedge.kernels.util.FusedActivation;
import dev.hedge.kernels.util.Tiles;
import dev.hedge.runtime.DType;
import dev.hedge.runtime.Tensor;
import dev.hedge.runtime.UnsupportedModelException;
import java.nio.ByteBuffer;
import java.util.Arrays;

/**
 * Dense float32 Conv (1-D / 2-D NCHW, groups, strides, dilations, pads, bias, fused Relu / Clip) with the
 * native GEMM of {@code hk_fconv.h}: constant weights packed once at prepare, off-heap; per run the im2col of
 * a chunk of output pixels (none for 1x1 stride-1 convolutions) feeds 8 x 32 register tiles over the whole
 * reduction, which add the bias and apply the activation before their one store. Stride-1 convolutions skip
 * im2col on AVX-512 (the image is copied once, zero-padded, and each tap is a shifted view of it); strided
 * small images with long reductions, and images of a few pixels, use tiles of up to 12 pixels x 32 channels. All
 * paths sum each output in k order.
 *
 * <p>Tiles: per image and group, runs of 32-pixel strips times blocks of output channels (whole strips of 8, or
 * panels of 32 for the transposed tile); one tile per group with one thread. Channels are split only when the
 * pixel strips alone would leave a thread idle, as on the 7 x 7 images of a network's last stage (49 pixels
 * are 2 unequal strips). Each output is one register accumulation over the whole reduction in a fixed order,
 * so results do not depend on the split or the thread count. Scratch per thread: an im2col chunk, or the
 * zero-padded image (stride 1).
 */
final class ConvF32Kernel implements Kernel, RunContext.TileTask {

    /** im2col chunk budget per thread, in floats (512 KiB: stays in L2 with a strip of weights). */
    private static final long COL_FLOATS = 1 << 17;
    private static final int NR = 32;
    /** As FC_FEW_STRIPS in hk_fconv.h. */
    private static final int FEW_STRIPS = 8;
    private static final long SMALL_IMAGE = 256;
    private static final long LONG_REDUCTION = 512;
    private static final long FEW_PIXELS = 8;

    private final Node node;
    private final int isa;
    private Geom g;
    private int batch;
    private int groups;
    private int mg;
    private long k;
    private long pixels;
    private boolean pointwise;
    private boolean transposed;
    private int act;
    private float lo;
    private float hi;
    private ByteBuffer packed;
    private long packedGroupBytes;
    private ByteBuffer bias;
    private int stripsPerTile;
    private int pixelTiles;
    private int channelsPerTile;
    private int tilesPerGroup;
    private long chunk;
    private long colBytes;

    ConvF32Kernel(Node node, int isa) {
        this.node = node;
        this.isa = isa;
    }

    /** Whether the activation runs in the kernel (none, Relu, Clip). */
    static boolean nativeActivation(FusedActivation a) {
        return a.isNone() || a.kind() == FusedActivation.Kind.RELU || a.kind() == FusedActivation.Kind.CLIP;
    }

    @Override
    public void prepare(PrepareContext ctx) {
        if (ctx.inputType(0) != DType.FLOAT32 || ctx.inputType(1) != DType.FLOAT32
                || (ctx.hasInput(2) && ctx.inputType(2) != DType.FLOAT32)) {
            throw new UnsupportedModelException(node.describe() + ": input, weights and bias must be FLOAT32");
        }
        if (!ctx.isConstant(1) || (ctx.hasInput(2) && !ctx.isConstant(2))) {
            throw new UnsupportedModelException(node.describe() + ": weights and bias are packed once, so must be constant");
        }
        int[] xs = ctx.inputShape(0);
        int[] ws = ctx.inputShape(1);
        if ((xs.length != 3 && xs.length != 4) || ws.length != xs.length) {
            throw new UnsupportedModelException(node.describe() + ": native fp32 Conv runs 1-D and 2-D windows; input "
                    + Arrays.toString(xs) + ", weights " + Arrays.toString(ws));
        }
        long gr = node.intAttr("group");
        int c = xs[1];
        int m = ws[0];
        if (gr < 1 || c % gr != 0 || m % gr != 0 || ws[1] != c / gr) {
            throw new IllegalArgumentException("group " + gr + " does not fit input channels " + c + " and weights "
                    + Arrays.toString(ws));
        }
        long[] kernel = new long[xs.length - 2];
        for (int i = 0; i < kernel.length; i++) {
            kernel[i] = ws[2 + i];
        }
        long[] ks = node.intsAttr("kernel_shape");
        if (ks != null && !Arrays.equals(ks, kernel)) {
            throw new IllegalArgumentException("kernel_shape " + Arrays.toString(ks) + " differs from the weights' "
                    + Arrays.toString(kernel));
        }
        groups = (int) gr;
        mg = m / groups;
        batch = xs[0];
        try {
            g = Geom.of(node, xs, kernel, c / groups, false);
        } catch (IllegalArgumentException e) {
            // an invalid window: the reference backend reports it in its own words
            throw new UnsupportedModelException(node.describe() + ": " + e.getMessage());
        }
        k = g.reduction();
        pixels = g.outPlane();
        pointwise = g.isPointwise();
        FusedActivation a = FusedActivation.of(node);
        if (!nativeActivation(a)) {
            throw new UnsupportedModelException(node.describe() + ": fused " + a.kind() + " is not applied natively");
        }
        act = a.kind() == FusedActivation.Kind.RELU ? 1 : a.kind() == FusedActivation.Kind.CLIP ? 2 : 0;
        lo = act == 2 ? a.alpha() : 0f;
        hi = act == 2 ? a.beta() : 0f;
        Tensor b = ctx.hasInput(2) ? ctx.inputValue(2) : null;
        if (b != null && b.elementCount() != m) {
            throw new IllegalArgumentException("bias has " + b.elementCount() + " values for " + m + " output channels");
        }
        ctx.setOutput(0, DType.FLOAT32, g.outputShape(batch, m, xs.length));

        // strided small images with long reductions: channels in vector lanes (measured faster from K = 512;
        // shorter reductions pay more for the scattered stores than they gain); stride 1 goes im2col-free instead.
        // A few pixels always, unless stride 1 goes im2col-free: the 32-pixel tiles would leave most of their
        // lanes idle (an STFT filter bank over 3 frames ran 2.5 times slower that way).
        boolean implicit = g.sh == 1 && g.sw == 1 && !pointwise;
        transposed = isa == Native.ISA_AVX512 && (pixels <= FEW_PIXELS && !implicit
                || (pixels <= SMALL_IMAGE && k >= LONG_REDUCTION && !(g.sh == 1 && g.sw == 1)));
        packedGroupBytes = 4 * Native.convF32PackedFloats(transposed, mg, k);
        packed = Native.allocate(Math.multiplyExact(packedGroupBytes, groups));
        ByteBuffer w = Staging.direct(ctx.inputValue(1), 0);
        for (int i = 0; i < groups; i++) {
            Native.convF32Pack(transposed, w, 4L * i * mg * k, mg, k, packed, i * packedGroupBytes);
        }
        bias = Native.allocate(4L * m);
        if (b != null) {
            float[] bv = b.toFloatArray();
            bias.asFloatBuffer().put(bv);
        }
        ctx.reportPackedBytes(packed.capacity() + bias.capacity());

        int strips = (int) ((pixels + NR - 1) / NR);
        int unit = transposed ? 32 : 8;
        int[] split = Tiles.split(ctx.threads(), pixels, NR, mg, unit, (double) mg * k * pixels);
        pixelTiles = split[0];
        stripsPerTile = Tiles.ceilDiv(strips, pixelTiles);
        pixelTiles = Tiles.ceilDiv(strips, stripsPerTile);
        int unitsPerTile = Tiles.ceilDiv((mg + unit - 1) / unit, split[1]);
        channelsPerTile = Math.min(mg, unitsPerTile * unit);
        tilesPerGroup = pixelTiles * Tiles.ceilDiv(mg, channelsPerTile);
        // a tile of few strips is one chunk, so that the native loop reads each strip of weights once
        chunk = stripsPerTile <= FEW_STRIPS ? (long) stripsPerTile * NR
                : Math.max(NR, Math.min((long) stripsPerTile * NR, COL_FLOATS / k / NR * NR));
        colBytes = pointwise ? 0 : 4 * Native.convF32ScratchFloats(isa, transposed, g, chunk);
        ctx.requestScratch(colBytes * ctx.threads());
    }

    @Override
    public void run(RunContext ctx) {
        ctx.parallelFor(batch * groups * tilesPerGroup, this);
    }

    @Override
    public void run(RunContext ctx, int tile, int worker) {
        int t = tile % tilesPerGroup;
        int ng = tile / tilesPerGroup;
        int grp = ng % groups;
        int n = ng / groups;
        long p0 = (long) (t % pixelTiles) * stripsPerTile * NR;
        long p1 = Math.min(pixels, p0 + (long) stripsPerTile * NR);
        // channel blocks start on a whole strip / panel, so their packed weights are contiguous
        long m0 = (long) (t / pixelTiles) * channelsPerTile;
        long m = Math.min(mg - m0, channelsPerTile);
        long xoff = 4 * ((long) n * groups + grp) * g.c * g.inPlane();
        long ooff = 4 * (((long) n * groups + grp) * mg + m0) * pixels;
        Native.convF32(isa, transposed, Staging.direct(ctx.input(0), 0), xoff, g, m, packed,
                grp * packedGroupBytes + 4 * m0 * k, bias, 4L * (grp * mg + m0), act, lo, hi, ctx.output(0).data(),
                ooff, p0, p1, pointwise ? null : ctx.scratch(), worker * colBytes, chunk);
    }
}
