package dev.hedge.kernels.ref.elementwise;

import dev.hedge.kernels.Kernel;
import dev.hedge.kernels.PrepareContext;
import dev.hedge.kernels.RunContext;
import dev.hedge.kernels.util.Shapes;
import dev.hedge.runtime.DType;
import dev.hedge.runtime.Tensor;

/** y = f(x) elementwise, same dtype and shape; chunks are loaded, transformed in place and stored. */
final class UnaryKernel implements Kernel {

    private final UnaryFn fn;
    private Lane lane;
    private int size;

    UnaryKernel(UnaryFn fn) {
        this.fn = fn;
    }

    @Override
    public void prepare(PrepareContext ctx) {
        Checks.present(ctx, 0);
        DType t = Checks.type(ctx, 0, fn.types);
        int[] shape = ctx.inputShape(0);
        lane = Lane.of(t);
        size = Shapes.product(shape);
        ctx.setOutput(0, t, shape);
    }

    @Override
    public void run(RunContext ctx) {
        Tensor x = ctx.input(0);
        Tensor y = ctx.output(0);
        Object buf = lane.scratch(0, size);
        for (int s = 0; s < size; s += Lane.CHUNK) {
            int n = Math.min(Lane.CHUNK, size - s);
            Access.load(x, s, 1, buf, 0, n);
            fn.apply(lane, buf, n);
            Access.store(buf, 0, y, s, n);
        }
    }
}
