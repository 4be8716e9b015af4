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
 * Float32 depthwise Conv (group = channels, weights [channels * multiplier, 1, kh, kw]) on NCHW images, 1-D and
 * 2-D, with optional bias. Relu and Clip are applied natively, other fused activations afterwards in Java.
 * Weights and bias are read from their tensors at every run (no packing), so they need not be constant.
 *
 * <p>Threads: tiles are blocks of 16 input channels (the channel-lane kernels' width) of one image, each thread
 * with its own scratch; channels are independent, so results do not depend on the split.
 */
final class DepthwiseF32Kernel implements Kernel, RunContext.TileTask {

    private final Node node;
    private final int isa;
    private Geom g;
    private int batch;
    private long mult;
    private FusedActivation act;
    private int nativeAct;
    private int tiles;         // per image
    private int block;         // input channels per tile
    private Geom blockGeom;
    private Geom lastGeom;     // the last, partial block
    private long scratchBytes; // per thread

    DepthwiseF32Kernel(Node node, int isa) {
        this.node = node;
        this.isa = isa;
    }

    @Override
    public void prepare(PrepareContext ctx) {
        int[] xs = ctx.inputShape(0);
        int[] ws = ctx.inputShape(1);
        if (ctx.inputType(0) != DType.FLOAT32 || ctx.inputType(1) != DType.FLOAT32) {
            throw new UnsupportedModelException(node.describe() + ": depthwise input and weights must be FLOAT32");
        }
        int c = xs.length > 1 ? xs[1] : 0;
        if (xs.length < 3 || ws.length != xs.length || node.intAttr("group") != c || ws[1] != 1 || ws[0] % c != 0) {
            throw new IllegalArgumentException("input " + Arrays.toString(xs) + ", weights " + Arrays.toString(ws)
                    + " and group " + node.intAttr("group") + " do not form a depthwise convolution");
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
        if (ctx.hasInput(2) && (ctx.inputType(2) != DType.FLOAT32 || Tensor.elementCount(ctx.inputShape(2)) != ws[0])) {
            throw new IllegalArgumentException("bias must be FLOAT32[" + ws[0] + "]");
        }
        g = Geom.of(node, xs, kernel, c, false);
        batch = xs[0];
        mult = ws[0] / c;
        act = FusedActivation.of(node);
        nativeAct = act.kind() == FusedActivation.Kind.RELU ? 1 : act.kind() == FusedActivation.Kind.CLIP ? 2 : 0;
        scratchBytes = Native.align64(Native.depthwiseF32ScratchBytes(g));
        // a direct depthwise multiply-add costs about eight of the GEMM's, whose rate the work bound assumes
        int t = Tiles.split(ctx.threads(), c, 16, 1, 1, 8.0 * ws[0] * g.outPlane() * g.kh * g.kw)[0];
        block = Tiles.ceilDiv(Tiles.ceilDiv(c, 16), t) * 16;
        tiles = Tiles.ceilDiv(c, block);
        blockGeom = g.withChannels(Math.min(c, block));
        lastGeom = g.withChannels(c - (long) (tiles - 1) * block);
        ctx.requestScratch(scratchBytes * ctx.threads());
        ctx.setOutput(0, DType.FLOAT32, g.outputShape(batch, ws[0], xs.length));
    }

    @Override
    public void run(RunContext ctx) {
        ctx.parallelFor(batch * tiles, this);
        Tensor y = ctx.output(0);
        if (nativeAct == 0 && !act.isNone()) {
            act.apply(y.floats(), 0, y.elementCount());
        }
    }

    @Override
    public void run(RunContext ctx, int tile, int worker) {
        int i = tile / tiles;
        int t = tile % tiles;
        long c0 = (long) t * block;
        Geom gb = t == tiles - 1 ? lastGeom : blockGeom;
        long in = 4L * (i * g.c + c0) * g.inPlane();
        long out = 4L * (i * g.c + c0) * mult * g.outPlane();
        ByteBuffer b = ctx.input(2) == null ? null : Staging.direct(ctx.input(2), 2);
        float lo = nativeAct == 2 ? act.alpha() : 0f;
        float hi = nativeAct == 2 ? act.beta() : 0f;
        Native.depthwiseF32(isa, Staging.direct(ctx.input(0), 0), in, gb, mult, Staging.direct(ctx.input(1), 1),
                4L * c0 * mult * g.kh * g.kw, b, 4L * c0 * mult, nativeAct, lo, hi, ctx.output(0).data(), out,
                ctx.scratch(), worker * scratchBytes);
    }
}
