package dev.hedge.kernels.ref.tensor;

import dev.hedge.ir.Node;
import dev.hedge.kernels.Kernel;
import dev.hedge.kernels.PrepareContext;
import dev.hedge.kernels.RunContext;
import dev.hedge.runtime.DType;
import dev.hedge.runtime.Tensor;
import java.util.Arrays;

/**
 * Split by the {@code split} input, by {@code num_outputs} (the last part may be smaller), or into equal parts;
 * each output is one strided copy of its slab.
 */
public final class SplitKernel implements Kernel {

    private final Node node;
    private StridedCopy[] copies;

    public SplitKernel(Node node) {
        this.node = node;
    }

    @Override
    public void prepare(PrepareContext ctx) {
        int[] in = ctx.inputShape(0);
        DType dtype = ctx.inputType(0);
        int r = in.length;
        if (r == 0) {
            throw new IllegalArgumentException("cannot split a scalar");
        }
        int axis = Prep.axis(node.intAttr("axis"), r, "axis");
        int n = ctx.outputCount();
        int dim = in[axis];
        long[] sizes;
        if (ctx.hasInput(1)) {
            sizes = Prep.ints(ctx, 1, "split");
            if (sizes.length != n) {
                throw new IllegalArgumentException("split " + Arrays.toString(sizes) + " has " + sizes.length
                        + " entries for " + n + " outputs");
            }
            long sum = 0;
            for (long s : sizes) {
                if (s < 0) {
                    throw new IllegalArgumentException("split " + Arrays.toString(sizes) + " has a negative size");
                }
                sum += s;
            }
            if (sum != dim) {
                throw new IllegalArgumentException("split " + Arrays.toString(sizes) + " sums to " + sum
                        + ", but axis " + axis + " of " + Arrays.toString(in) + " has size " + dim);
            }
        } else if (node.hasAttr("num_outputs")) {
            long k = node.intAttr("num_outputs");
            if (k != n) {
                throw new IllegalArgumentException("num_outputs is " + k + " but the node has " + n + " outputs");
            }
            long chunk = (dim + n - 1) / n;
            if (chunk * (n - 1) > dim) {
                throw new IllegalArgumentException("axis " + axis + " of size " + dim + " cannot be split into "
                        + n + " parts of " + chunk + " with only the last one smaller");
            }
            sizes = new long[n];
            Arrays.fill(sizes, chunk);
            sizes[n - 1] = dim - chunk * (n - 1);
        } else {
            if (dim % n != 0) {
                throw new IllegalArgumentException("axis " + axis + " of size " + dim + " does not split into " + n
                        + " equal parts");
            }
            sizes = new long[n];
            Arrays.fill(sizes, dim / n);
        }
        int[] inStrides = StridedCopy.strides(in);
        copies = new StridedCopy[n];
        int offset = 0;
        for (int i = 0; i < n; i++) {
            int[] out = in.clone();
            out[axis] = (int) sizes[i];
            if (ctx.hasOutput(i)) {
                copies[i] = new StridedCopy(out, inStrides, offset * inStrides[axis], StridedCopy.strides(out), 0,
                        dtype.bits());
                ctx.setOutput(i, dtype, out);
                // per-axis scales along the split axis would have to be split too
                Prep.passQuant(ctx, i, 0, a -> a == axis ? -1 : a);
            }
            offset += out[axis];
        }
    }

    @Override
    public void run(RunContext ctx) {
        var in = ctx.input(0).data();
        for (int i = 0; i < copies.length; i++) {
            Tensor o = ctx.output(i);
            if (copies[i] != null && o != null) {
                copies[i].run(in, o.data());
            }
        }
    }
}
