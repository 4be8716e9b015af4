package dev.hedge.kernels.ref.elementwise;

import dev.hedge.kernels.Kernel;
import dev.hedge.kernels.PrepareContext;
import dev.hedge.kernels.RunContext;
import dev.hedge.kernels.util.ScratchArrays;
import dev.hedge.runtime.DType;
import dev.hedge.runtime.Tensor;
import java.util.EnumSet;
import java.util.Set;

/** Where(cond, X, Y): X where cond else Y, all three broadcast together. */
final class WhereKernel implements Kernel {

    private static final Set<DType> TYPES = EnumSet.complementOf(EnumSet.of(DType.INT4, DType.UINT4));

    private Lane lane;
    private Broadcast bc;

    @Override
    public void prepare(PrepareContext ctx) {
        for (int i = 0; i < 3; i++) {
            Checks.present(ctx, i);
        }
        Checks.type(ctx, 0, Types.BOOL);
        DType t = Checks.type(ctx, 1, TYPES);
        Checks.sameType(ctx, 2, 1, t);
        bc = Broadcast.of(ctx.inputShape(0), ctx.inputShape(1), ctx.inputShape(2));
        lane = Lane.of(t);
        ctx.setOutput(0, t, bc.outShape());
    }

    @Override
    public void run(RunContext ctx) {
        int size = bc.size();
        Tensor c = ctx.input(0);
        Tensor x = ctx.input(1);
        Tensor y = ctx.input(2);
        Tensor out = ctx.output(0);
        int[] cond = ScratchArrays.ints(0, Math.min(Lane.CHUNK, Math.max(1, size)));
        // lane slots 1 and 2, so bool values do not share int slot 0 with the condition
        Object a = lane.scratch(1, size);
        Object b = lane.scratch(2, size);
        for (int s = 0; s < size; s += Lane.CHUNK) {
            int n = Math.min(Lane.CHUNK, size - s);
            bc.load(0, c, s, n, cond);
            bc.load(1, x, s, n, a);
            bc.load(2, y, s, n, b);
            select(cond, a, b, n);
            Access.store(a, 0, out, s, n);
        }
    }

    private static void select(int[] cond, Object a, Object b, int n) {
        if (a instanceof float[] x) {
            float[] y = (float[]) b;
            for (int i = 0; i < n; i++) {
                x[i] = cond[i] != 0 ? x[i] : y[i];
            }
        } else if (a instanceof double[] x) {
            double[] y = (double[]) b;
            for (int i = 0; i < n; i++) {
                x[i] = cond[i] != 0 ? x[i] : y[i];
            }
        } else if (a instanceof long[] x) {
            long[] y = (long[]) b;
            for (int i = 0; i < n; i++) {
                x[i] = cond[i] != 0 ? x[i] : y[i];
            }
        } else {
            int[] x = (int[]) a;
            int[] y = (int[]) b;
            for (int i = 0; i < n; i++) {
                x[i] = cond[i] != 0 ? x[i] : y[i];
            }
        }
    }
}
