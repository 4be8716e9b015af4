package dev.hedge.kernels.ref.nn;

import dev.hedge.ir.Node;
import dev.hedge.kernels.Kernel;
import dev.hedge.kernels.PrepareContext;
import dev.hedge.kernels.RunContext;
import dev.hedge.kernels.ref.reduce.ReduceKernel;
import dev.hedge.kernels.ref.reduce.Rows;
import dev.hedge.kernels.util.ScratchArrays;
import dev.hedge.kernels.util.Shapes;
import dev.hedge.runtime.DType;
import dev.hedge.runtime.Tensor;
import dev.hedge.runtime.UnsupportedModelException;

/**
 * Softmax, LogSoftmax and Hardmax along {@code axis}; with {@code coerce_2d=1} (set by the importer for
 * opset &lt; 13) over all axes from {@code axis} on, as if the input were flattened to 2-D. Computes in
 * double after subtracting the row maximum, so large inputs do not overflow.
 */
public final class SoftmaxKernel implements Kernel {

    public enum Kind { SOFTMAX, LOG_SOFTMAX, HARDMAX }

    private final Node node;
    private final Kind kind;

    private int outer;
    private int count;
    private int inner;

    public SoftmaxKernel(Node node, Kind kind) {
        this.node = node;
        this.kind = kind;
    }

    @Override
    public void prepare(PrepareContext ctx) {
        DType d = ctx.inputType(0);
        if (!d.isFloat()) {
            throw new UnsupportedModelException(node.describe() + ": " + d + " input is not supported");
        }
        int[] shape = ctx.inputShape(0);
        int rank = shape.length;
        boolean coerce = node.intAttr("coerce_2d") != 0;
        long a = node.intAttr("axis");
        // opset < 13 accepted axis == rank (an empty inner block)
        int axis = coerce && a == rank ? rank : Shapes.axis(a, rank);
        outer = Shapes.product(shape, 0, axis);
        if (coerce) {
            count = Shapes.product(shape, axis, rank);
            inner = 1;
        } else {
            count = shape[axis];
            inner = Shapes.product(shape, axis + 1, rank);
        }
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
        // tiles of neighbouring slices, each slice a contiguous row (inner == 1: one slice at a time)
        int w = Rows.tileWidth(n, inner);
        double[] tile = ScratchArrays.doubles(0, n * w);
        for (int a = 0; a < outer; a++) {
            for (int i0 = 0; i0 < inner; i0 += w) {
                int cw = Math.min(w, inner - i0);
                int base = a * n * inner + i0;
                Rows.loadColumns(x, base, inner, n, cw, tile);
                for (int c = 0; c < cw; c++) {
                    switch (kind) {
                        case SOFTMAX: softmax(tile, c * n, n); break;
                        case LOG_SOFTMAX: logSoftmax(tile, c * n, n); break;
                        case HARDMAX: hardmax(tile, c * n, n); break;
                        default: throw new AssertionError(kind);
                    }
                }
                Rows.storeColumns(y, base, inner, n, cw, tile);
            }
        }
    }

    static void softmax(double[] v, int off, int n) {
        int end = off + n;
        double m = ReduceKernel.max(v, off, n);
        double s = 0;
        for (int i = off; i < end; i++) {
            double e = Math.exp(v[i] - m);
            v[i] = e;
            s += e;
        }
        double inv = 1.0 / s;
        for (int i = off; i < end; i++) {
            v[i] *= inv;
        }
    }

    static void logSoftmax(double[] v, int off, int n) {
        int end = off + n;
        double m = ReduceKernel.max(v, off, n);
        double s = 0;
        for (int i = off; i < end; i++) {
            s += Math.exp(v[i] - m);
        }
        double shift = m + Math.log(s);
        for (int i = off; i < end; i++) {
            v[i] -= shift;
        }
    }

    /** 1 at the first maximum, 0 elsewhere. */
    static void hardmax(double[] v, int off, int n) {
        int end = off + n;
        int best = off;
        for (int i = off + 1; i < end; i++) {
            if (v[i] > v[best]) {
                best = i;
            }
        }
        for (int i = off; i < end; i++) {
            v[i] = i == best ? 1 : 0;
        }
    }
}
