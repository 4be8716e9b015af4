package dev.hedge.kernels.ref.elementwise;

import dev.hedge.ir.Node;
import dev.hedge.kernels.Kernel;
import dev.hedge.kernels.PrepareContext;
import dev.hedge.kernels.RunContext;
import dev.hedge.kernels.util.ScratchArrays;
import dev.hedge.kernels.util.Shapes;
import dev.hedge.ops.Op;
import dev.hedge.runtime.DType;
import dev.hedge.runtime.Tensor;

/** IsNaN and IsInf (detect_negative / detect_positive): a float tensor to BOOL. */
final class PredicateKernel implements Kernel {

    private final boolean nan;
    private final boolean negInf;
    private final boolean posInf;
    private Lane lane;
    private int size;

    PredicateKernel(Node node) {
        this.nan = node.op() == Op.IsNaN;
        this.negInf = !nan && node.intAttr("detect_negative") != 0;
        this.posInf = !nan && node.intAttr("detect_positive") != 0;
    }

    @Override
    public void prepare(PrepareContext ctx) {
        Checks.present(ctx, 0);
        DType t = Checks.type(ctx, 0, Types.FLOATS);
        int[] shape = ctx.inputShape(0);
        lane = Lane.of(t);
        size = Shapes.product(shape);
        ctx.setOutput(0, DType.BOOL, shape);
    }

    @Override
    public void run(RunContext ctx) {
        Tensor x = ctx.input(0);
        Tensor y = ctx.output(0);
        Object buf = lane.scratch(0, size);
        int[] o = ScratchArrays.ints(0, Math.min(Lane.CHUNK, Math.max(1, size)));
        for (int s = 0; s < size; s += Lane.CHUNK) {
            int n = Math.min(Lane.CHUNK, size - s);
            Access.load(x, s, 1, buf, 0, n);
            if (buf instanceof float[] f) {
                for (int i = 0; i < n; i++) {
                    o[i] = test(f[i]) ? 1 : 0;
                }
            } else {
                double[] d = (double[]) buf;
                for (int i = 0; i < n; i++) {
                    o[i] = test(d[i]) ? 1 : 0;
                }
            }
            Access.storeBools(o, 0, y, s, n);
        }
    }

    private boolean test(double v) {
        if (nan) {
            return v != v;
        }
        return v == Double.POSITIVE_INFINITY ? posInf : v == Double.NEGATIVE_INFINITY && negInf;
    }
}
