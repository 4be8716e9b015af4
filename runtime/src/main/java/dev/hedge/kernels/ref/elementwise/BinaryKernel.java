package dev.hedge.kernels.ref.elementwise;

import dev.hedge.ir.Node;
import dev.hedge.kernels.Kernel;
import dev.hedge.kernels.PrepareContext;
import dev.hedge.kernels.RunContext;
import dev.hedge.kernels.util.Shapes;
import dev.hedge.ops.Op;
import dev.hedge.runtime.DType;
import dev.hedge.runtime.Tensor;
import java.util.Set;

/**
 * Binary and variadic ops of one dtype with numpy broadcasting: per output chunk, the first input is
 * loaded into an accumulator and every further input is folded into it ({@code Sum(a, b, c)} is
 * {@code (a + b) + c}; Mean divides at the end, before the single rounding to the output type).
 * PRelu broadcasts its slope one way only: the output has X's shape.
 */
final class BinaryKernel implements Kernel {

    private final Node node;
    private final BinaryFn fn;
    private final Set<DType> types;
    private Lane lane;
    private Broadcast bc;

    BinaryKernel(Node node, BinaryFn fn) {
        this.node = node;
        this.fn = fn;
        Op op = node.op();
        this.types = op == Op.Sum || op == Op.Mean ? Types.FLOATS : fn.types;
    }

    @Override
    public void prepare(PrepareContext ctx) {
        int k = ctx.inputCount();
        Checks.present(ctx, 0);
        if (node.op() == Op.Mod && fn == BinaryFns.MOD && Types.FLOATS.contains(ctx.inputType(0))) {
            throw new IllegalArgumentException("Mod of " + ctx.inputType(0) + " needs fmod=1 (ONNX defines fmod=0"
                    + " for integers only)");
        }
        DType t = Checks.type(ctx, 0, types);
        int[][] shapes = new int[k][];
        for (int i = 0; i < k; i++) {
            Checks.present(ctx, i);
            Checks.sameType(ctx, i, 0, t);
            shapes[i] = ctx.inputShape(i);
        }
        if (node.op() == Op.PRelu) {
            int[] x = shapes[0];
            int[] out = Shapes.broadcast(x, shapes[1]);
            if (!Shapes.sameShape(out, x)) {
                throw new IllegalArgumentException("slope of shape " + Shapes.str(shapes[1])
                        + " does not broadcast to X's shape " + Shapes.str(x));
            }
        }
        bc = Broadcast.of(shapes);
        lane = Lane.of(t);
        ctx.setOutput(0, t, bc.outShape());
    }

    @Override
    public void run(RunContext ctx) {
        int size = bc.size();
        int k = node.inputs().size();
        boolean mean = node.op() == Op.Mean;
        Tensor out = ctx.output(0);
        Object acc = lane.scratch(0, size);
        Object other = lane.scratch(1, size);
        for (int s = 0; s < size; s += Lane.CHUNK) {
            int n = Math.min(Lane.CHUNK, size - s);
            bc.load(0, ctx.input(0), s, n, acc);
            for (int i = 1; i < k; i++) {
                bc.load(i, ctx.input(i), s, n, other);
                fn.apply(lane, acc, other, n);
            }
            if (mean) {
                divide(acc, k, n);
            }
            Access.store(acc, 0, out, s, n);
        }
    }

    private static void divide(Object acc, int k, int n) {
        if (acc instanceof float[] f) {
            for (int i = 0; i < n; i++) {
                f[i] /= k;
            }
        } else {
            double[] d = (double[]) acc;
            for (int i = 0; i < n; i++) {
                d[i] /= k;
            }
        }
    }
}
