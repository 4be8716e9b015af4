package dev.hedge.kernels.ref.tensor;

import dev.hedge.ir.Node;
import dev.hedge.kernels.Kernel;
import dev.hedge.kernels.PrepareContext;
import dev.hedge.kernels.RunContext;
import dev.hedge.runtime.DType;
import dev.hedge.runtime.Tensor;
import dev.hedge.runtime.UnsupportedModelException;

/**
 * Dropout for inference: the output is the input and the optional mask is all true. Training mode with a
 * non-zero ratio draws random numbers, which Hedge does not do: refused. (With ratio 0 it is the identity.)
 */
public final class DropoutKernel implements Kernel {

    private final Node node;

    public DropoutKernel(Node node) {
        this.node = node;
    }

    @Override
    public void prepare(PrepareContext ctx) {
        if (ctx.hasInput(2) && ctx.requireValue(2).getLong(0) != 0) {
            double ratio = 0.5;
            if (ctx.hasInput(1)) {
                Tensor r = ctx.requireValue(1);
                ratio = r.getDouble(0);
            }
            if (ratio != 0) {
                throw new UnsupportedModelException(node.describe() + ": training_mode=true with ratio " + ratio
                        + " (random dropout) is not supported; Hedge runs inference only");
            }
        }
        int[] shape = ctx.inputShape(0);
        ctx.setOutput(0, ctx.inputType(0), shape);
        Prep.passQuant(ctx, 0, 0, a -> a);
        if (ctx.hasOutput(1)) {
            ctx.setOutput(1, DType.BOOL, shape);
        }
    }

    @Override
    public void run(RunContext ctx) {
        Tensor in = ctx.input(0);
        in.copyTo(ctx.output(0));
        Tensor mask = ctx.output(1);
        if (mask != null) {
            Elems.fill(mask.data(), 0, mask.elementCount(), 8, 1);
        }
    }
}
