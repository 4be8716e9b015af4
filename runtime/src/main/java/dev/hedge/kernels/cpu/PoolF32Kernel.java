package dev.hedge.kernels.cpu;

import dev.hedge.ir.Node;
import dev.hedge.kernels.Kernel;
import dev.hedge.kernels.PrepareContext;
import dev.hedge.kernels.RunContext;
import dev.hedge.kernels.util.Shapes;
import dev.hedge.kernels.util.Tiles;
import dev.hedge.ops.Op;
import dev.hedge.runtime.DType;
import dev.hedge.runtime.UnsupportedModelException;
import java.util.Arrays;

/**
 * Float32 MaxPool (no Indices output) and AveragePool on 1-D / 2-D NCHW windows, GlobalMaxPool and
 * GlobalAveragePool of any rank, bit for bit as the Java reference ({@code hk_fpool.h} says how). Batch and
 * channels are one run of planes, split into shape-fixed tiles over the intra-op threads.
 */
final class PoolF32Kernel implements Kernel, RunContext.TileTask {

    private final Node node;
    private final int isa;
    private final boolean global;
    private int kind;
    private Geom g;
    private long planeSize;
    private int planes;
    private int planesPerTile;
    private int tiles;

    PoolF32Kernel(Node node, int isa) {
        this.node = node;
        this.isa = isa;
        this.global = node.op() == Op.GlobalAveragePool || node.op() == Op.GlobalMaxPool;
    }

    @Override
    public void prepare(PrepareContext ctx) {
        if (ctx.inputType(0) != DType.FLOAT32) {
            throw new UnsupportedModelException(node.describe() + ": input is " + ctx.inputType(0) + ", not FLOAT32");
        }
        int[] xs = ctx.inputShape(0);
        if (xs.length < (global ? 2 : 3)) {
            throw new IllegalArgumentException("input " + Arrays.toString(xs) + " has no spatial axes");
        }
        planes = Math.multiplyExact(xs[0], xs[1]);
        double work;
        if (global) {
            planeSize = Shapes.product(xs, 2, xs.length);
            if (planeSize == 0) {
                throw new UnsupportedModelException(node.describe() + ": empty planes stay on the reference backend");
            }
            kind = node.op() == Op.GlobalMaxPool ? 1 : 0;
            int[] out = xs.clone();
            Arrays.fill(out, 2, out.length, 1);
            ctx.setOutput(0, DType.FLOAT32, out);
            work = planeSize;
        } else {
            if (ctx.hasOutput(1)) {
                throw new UnsupportedModelException(node.describe() + ": the Indices output is not produced natively");
            }
            g = Geom.of(node, xs, node.intsAttr("kernel_shape"), planes, true);
            kind = node.op() == Op.MaxPool ? Native.FPOOL_MAX
                    : node.intAttr("count_include_pad") != 0 ? Native.FPOOL_AVG_PAD : Native.FPOOL_AVG;
            ctx.setOutput(0, DType.FLOAT32, g.outputShape(xs[0], xs[1], xs.length));
            work = (double) g.outPlane() * g.kh * g.kw;
        }
        tiles = Tiles.pieces(planes, work);
        planesPerTile = Tiles.ceilDiv(planes, tiles);
        tiles = Tiles.ceilDiv(planes, planesPerTile);
    }

    @Override
    public void run(RunContext ctx) {
        ctx.parallelFor(tiles, this);
    }

    @Override
    public void run(RunContext ctx, int tile, int worker) {
        long p0 = (long) tile * planesPerTile;
        long n = Math.min(planes, p0 + planesPerTile) - p0;
        if (global) {
            Native.globalPoolF32(isa, kind == 1, Staging.direct(ctx.input(0), 0), p0, n, planeSize,
                    ctx.output(0).data());
        } else {
            Native.poolF32(isa, kind, Staging.direct(ctx.input(0), 0), g, p0, n, ctx.output(0).data());
        }
    }
}
