package dev.hedge.kernels.ref.elementwise;

import dev.hedge.kernels.Kernel;
import dev.hedge.kernels.PrepareContext;
import dev.hedge.kernels.RunContext;
import dev.hedge.kernels.util.ScratchArrays;
import dev.hedge.runtime.DType;
import dev.hedge.runtime.Tensor;

/** Equal, Less, LessOrEqual, Greater, GreaterOrEqual: two inputs of one dtype, broadcast, BOOL out. */
final class CompareKernel implements Kernel {

    private final CompareFn fn;
    private Lane lane;
    private Broadcast bc;

    CompareKernel(CompareFn fn) {
        this.fn = fn;
    }

    @Override
    public void prepare(PrepareContext ctx) {
        Checks.present(ctx, 0);
        Checks.present(ctx, 1);
        DType t = Checks.type(ctx, 0, fn.types);
        Checks.sameType(ctx, 1, 0, t);
        bc = Broadcast.of(ctx.inputShape(0), ctx.inputShape(1));
        lane = Lane.of(t);
        ctx.setOutput(0, DType.BOOL, bc.outShape());
    }

    @Override
    public void run(RunContext ctx) {
        int size = bc.size();
        Tensor a = ctx.input(0);
        Tensor b = ctx.input(1);
        Tensor out = ctx.output(0);
        Object x = lane.scratch(0, size);
        Object y = lane.scratch(1, size);
        // slot 2: bool lanes use int slots 0 and 1 for the operands
        int[] o = ScratchArrays.ints(2, Math.min(Lane.CHUNK, Math.max(1, size)));
        for (int s = 0; s < size; s += Lane.CHUNK) {
            int n = Math.min(Lane.CHUNK, size - s);
            bc.load(0, a, s, n, x);
            bc.load(1, b, s, n, y);
            fn.apply(lane, x, y, o, n);
            Access.storeBools(o, 0, out, s, n);
        }
    }
}
