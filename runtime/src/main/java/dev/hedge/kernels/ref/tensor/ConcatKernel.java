package dev.hedge.kernels.ref.tensor;

import dev.hedge.ir.Node;
import dev.hedge.kernels.Kernel;
import dev.hedge.kernels.PrepareContext;
import dev.hedge.kernels.RunContext;
import dev.hedge.runtime.DType;
import dev.hedge.runtime.QuantParams;
import dev.hedge.runtime.UnsupportedModelException;
import java.util.Arrays;
import java.util.Objects;

/** Concat: each input is one strided copy into its slab of the output (bulk runs of its inner block). */
public final class ConcatKernel implements Kernel {

    private final Node node;
    private StridedCopy[] copies;

    public ConcatKernel(Node node) {
        this.node = node;
    }

    @Override
    public void prepare(PrepareContext ctx) {
        int n = ctx.inputCount();
        DType dtype = null;
        for (int i = 0; i < n; i++) {
            if (!ctx.hasInput(i)) {
                throw new IllegalArgumentException("input " + i + " is missing");
            }
            DType t = ctx.inputType(i);
            if (dtype == null) {
                dtype = t;
            } else if (t != dtype) {
                throw new IllegalArgumentException("input " + i + " is " + t + " but input 0 is " + dtype);
            }
        }
        int[] first = ctx.inputShape(0);
        int r = first.length;
        if (r == 0) {
            throw new IllegalArgumentException("cannot concatenate scalars");
        }
        int axis = Prep.axis(node.intAttr("axis"), r, "axis");
        int[][] shapes = new int[n][];
        long total = 0;
        for (int i = 0; i < n; i++) {
            int[] s = ctx.inputShape(i);
            if (s.length != r) {
                throw new IllegalArgumentException("input " + i + " has shape " + Arrays.toString(s)
                        + ", rank differs from input 0 " + Arrays.toString(first));
            }
            for (int d = 0; d < r; d++) {
                if (d != axis && s[d] != first[d]) {
                    throw new IllegalArgumentException("input " + i + " has shape " + Arrays.toString(s)
                            + ", which differs from input 0 " + Arrays.toString(first) + " outside axis " + axis);
                }
            }
            shapes[i] = s;
            total += s[axis];
        }
        int[] out = first.clone();
        out[axis] = Prep.toDim(total, "concatenated size");
        Prep.product(out, 0, r);
        int[] outStrides = StridedCopy.strides(out);
        copies = new StridedCopy[n];
        int offset = 0;
        for (int i = 0; i < n; i++) {
            copies[i] = new StridedCopy(shapes[i], StridedCopy.strides(shapes[i]), 0, outStrides,
                    offset * outStrides[axis], dtype.bits());
            offset += shapes[i][axis];
        }
        ctx.setOutput(0, dtype, out);
        QuantParams q = ctx.inputQuant(0);
        for (int i = 1; i < n; i++) {
            if (!Objects.equals(q, ctx.inputQuant(i))) {
                throw new UnsupportedModelException(node.describe() + ": inputs have different quantization ("
                        + q + " vs " + ctx.inputQuant(i) + " on input " + i + ")");
            }
        }
        // per-axis scales along the concatenation axis would have to be concatenated too
        Prep.passQuant(ctx, 0, 0, a -> a == axis ? -1 : a);
    }

    @Override
    public void run(RunContext ctx) {
        var out = ctx.output(0).data();
        for (int i = 0; i < copies.length; i++) {
            copies[i].run(ctx.input(i).data(), out);
        }
    }
}
