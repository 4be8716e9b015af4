package dev.hedge.kernels.cpu;

import dev.hedge.ir.Node;
import dev.hedge.kernels.Kernel;
import dev.hedge.kernels.PrepareContext;
import dev.hedge.kernels.RunContext;
import dev.hedge.runtime.DType;
import dev.hedge.runtime.UnsupportedModelException;
import java.nio.ByteBuffer;
import java.util.Arrays;

/**
 * MaxPool of UINT8 / INT8 NCHW tensors (1-D and 2-D windows; no Indices output). Exact by nature, and
 * quantization parameters pass through: max commutes with a monotonic dequantization.
 */
final class MaxPool8Kernel implements Kernel {

    private final Node node;
    private final int isa;
    private boolean signed;
    private Geom g;
    private int batch;

    MaxPool8Kernel(Node node, int isa) {
        this.node = node;
        this.isa = isa;
    }

    @Override
    public void prepare(PrepareContext ctx) {
        DType t = ctx.inputType(0);
        if (!QuantInputs.isByteType(t)) {
            throw new UnsupportedModelException(node.describe() + ": input is " + t + ", not 8-bit");
        }
        if (ctx.hasOutput(1)) {
            throw new UnsupportedModelException(node.describe() + ": the Indices output is not produced natively");
        }
        signed = t == DType.INT8;
        int[] xs = ctx.inputShape(0);
        if (xs.length < 3) {
            throw new IllegalArgumentException("input " + Arrays.toString(xs) + " has no spatial axes");
        }
        batch = xs[0];
        g = Geom.of(node, xs, node.intsAttr("kernel_shape"), xs[1], true);
        ctx.setOutput(0, t, g.outputShape(batch, xs[1], xs.length));
        if (ctx.inputQuant(0) != null) {
            ctx.setOutputQuant(0, ctx.inputQuant(0));
        }
    }

    @Override
    public void run(RunContext ctx) {
        ByteBuffer x = Staging.direct(ctx.input(0), 0);
        ByteBuffer out = ctx.output(0).data();
        long in = g.c * g.inPlane();
        long o = g.c * g.outPlane();
        for (int b = 0; b < batch; b++) {
            Native.maxPool8(isa, signed, x, b * in, g, out, b * o);
        }
    }
}
