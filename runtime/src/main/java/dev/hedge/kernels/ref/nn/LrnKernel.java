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
 * LRN across channels: {@code y = x / (bias + alpha / size * sum(x^2 over channels
 * [c - floor((size-1)/2), c + ceil((size-1)/2)]))^beta}.
 */
public final class LrnKernel implements Kernel {

    private final Node node;
    private final double alpha;
    private final double beta;
    private final double bias;

    private int size;

    private int batch;
    private int channels;
    private int plane;

    public LrnKernel(Node node) {
        this.node = node;
        this.alpha = node.floatAttr("alpha");
        this.beta = node.floatAttr("beta");
        this.bias = node.floatAttr("bias");
    }

    @Override
    public void prepare(PrepareContext ctx) {
        DType d = ctx.inputType(0);
        if (!d.isFloat()) {
            throw new UnsupportedModelException(node.describe() + ": " + d + " input is not supported");
        }
        long s = node.intAttr("size");
        if (s <= 0 || s > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("size " + s + " must be positive");
        }
        size = (int) s;
        int[] shape = ctx.inputShape(0);
        if (shape.length < 2) {
            throw new IllegalArgumentException("input X of shape " + Shapes.str(shape) + " must have rank >= 2");
        }
        batch = shape[0];
        channels = shape[1];
        plane = Shapes.product(shape, 2, shape.length);
        ctx.setOutput(0, d, shape);
    }

    @Override
    public void run(RunContext ctx) {
        Tensor x = ctx.input(0);
        Tensor y = ctx.output(0);
        int n = channels * plane;
        if (n == 0) {
            return;
        }
        double[] in = ScratchArrays.doubles(0, n);
        double[] out = ScratchArrays.doubles(1, plane);
        int before = (size - 1) / 2;
        int after = size - 1 - before;
        double k = alpha / size;
        for (int b = 0; b < batch; b++) {
            Rows.load(x, b * n, 1, n, in);
            for (int c = 0; c < channels; c++) {
                int lo = Math.max(0, c - before);
                int hi = Math.min(channels - 1, c + after);
                for (int p = 0; p < plane; p++) {
                    double s = 0;
                    for (int i = lo; i <= hi; i++) {
                        double v = in[i * plane + p];
                        s += v * v;
                    }
                    out[p] = in[c * plane + p] / Math.pow(bias + k * s, beta);
                }
                Rows.store(y, b * n + c * plane, 1, plane, out);
            }
        }
    }
}
