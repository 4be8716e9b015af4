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
        double[] row = ScratchArrays.doubles(0, n);
        for (int a = 0; a < outer; a++) {
            for (int i = 0; i < inner; i++) {
                int base = a * n * inner + i;
                Rows.load(x, base, inner, n, row);
                switch (kind) {
                    case SOFTMAX: softmax(row, n); break;
                    case LOG_SOFTMAX: logSoftmax(row, n); break;
                    case HARDMAX: hardmax(row, n); break;
                    default: throw new AssertionError(kind);
                }
                Rows.store(y, base, inner, n, row);
            }
        }
    }

    static void softmax(double[] v, int n) {
        double m = max(v, n);
        double s = 0;
        for (int i = 0; i < n; i++) {
            double e = Math.exp(v[i] - m);
            v[i] = e;
            s += e;
        }
        double inv = 1.0 / s;
        for (int i = 0; i < n; i++) {
            v[i] *= inv;
        }
    }

    static void logSoftmax(double[] v, int n) {
        double m = max(v, n);
        double s = 0;
        for (int i = 0; i < n; i++) {
            s += Math.exp(v[i] - m);
        }
        double shift = m + Math.log(s);
        for (int i = 0; i < n; i++) {
            v[i] -= shift;
        }
    }

    /** 1 at the first maximum, 0 elsewhere. */
    static void hardmax(double[] v, int n) {
        int best = 0;
        for (int i = 1; i < n; i++) {
            if (v[i] > v[best]) {
                best = i;
            }
        }
        for (int i = 0; i < n; i++) {
            v[i] = i == best ? 1 : 0;
        }
    }

    private static double max(double[] v, int n) {
        double m = v[0];
        for (int i = 1; i < n; i++) {
            m = Math.max(m, v[i]);
        }
        return m;
    }
}
