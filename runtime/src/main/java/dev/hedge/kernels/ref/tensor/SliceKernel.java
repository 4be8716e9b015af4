package dev.hedge.kernels.ref.tensor;

import dev.hedge.ir.Node;
import dev.hedge.kernels.Kernel;
import dev.hedge.kernels.PrepareContext;
import dev.hedge.kernels.RunContext;
import java.util.Arrays;

/**
 * Slice with starts/ends/axes/steps inputs (ONNX clamping, negative steps): a strided copy whose source
 * strides are the input strides times the steps. Step-1 inner axes become bulk copies.
 */
public final class SliceKernel implements Kernel {

    private final Node node;
    private StridedCopy copy;

    public SliceKernel(Node node) {
        this.node = node;
    }

    @Override
    public void prepare(PrepareContext ctx) {
        int[] in = ctx.inputShape(0);
        int r = in.length;
        long[] starts = Prep.ints(ctx, 1, "starts");
        long[] ends = Prep.ints(ctx, 2, "ends");
        int k = starts.length;
        if (ends.length != k) {
            throw new IllegalArgumentException("starts has " + k + " entries but ends has " + ends.length);
        }
        long[] axes = ctx.hasInput(3) ? Prep.ints(ctx, 3, "axes") : null;
        long[] steps = ctx.hasInput(4) ? Prep.ints(ctx, 4, "steps") : null;
        if (axes != null && axes.length != k) {
            throw new IllegalArgumentException("axes has " + axes.length + " entries but starts has " + k);
        }
        if (steps != null && steps.length != k) {
            throw new IllegalArgumentException("steps has " + steps.length + " entries but starts has " + k);
        }
        int[] start = new int[r];
        int[] step = new int[r];
        int[] out = in.clone();
        Arrays.fill(step, 1);
        boolean[] seen = new boolean[r];
        for (int i = 0; i < k; i++) {
            int a = axes == null ? Prep.axis(i, r, "axis") : Prep.axis(axes[i], r, "axis");
            if (seen[a]) {
                throw new IllegalArgumentException("axis " + a + " is sliced twice (axes " + Arrays.toString(axes) + ")");
            }
            seen[a] = true;
            long st = steps == null ? 1 : steps[i];
            if (st == 0) {
                throw new IllegalArgumentException("step for axis " + a + " is 0");
            }
            if (st > Integer.MAX_VALUE || st < -Integer.MAX_VALUE) {
                st = st > 0 ? Integer.MAX_VALUE : -Integer.MAX_VALUE;
            }
            long dim = in[a];
            long s = starts[i];
            long e = ends[i];
            if (s < 0) {
                s += dim;
            }
            if (e < 0) {
                e += dim;
            }
            long count;
            if (st > 0) {
                s = clamp(s, 0, dim);
                e = clamp(e, 0, dim);
                count = e > s ? (e - s + st - 1) / st : 0;
            } else {
                s = clamp(s, 0, dim - 1);
                e = clamp(e, -1, dim - 1);
                count = s > e ? (s - e + (-st) - 1) / (-st) : 0;
            }
            if (dim == 0) {
                count = 0;
                s = 0;
            }
            start[a] = (int) s;
            step[a] = (int) st;
            out[a] = (int) count;
        }
        int[] inStrides = StridedCopy.strides(in);
        int[] src = new int[r];
        int base = 0;
        boolean empty = Prep.product(out, 0, r) == 0;
        for (int a = 0; a < r; a++) {
            src[a] = inStrides[a] * step[a];
            if (!empty) {
                base += start[a] * inStrides[a];
            }
        }
        copy = new StridedCopy(out, src, base, StridedCopy.strides(out), 0, ctx.inputType(0).bits());
        ctx.setOutput(0, ctx.inputType(0), out);
        int[] outDims = out;
        // per-axis scales survive only on axes the slice leaves whole
        Prep.passQuant(ctx, 0, 0, a -> outDims[a] == in[a] && step[a] == 1 ? a : -1);
    }

    private static long clamp(long v, long lo, long hi) {
        return Math.max(lo, Math.min(hi, v));
    }

    @Override
    public void run(RunContext ctx) {
        copy.run(ctx.input(0).data(), ctx.output(0).data());
    }
}
