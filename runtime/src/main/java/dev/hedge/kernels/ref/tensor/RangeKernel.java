package dev.hedge.kernels.ref.tensor;

import dev.hedge.ir.Node;
import dev.hedge.kernels.Kernel;
import dev.hedge.kernels.PrepareContext;
import dev.hedge.kernels.RunContext;
import dev.hedge.runtime.DType;
import dev.hedge.runtime.Tensor;
import dev.hedge.runtime.UnsupportedModelException;

/** Range: start + i * delta for i in [0, max(ceil((limit - start) / delta), 0)). */
public final class RangeKernel implements Kernel {

    private final Node node;
    private int count;

    public RangeKernel(Node node) {
        this.node = node;
    }

    @Override
    public void prepare(PrepareContext ctx) {
        DType t = ctx.inputType(0);
        for (int i = 1; i < 3; i++) {
            if (ctx.inputType(i) != t) {
                throw new IllegalArgumentException("start is " + t + " but input " + i + " is " + ctx.inputType(i));
            }
        }
        if (t == DType.BOOL || t.bits() == 4 || (!t.isFloat() && !t.isSigned())) {
            throw new UnsupportedModelException(node.describe() + ": Range of " + t + " is not supported");
        }
        Tensor start = scalar(ctx, 0, "start");
        Tensor limit = scalar(ctx, 1, "limit");
        Tensor delta = scalar(ctx, 2, "delta");
        long n;
        if (t.isFloat()) {
            double d = delta.getDouble(0);
            if (d == 0 || Double.isNaN(d)) {
                throw new IllegalArgumentException("delta must be non-zero, got " + d);
            }
            double c = Math.ceil((limit.getDouble(0) - start.getDouble(0)) / d);
            if (Double.isNaN(c) || c > Integer.MAX_VALUE) {
                throw new IllegalArgumentException("range has too many elements (" + c + ")");
            }
            n = Math.max(0, (long) c);
        } else {
            long d = delta.getLong(0);
            if (d == 0) {
                throw new IllegalArgumentException("delta must be non-zero");
            }
            long span = limit.getLong(0) - start.getLong(0);
            n = Math.max(0, Math.floorDiv(span, d) + (Math.floorMod(span, d) != 0 ? 1 : 0));
        }
        count = Prep.toDim(n, "range length");
        ctx.setOutput(0, t, count);
    }

    private static Tensor scalar(PrepareContext ctx, int i, String what) {
        Tensor v = ctx.requireValue(i);
        if (v.elementCount() != 1) {
            throw new IllegalArgumentException(what + " must be a scalar, got " + v);
        }
        return v;
    }

    @Override
    public void run(RunContext ctx) {
        Tensor out = ctx.output(0);
        Tensor start = ctx.input(0);
        Tensor delta = ctx.input(2);
        if (out.dtype().isFloat()) {
            double s = start.getDouble(0);
            double d = delta.getDouble(0);
            for (int i = 0; i < count; i++) {
                out.setDouble(i, s + i * d);
            }
        } else {
            long s = start.getLong(0);
            long d = delta.getLong(0);
            for (int i = 0; i < count; i++) {
                out.setLong(i, s + i * d);
            }
        }
    }
}
