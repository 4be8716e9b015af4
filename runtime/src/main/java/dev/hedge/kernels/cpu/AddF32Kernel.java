package dev.hedge.kernels.cpu;

import dev.hedge.ir.Node;
import dev.hedge.kernels.Kernel;
import dev.hedge.kernels.PrepareContext;
import dev.hedge.kernels.RunContext;
import dev.hedge.kernels.util.Tiles;
import dev.hedge.runtime.DType;
import dev.hedge.runtime.Tensor;
import dev.hedge.runtime.UnsupportedModelException;
import java.util.Arrays;

/**
 * Float32 Add of two tensors of the same shape (residual connections), bit for bit as the reference: one IEEE
 * addition per element ({@code hk_feltwise.h}). Broadcasting adds stay on the reference backend. Fixed-size
 * chunks are split over the intra-op threads.
 */
final class AddF32Kernel implements Kernel, RunContext.TileTask {

    /** Elements per tile (256 KiB of each operand). */
    private static final int CHUNK = 1 << 16;

    private final Node node;
    private final int isa;
    private int n;
    private int tiles;

    AddF32Kernel(Node node, int isa) {
        this.node = node;
        this.isa = isa;
    }

    @Override
    public void prepare(PrepareContext ctx) {
        if (ctx.inputType(0) != DType.FLOAT32 || ctx.inputType(1) != DType.FLOAT32) {
            throw new UnsupportedModelException(node.describe() + ": native Add takes FLOAT32 operands");
        }
        int[] a = ctx.inputShape(0);
        int[] b = ctx.inputShape(1);
        if (!Arrays.equals(a, b)) {
            throw new UnsupportedModelException(node.describe() + ": shapes " + Arrays.toString(a) + " and "
                    + Arrays.toString(b) + " broadcast; the reference backend adds them");
        }
        n = Tensor.elementCount(a);
        ctx.setOutput(0, DType.FLOAT32, a.clone());
        tiles = Math.max(1, Tiles.ceilDiv(n, CHUNK));
    }

    @Override
    public void run(RunContext ctx) {
        if (n > 0) {
            ctx.parallelFor(tiles, this);
        }
    }

    @Override
    public void run(RunContext ctx, int tile, int worker) {
        long i0 = (long) tile * CHUNK;
        long len = Math.min(n, i0 + CHUNK) - i0;
        Native.addF32(isa, Staging.direct(ctx.input(0), 0), Staging.direct(ctx.input(1), 1), ctx.output(0).data(),
                4 * i0, len);
    }
}
