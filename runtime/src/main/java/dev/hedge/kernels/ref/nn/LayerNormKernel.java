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
import java.util.Arrays;

/**
 * LayerNormalization over the axes from {@code axis} on, with optional Mean and InvStdDev outputs (shape
 * of X with the normalized axes set to 1, dtype from {@code stash_type}). Statistics are computed in
 * double with a two-pass variance, which is at least as precise as any stash type. Scale and B may be
 * any shape that broadcasts to the normalized block.
 */
public final class LayerNormKernel implements Kernel {

    private final Node node;
    private final double epsilon;

    private int outer;
    private int n;
    private ParamMap scaleMap;
    private ParamMap biasMap;

    public LayerNormKernel(Node node) {
        this.node = node;
        this.epsilon = node.floatAttr("epsilon");
    }

    @Override
    public void prepare(PrepareContext ctx) {
        DType d = ctx.inputType(0);
        if (!d.isFloat()) {
            throw new UnsupportedModelException(node.describe() + ": " + d + " input is not supported");
        }
        long stash = node.intAttr("stash_type");
        DType statType = stash == DType.FLOAT32.onnxCode() ? DType.FLOAT32
                : stash == DType.BFLOAT16.onnxCode() ? DType.BFLOAT16 : null;
        if (statType == null) {
            throw new UnsupportedModelException(node.describe() + ": stash_type " + stash + " is not supported"
                    + " (1 = float, 16 = bfloat16)");
        }
        int[] shape = ctx.inputShape(0);
        int rank = shape.length;
        int axis = Shapes.axis(node.intAttr("axis"), rank);
        outer = Shapes.product(shape, 0, axis);
        n = Shapes.product(shape, axis, rank);
        int[] block = Arrays.copyOfRange(shape, axis, rank);
        scaleMap = param(ctx, 1, "Scale", block);
        biasMap = ctx.hasInput(2) ? param(ctx, 2, "B", block) : null;
        ctx.setOutput(0, d, shape);
        int[] stat = shape.clone();
        Arrays.fill(stat, axis, rank, 1);
        if (ctx.hasOutput(1)) {
            ctx.setOutput(1, statType, stat);
        }
        if (ctx.hasOutput(2)) {
            ctx.setOutput(2, statType, stat);
        }
    }

    static ParamMap param(PrepareContext ctx, int i, String name, int[] block) {
        if (!ctx.inputType(i).isFloat()) {
            throw new UnsupportedModelException(ctx.node().describe() + ": " + name + " of type "
                    + ctx.inputType(i) + " is not supported");
        }
        int[] s = ctx.inputShape(i);
        ParamMap m = ParamMap.of(s, block);
        if (m == null) {
            throw new IllegalArgumentException(name + " of shape " + Shapes.str(s)
                    + " does not broadcast to the normalized shape " + Shapes.str(block));
        }
        return m;
    }

    @Override
    public void run(RunContext ctx) {
        Tensor x = ctx.input(0);
        Tensor y = ctx.output(0);
        Tensor meanOut = ctx.output(1);
        Tensor invOut = ctx.output(2);
        Tensor scaleT = ctx.input(1);
        Tensor biasT = ctx.input(2);
        if (n == 0) {
            return;
        }
        double[] row = ScratchArrays.doubles(0, n);
        double[] scale = ScratchArrays.doubles(1, scaleT.elementCount());
        Rows.load(scaleT, 0, 1, scaleT.elementCount(), scale);
        double[] bias = null;
        if (biasT != null) {
            bias = ScratchArrays.doubles(2, biasT.elementCount());
            Rows.load(biasT, 0, 1, biasT.elementCount(), bias);
        }
        boolean direct = scaleMap.identity() && (biasMap == null || biasMap.identity());
        for (int o = 0; o < outer; o++) {
            Rows.load(x, o * n, 1, n, row);
            double mean = 0;
            for (int j = 0; j < n; j++) {
                mean += row[j];
            }
            mean /= n;
            double var = 0;
            for (int j = 0; j < n; j++) {
                double c = row[j] - mean;
                var += c * c;
            }
            var /= n;
            double inv = 1.0 / Math.sqrt(var + epsilon);
            if (direct) {
                if (bias != null) {
                    for (int j = 0; j < n; j++) {
                        row[j] = (row[j] - mean) * inv * scale[j] + bias[j];
                    }
                } else {
                    for (int j = 0; j < n; j++) {
                        row[j] = (row[j] - mean) * inv * scale[j];
                    }
                }
            } else {
                for (int j = 0; j < n; j++) {
                    double v = (row[j] - mean) * inv * scale[scaleMap.index(j)];
                    row[j] = bias != null ? v + bias[biasMap.index(j)] : v;
                }
            }
            Rows.store(y, o * n, 1, n, row);
            if (meanOut != null) {
                meanOut.setDouble(o, mean);
            }
            if (invOut != null) {
                invOut.setDouble(o, inv);
            }
        }
    }
}
