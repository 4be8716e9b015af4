package dev.hedge.kernels.cpu;

import dev.hedge.format.Decoding;
import dev.hedge.ir.Node;
import dev.hedge.kernels.Kernel;
import dev.hedge.kernels.PrepareContext;
import dev.hedge.kernels.RunContext;
import dev.hedge.kernels.util.FusedActivation;
import dev.hedge.ops.Op;
import dev.hedge.runtime.DType;
import dev.hedge.runtime.Tensor;
import dev.hedge.runtime.UnsupportedModelException;
import java.nio.ByteBuffer;
import java.nio.FloatBuffer;
import java.util.Arrays;

/**
 * Conv (ungrouped), Gemm and MatMul in float32 whose weights are a sparse-encoded constant: OUT[R][P] =
 * act(bias + W[R][K] x X[K][P]) with R the output channels. Convolutions use the image plane (1x1) or an
 * im2col of it as X; fully connected layers use the activations transposed (no copy for one row). Relu and
 * Clip are applied natively, other fused activations afterwards in Java.
 */
final class SparseF32Kernel implements Kernel {

    private final Node node;
    private final int isa;

    private SparseWeights weights;
    private ByteBuffer bias;
    private FusedActivation act;
    private int nativeAct;
    private boolean conv;
    private Geom g;
    private int batch;
    private long rows;        // fully connected: activation rows M
    private long colBytes;    // conv: im2col buffer
    private long aTBytes;
    private long outTBytes;

    SparseF32Kernel(Node node, int isa) {
        this.node = node;
        this.isa = isa;
    }

    @Override
    public void prepare(PrepareContext ctx) {
        conv = node.op() == Op.Conv;
        Tensor w = ctx.inputValue(1);
        if (w == null || w.sparse() == null || w.dtype() != DType.FLOAT32 || ctx.inputType(0) != DType.FLOAT32) {
            throw new UnsupportedModelException(node.describe() + ": needs FLOAT32 input and sparse FLOAT32 weights");
        }
        act = FusedActivation.of(node);
        nativeAct = act.kind() == FusedActivation.Kind.RELU ? 1 : act.kind() == FusedActivation.Kind.CLIP ? 2 : 0;
        int[] xs = ctx.inputShape(0);
        int[] ws = w.shape();
        Tensor dense = Decoding.densify(w);
        FloatBuffer wd = dense.floats();
        int r;
        int k;
        SparseWeights.Source src;
        boolean transposed;
        if (conv) {
            if (xs.length < 3 || ws.length != xs.length || node.intAttr("group") != 1 || ws[1] != xs[1]) {
                throw new IllegalArgumentException("input " + Arrays.toString(xs) + " and weights "
                        + Arrays.toString(ws) + " do not form an ungrouped convolution");
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
            g = Geom.of(node, xs, kernel, xs[1], false);
            batch = xs[0];
            r = ws[0];
            k = Math.toIntExact(g.reduction());
            final int kk0 = k;
            src = (i, j) -> wd.get(i * kk0 + j);
            transposed = false;
            colBytes = g.isPointwise() ? 0 : Math.multiplyExact(g.reduction(), g.outPlane() * 4);
            ctx.requestScratch(colBytes);
            ctx.setOutput(0, DType.FLOAT32, g.outputShape(batch, r, xs.length));
        } else {
            boolean transB = node.op() == Op.Gemm && node.intAttr("transB") != 0;
            if (ws.length != 2 || xs.length < 1) {
                throw new IllegalArgumentException("weights " + Arrays.toString(ws) + " are not 2-D");
            }
            k = transB ? ws[1] : ws[0];
            r = transB ? ws[0] : ws[1];
            if (xs[xs.length - 1] != k || (node.op() == Op.Gemm && xs.length != 2)) {
                throw new IllegalArgumentException("cannot multiply " + Arrays.toString(xs) + " by "
                        + Arrays.toString(ws));
            }
            rows = Tensor.elementCount(xs) / k;
            final int rr = r;
            final int kk0 = k;
            src = transB ? (i, j) -> wd.get(i * kk0 + j) : (i, j) -> wd.get(j * rr + i);
            transposed = !transB;
            aTBytes = rows > 1 ? Native.align64(Math.multiplyExact(rows, 4L * k)) : 0;
            outTBytes = rows > 1 ? Native.align64(Math.multiplyExact(rows, 4L * r)) : 0;
            ctx.requestScratch(aTBytes + outTBytes);
            int[] out = xs.length == 1 ? new int[] {r} : Arrays.copyOf(xs, xs.length);
            out[out.length - 1] = r;
            ctx.setOutput(0, DType.FLOAT32, out);
        }
        int[] blk = SparseInt8.blocks(w.sparse(), transposed, r, k, false);
        weights = SparseWeights.f32(src, r, k, blk[0], blk[1]);
        bias = biasOf(ctx, r);
        ctx.reportPackedBytes(weights.bytes() + Native.capacity(bias));
    }

    /** Per output channel bias: Conv's B, or Gemm's C when it is one value per column. */
    private ByteBuffer biasOf(PrepareContext ctx, int r) {
        if (!ctx.hasInput(2)) {
            return null;
        }
        Tensor c = ctx.requireValue(2);
        if (c.dtype() != DType.FLOAT32 || c.isEncoded()) {
            throw new UnsupportedModelException(node.describe() + ": bias must be dense FLOAT32");
        }
        int n = c.elementCount();
        if (n != 1 && n != r) {
            throw new UnsupportedModelException(node.describe() + ": bias of shape " + Arrays.toString(c.shape())
                    + " is not one value per output channel");
        }
        ByteBuffer b = Native.allocate(4L * r);
        for (int i = 0; i < r; i++) {
            b.putFloat(4 * i, c.getFloat(n == 1 ? 0 : i));
        }
        return b;
    }


    @Override
    public void run(RunContext ctx) {
        ByteBuffer x = Staging.direct(ctx.input(0), 0);
        Tensor outT = ctx.output(0);
        ByteBuffer out = outT.data();
        ByteBuffer scratch = ctx.scratch();
        float lo = act.kind() == FusedActivation.Kind.CLIP ? act.alpha() : 0f;
        float hi = act.kind() == FusedActivation.Kind.CLIP ? act.beta() : 0f;
        long r = weights.rows();
        if (conv) {
            long p = g.outPlane();
            long inImage = 4L * g.c * g.inPlane();
            for (int b = 0; b < batch; b++) {
                ByteBuffer xs = x;
                long xoff = b * inImage;
                if (!g.isPointwise()) {
                    Native.im2col(4, x, xoff, g, 0, scratch, 0);
                    xs = scratch;
                    xoff = 0;
                }
                Native.sparseF32Gemm(isa, weights, xs, xoff, p, p, bias, 0, nativeAct, lo, hi, out, b * 4L * r * p, p);
            }
        } else if (rows == 1) {
            Native.sparseF32Gemm(isa, weights, x, 0, 1, 1, bias, 0, nativeAct, lo, hi, out, 0, 1);
        } else {
            long k = weights.cols();
            Native.transpose(4, x, 0, rows, k, scratch, 0);
            Native.sparseF32Gemm(isa, weights, scratch, 0, rows, rows, bias, 0, nativeAct, lo, hi, scratch, aTBytes,
                    rows);
            Native.transpose(4, scratch, aTBytes, r, rows, out, 0);
        }
        if (nativeAct == 0 && !act.isNone()) {
            act.apply(outT.floats(), 0, outT.elementCount());
        }
    }
}
