package dev.hedge.kernels.ref.tensor;

import dev.hedge.ir.Node;
import dev.hedge.kernels.Kernel;
import dev.hedge.kernels.PrepareContext;
import dev.hedge.kernels.RunContext;
import dev.hedge.runtime.DType;
import dev.hedge.runtime.Tensor;
import java.util.Arrays;

/** ConstantOfShape: the {@code value} attribute (one element; float 0 by default) repeated over a shape. */
public final class ConstantOfShapeKernel implements Kernel {

    private final Node node;
    private DType dtype;
    private long raw;

    public ConstantOfShapeKernel(Node node) {
        this.node = node;
    }

    @Override
    public void prepare(PrepareContext ctx) {
        long[] s = Prep.ints(ctx, 0, "shape");
        int[] shape = new int[s.length];
        for (int i = 0; i < s.length; i++) {
            shape[i] = Prep.toDim(s[i], "shape entry");
        }
        Prep.product(shape, 0, shape.length);
        Tensor v = node.tensorAttr("value");
        if (v == null) {
            dtype = DType.FLOAT32;
            raw = 0;
        } else {
            if (v.elementCount() != 1) {
                throw new IllegalArgumentException("value must hold one element, got shape "
                        + Arrays.toString(v.shape()));
            }
            dtype = v.dtype();
            raw = Elems.read(v.data(), 0, dtype.bits());
        }
        ctx.setOutput(0, dtype, shape);
    }

    @Override
    public void run(RunContext ctx) {
        Tensor out = ctx.output(0);
        Elems.fill(out.data(), 0, out.elementCount(), dtype.bits(), raw);
    }
}
