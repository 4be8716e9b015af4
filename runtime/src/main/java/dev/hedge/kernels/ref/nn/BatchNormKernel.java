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
import java.nio.ByteBuffer;

/**
 * BatchNormalization in inference mode: {@code y = x * s[c] + t[c]} with {@code s = scale / sqrt(var + eps)}
 * and {@code t = B - mean * s}, folded at prepare time when the four parameters are constants (nearly
 * always), otherwise per run. Training mode is not supported, and the running-statistics outputs exist
 * only in training mode.
 */
public final class BatchNormKernel implements Kernel {

    private static final int CHUNK = 1024;

    private final Node node;
    private final double epsilon;

    private int batch;
    private int channels;
    private int plane;
    /** Per-channel scale and shift when the parameters are constant, else null. */
    private double[] folded;

    public BatchNormKernel(Node node) {
        this.node = node;
        this.epsilon = node.floatAttr("epsilon");
    }

    @Override
    public void prepare(PrepareContext ctx) {
        if (node.intAttr("training_mode") != 0) {
            throw new UnsupportedModelException(node.describe() + ": training_mode=1 is not supported");
        }
        if (ctx.hasOutput(1) || ctx.hasOutput(2)) {
            throw new IllegalArgumentException("outputs running_mean and running_var exist only in training mode");
        }
        DType d = ctx.inputType(0);
        if (!d.isFloat()) {
            throw new UnsupportedModelException(node.describe() + ": " + d + " input is not supported");
        }
        int[] shape = ctx.inputShape(0);
        if (shape.length == 0) {
            throw new IllegalArgumentException("input X must have rank >= 1");
        }
        batch = shape[0];
        channels = shape.length == 1 ? 1 : shape[1];
        plane = Shapes.product(shape, Math.min(2, shape.length), shape.length);
        String[] names = {"", "scale", "B", "input_mean", "input_var"};
        boolean constant = true;
        for (int i = 1; i <= 4; i++) {
            if (!ctx.inputType(i).isFloat()) {
                throw new UnsupportedModelException(node.describe() + ": " + names[i] + " of type "
                        + ctx.inputType(i) + " is not supported");
            }
            int[] s = ctx.inputShape(i);
            if (Shapes.product(s) != channels || s.length > 1) {
                throw new IllegalArgumentException(names[i] + " has shape " + Shapes.str(s) + ", expected ["
                        + channels + "]");
            }
            constant &= ctx.isConstant(i);
        }
        ctx.setOutput(0, d, shape);
        folded = null;
        if (constant) {
            double[] f = new double[2 * channels];
            fold(ctx.inputValue(1), ctx.inputValue(2), ctx.inputValue(3), ctx.inputValue(4), f, epsilon, channels);
            folded = f;
        }
    }

    /** f[c] = scale / sqrt(var + eps); f[C + c] = B - mean * f[c]. */
    private static void fold(Tensor scale, Tensor bias, Tensor mean, Tensor var, double[] f, double eps, int c) {
        for (int i = 0; i < c; i++) {
            double s = scale.getDouble(i) / Math.sqrt(var.getDouble(i) + eps);
            f[i] = s;
            f[c + i] = bias.getDouble(i) - mean.getDouble(i) * s;
        }
    }

    @Override
    public void run(RunContext ctx) {
        Tensor x = ctx.input(0);
        Tensor y = ctx.output(0);
        double[] f = folded;
        if (f == null) {
            f = ScratchArrays.doubles(1, 2 * channels);
            fold(ctx.input(1), ctx.input(2), ctx.input(3), ctx.input(4), f, epsilon, channels);
        }
        if (x.dtype() == DType.FLOAT32) {
            runFloat(x.data(), y.data(), f);
            return;
        }
        double[] buf = ScratchArrays.doubles(0, Math.min(CHUNK, Math.max(plane, 1)));
        for (int b = 0; b < batch; b++) {
            for (int c = 0; c < channels; c++) {
                double s = f[c];
                double t = f[channels + c];
                int base = (b * channels + c) * plane;
                for (int p0 = 0; p0 < plane; p0 += CHUNK) {
                    int m = Math.min(CHUNK, plane - p0);
                    Rows.load(x, base + p0, 1, m, buf);
                    for (int j = 0; j < m; j++) {
                        buf[j] = buf[j] * s + t;
                    }
                    Rows.store(y, base + p0, 1, m, buf);
                }
            }
        }
    }

    private void runFloat(ByteBuffer x, ByteBuffer y, double[] f) {
        for (int b = 0; b < batch; b++) {
            for (int c = 0; c < channels; c++) {
                float s = (float) f[c];
                float t = (float) f[channels + c];
                int start = (b * channels + c) * plane;
                int end = start + plane;
                for (int i = start; i < end; i++) {
                    y.putFloat(i << 2, x.getFloat(i << 2) * s + t);
                }
            }
        }
    }
}
