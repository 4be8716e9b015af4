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
 * InstanceNormalization and GroupNormalization: mean and variance (double, two-pass) over each group of
 * {@code C / G} channels of each sample and its spatial dims, then a per-channel scale and bias.
 * InstanceNormalization is the case G = C.
 *
 * <p>GroupNormalization's scale and bias are per channel since opset 21 but were per group in opset 18;
 * the importer does not rewrite them, so the kernel tells the two apart by their length: C elements is
 * per channel, G elements (G != C) per group. When G == C both readings agree.
 */
public final class InstanceNormKernel implements Kernel {

    private final Node node;
    private final boolean grouped;
    private final double epsilon;

    private int batch;
    private int channels;
    private int groups;
    private int plane;
    private boolean perGroupParams;

    public InstanceNormKernel(Node node, boolean grouped) {
        this.node = node;
        this.grouped = grouped;
        this.epsilon = node.floatAttr("epsilon");
    }

    @Override
    public void prepare(PrepareContext ctx) {
        DType d = ctx.inputType(0);
        if (!d.isFloat()) {
            throw new UnsupportedModelException(node.describe() + ": " + d + " input is not supported");
        }
        int[] shape = ctx.inputShape(0);
        if (shape.length < 2) {
            throw new IllegalArgumentException("input X of shape " + Shapes.str(shape) + " must have rank >= 2");
        }
        batch = shape[0];
        channels = shape[1];
        plane = Shapes.product(shape, 2, shape.length);
        if (grouped) {
            if (node.intAttr("stash_type") != DType.FLOAT32.onnxCode()) {
                throw new UnsupportedModelException(node.describe() + ": stash_type " + node.intAttr("stash_type")
                        + " is not supported");
            }
            long g = node.intAttr("num_groups");
            if (g <= 0 || channels % g != 0) {
                throw new IllegalArgumentException("num_groups " + g + " does not divide the " + channels
                        + " channels");
            }
            groups = (int) g;
        } else {
            groups = channels;
        }
        String[] names = {"", "scale", "B"};
        int paramLen = -1;
        for (int i = 1; i <= 2; i++) {
            if (!ctx.inputType(i).isFloat()) {
                throw new UnsupportedModelException(node.describe() + ": " + names[i] + " of type "
                        + ctx.inputType(i) + " is not supported");
            }
            int[] s = ctx.inputShape(i);
            int len = Shapes.product(s);
            if (s.length > 1 || (len != channels && len != groups)) {
                throw new IllegalArgumentException(names[i] + " has shape " + Shapes.str(s) + ", expected ["
                        + channels + "]" + (grouped && groups != channels ? " (or [" + groups + "], opset 18)" : ""));
            }
            if (paramLen >= 0 && len != paramLen) {
                throw new IllegalArgumentException("scale and B have different lengths " + paramLen + " and " + len);
            }
            paramLen = len;
        }
        perGroupParams = paramLen != channels;
        ctx.setOutput(0, d, shape);
    }

    @Override
    public void run(RunContext ctx) {
        Tensor x = ctx.input(0);
        Tensor y = ctx.output(0);
        int perGroup = channels / groups;
        int block = perGroup * plane;
        if (block == 0) {
            return;
        }
        int paramLen = perGroupParams ? groups : channels;
        double[] params = ScratchArrays.doubles(1, paramLen);
        Rows.load(ctx.input(1), 0, 1, paramLen, params);
        double[] bias = ScratchArrays.doubles(2, paramLen);
        Rows.load(ctx.input(2), 0, 1, paramLen, bias);
        double[] buf = ScratchArrays.doubles(0, block);
        for (int b = 0; b < batch; b++) {
            for (int g = 0; g < groups; g++) {
                int base = (b * groups + g) * block;
                Rows.load(x, base, 1, block, buf);
                double mean = 0;
                for (int j = 0; j < block; j++) {
                    mean += buf[j];
                }
                mean /= block;
                double var = 0;
                for (int j = 0; j < block; j++) {
                    double c = buf[j] - mean;
                    var += c * c;
                }
                var /= block;
                double inv = 1.0 / Math.sqrt(var + epsilon);
                for (int c = 0; c < perGroup; c++) {
                    int p = perGroupParams ? g : g * perGroup + c;
                    double s = params[p] * inv;
                    double t = bias[p] - mean * s;
                    for (int j = c * plane, end = j + plane; j < end; j++) {
                        buf[j] = buf[j] * s + t;
                    }
                }
                Rows.store(y, base, 1, block, buf);
            }
        }
    }
}
