package dev.hedge.kernels.ref.tensor;

import dev.hedge.ir.Node;
import dev.hedge.kernels.Kernel;
import dev.hedge.kernels.PrepareContext;
import dev.hedge.kernels.RunContext;
import dev.hedge.runtime.DType;
import dev.hedge.runtime.Tensor;
import dev.hedge.runtime.UnsupportedModelException;
import java.util.Arrays;

/** EyeLike: a 2-D tensor of the input's shape with ones on diagonal k, in the {@code dtype} attribute's type. */
public final class EyeLikeKernel implements Kernel {

    private final Node node;
    private DType dtype;
    private long k;

    public EyeLikeKernel(Node node) {
        this.node = node;
    }

    @Override
    public void prepare(PrepareContext ctx) {
        int[] in = ctx.inputShape(0);
        if (in.length != 2) {
            throw new IllegalArgumentException("input must be 2-D, got " + Arrays.toString(in));
        }
        if (node.hasAttr("dtype")) {
            long code = node.intAttr("dtype");
            dtype = DType.fromOnnx((int) code);
            if (dtype == null) {
                throw new UnsupportedModelException(node.describe() + ": dtype " + code + " is not supported");
            }
        } else {
            dtype = ctx.inputType(0);
        }
        k = node.intAttr("k");
        ctx.setOutput(0, dtype, in);
    }

    @Override
    public void run(RunContext ctx) {
        Tensor out = ctx.output(0);
        int rows = out.dim(0);
        int cols = out.dim(1);
        Elems.fill(out.data(), 0, out.elementCount(), dtype.bits(), 0);
        for (int i = 0; i < rows; i++) {
            long j = i + k;
            if (j >= 0 && j < cols) {
                out.setLong(i * cols + (int) j, 1);
            }
        }
    }
}
