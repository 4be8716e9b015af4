package dev.hedge.kernels.ref.elementwise;

import dev.hedge.kernels.Kernel;
import dev.hedge.kernels.PrepareContext;
import dev.hedge.kernels.RunContext;
import dev.hedge.kernels.util.Shapes;
import dev.hedge.runtime.DType;
import dev.hedge.runtime.Tensor;

/**
 * Clip(x, min, max) with optional single-element bounds (omitted: no bound), read when the node runs so
 * bounds computed at run time work too. min > max gives max everywhere, as ONNX specifies.
 */
final class ClipKernel implements Kernel {

    private Lane lane;
    private int size;

    @Override
    public void prepare(PrepareContext ctx) {
        Checks.present(ctx, 0);
        DType t = Checks.type(ctx, 0, Types.NUMERIC);
        for (int i = 1; i <= 2; i++) {
            if (ctx.hasInput(i)) {
                Checks.sameType(ctx, i, 0, t);
                int[] s = ctx.inputShape(i);
                if (Shapes.product(s) != 1) {
                    throw new IllegalArgumentException((i == 1 ? "min" : "max") + " must be a scalar, has shape "
                            + Shapes.str(s));
                }
            }
        }
        int[] shape = ctx.inputShape(0);
        lane = Lane.of(t);
        size = Shapes.product(shape);
        ctx.setOutput(0, t, shape);
    }

    @Override
    public void run(RunContext ctx) {
        Tensor x = ctx.input(0);
        Tensor lo = ctx.input(1);
        Tensor hi = ctx.input(2);
        Tensor y = ctx.output(0);
        Object buf = lane.scratch(0, size);
        for (int s = 0; s < size; s += Lane.CHUNK) {
            int n = Math.min(Lane.CHUNK, size - s);
            Access.load(x, s, 1, buf, 0, n);
            switch (lane) {
                case F32: {
                    float a = lo == null ? Float.NEGATIVE_INFINITY : lo.getFloat(0);
                    float b = hi == null ? Float.POSITIVE_INFINITY : hi.getFloat(0);
                    float[] v = (float[]) buf;
                    for (int i = 0; i < n; i++) {
                        v[i] = Math.min(Math.max(v[i], a), b);
                    }
                    break;
                }
                case F64: {
                    double a = lo == null ? Double.NEGATIVE_INFINITY : lo.getDouble(0);
                    double b = hi == null ? Double.POSITIVE_INFINITY : hi.getDouble(0);
                    double[] v = (double[]) buf;
                    for (int i = 0; i < n; i++) {
                        v[i] = Math.min(Math.max(v[i], a), b);
                    }
                    break;
                }
                case I64: {
                    long a = lo == null ? Long.MIN_VALUE : lo.getLong(0);
                    long b = hi == null ? Long.MAX_VALUE : hi.getLong(0);
                    long[] v = (long[]) buf;
                    for (int i = 0; i < n; i++) {
                        v[i] = Math.min(Math.max(v[i], a), b);
                    }
                    break;
                }
                default: {
                    // UINT64: compare as unsigned; flipping the sign bit maps unsigned order onto signed order
                    long a = (lo == null ? 0 : lo.getLong(0)) ^ Long.MIN_VALUE;
                    long b = (hi == null ? -1L : hi.getLong(0)) ^ Long.MIN_VALUE;
                    long[] v = (long[]) buf;
                    for (int i = 0; i < n; i++) {
                        v[i] = Math.min(Math.max(v[i] ^ Long.MIN_VALUE, a), b) ^ Long.MIN_VALUE;
                    }
                }
            }
            Access.store(buf, 0, y, s, n);
        }
    }
}
