package dev.hedge.kernels.ref.tensor;

import dev.hedge.ir.Node;
import dev.hedge.kernels.Kernel;
import dev.hedge.kernels.PrepareContext;
import dev.hedge.kernels.RunContext;
import dev.hedge.runtime.DType;
import dev.hedge.runtime.Tensor;
import java.nio.ByteBuffer;

/**
 * NonZero: the coordinates of the non-zero elements, as INT64 [rank, count] in row-major order (a scalar is
 * read as a one-element vector). The count depends on the data, so the output is allocated while running.
 */
public final class NonZeroKernel implements Kernel {

    private final Node node;
    private int bits;
    /** Bits that must be set for a non-zero value: all but the sign for floats (-0.0 is zero). */
    private long mask;
    private int[] shape;

    public NonZeroKernel(Node node) {
        this.node = node;
    }

    @Override
    public void prepare(PrepareContext ctx) {
        DType t = ctx.inputType(0);
        shape = ctx.inputShape(0);
        bits = t.bits();
        mask = switch (t) {
            case FLOAT32 -> 0x7fffffffL;
            case FLOAT64 -> 0x7fffffffffffffffL;
            case FLOAT16, BFLOAT16 -> 0x7fffL;
            default -> -1L;
        };
        ctx.setOutputDynamic(0, DType.INT64);
    }

    @Override
    public void run(RunContext ctx) {
        Tensor in = ctx.input(0);
        ByteBuffer b = in.data();
        int n = in.elementCount();
        int count = 0;
        for (int i = 0; i < n; i++) {
            if ((Elems.read(b, i, bits) & mask) != 0) {
                count++;
            }
        }
        int r = Math.max(1, shape.length);
        Tensor out = ctx.allocateOutput(0, DType.INT64, r, count);
        ByteBuffer o = out.data();
        int j = 0;
        for (int i = 0; i < n; i++) {
            if ((Elems.read(b, i, bits) & mask) != 0) {
                int rem = i;
                for (int d = shape.length - 1; d >= 0; d--) {
                    o.putLong((d * count + j) * 8, rem % shape[d]);
                    rem /= shape[d];
                }
                if (shape.length == 0) {
                    o.putLong(j * 8, 0);
                }
                j++;
            }
        }
    }
}
