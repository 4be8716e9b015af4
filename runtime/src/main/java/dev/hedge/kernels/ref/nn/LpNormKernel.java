package dev.hedge.kernels.ref.nn;

import dev.hedge.ir.Node;
import dev.hedge.kernels.Kernel;
import dev.hedge.kernels.PrepareContext;
import dev.hedge.kernels.RunContext;
import dev.hedge.kernels.ref.reduce.Rows;
import dev.hedge.kernels.util.ScratchArrays;
import dev.hedge.kernels.util.Shapes;
import dev.hedge.runtime.DType;
import dev.hedge.runtime.Tensor;
import dev.hedge.runtime.UnsupportedModelException;

/** LpNormalization (p = 1 or 2) along one axis; an all-zero slice stays zero instead of becoming NaN. */
public final class LpNormKernel implements Kernel {

    private final Node node;

    private boolean l1;
    private int outer;
    private int count;
    private int inner;

    public LpNormKernel(Node node) {
        this.node = node;
    }

    @Override
    public void prepare(PrepareContext ctx) {
        DType d = ctx.inputType(0);
        if (!d.isFloat()) {
            throw new UnsupportedModelException(node.describe() + ": " + d + " input is not supported");
        }
        long p = node.intAttr("p");
        if (p != 1 && p != 2) {
            throw new IllegalArgumentException("p = " + p + ", must be 1 or 2");
        }
        l1 = p == 1;
        int[] shape = ctx.inputShape(0);
        int axis = Shapes.axis(node.intAttr("axis"), shape.length);
        outer = Shapes.product(shape, 0, axis);
        count = shape[axis];
        inner = Shapes.product(shape, axis + 1, shape.length);
        ctx.setOutput(0, d, shape);
    }

    @Override
    public void run(RunContext ctx) {
        Tensor x = ctx.input(0);
        Tensor y = ctx.output(0);
        int n = count;
        if (n == 0) {
            return;
        }
        int w = Rows.tileWidth(n, inner);
        double[] tile = ScratchArrays.doubles(0, n * w);
        for (int a = 0; a < outer; a++) {
            for (int i0 = 0; i0 < inner; i0 += w) {
                int cw = Math.min(w, inner - i0);
                int base = a * n * inner + i0;
                Rows.loadColumns(x, base, inner, n, cw, tile);
                for (int c = 0; c < cw; c++) {
                    normalize(tile, c * n, n);
                }
                Rows.storeColumns(y, base, inner, n, cw, tile);
            }
        }
    }

    private void normalize(double[] v, int off, int n) {
        int end = off + n;
        double norm = 0;
        for (int j = off; j < end; j++) {
            norm += l1 ? Math.abs(v[j]) : v[j] * v[j];
        }
        if (!l1) {
            norm = Math.sqrt(norm);
        }
        double inv = norm == 0 ? 0 : 1.0 / norm;
        for (int j = off; j < end; j++) {
            v[j] *= inv;
        }
    }
}
