package dev.hedge.kernels.ref.quant;

import dev.hedge.ir.Node;
import dev.hedge.kernels.Kernel;
import dev.hedge.kernels.PrepareContext;
import dev.hedge.kernels.RunContext;
import dev.hedge.runtime.DType;
import dev.hedge.runtime.Tensor;
import dev.hedge.runtime.UnsupportedModelException;
import java.nio.ByteBuffer;

/**
 * DynamicQuantizeLinear, as ONNX defines it in float32: the range {@code [min(0, min x), max(0, max x)]} maps
 * onto [0, 255]: {@code y_scale = (max - min) / 255}, {@code y_zero_point = rint(clamp(0 - min / y_scale, 0,
 * 255))}, {@code y = saturate(rint(x / y_scale) + y_zero_point)}. An all-zero input gives scale 0, zero point
 * 0 and y = 0 (the reference's 0/0 cases cast to 0).
 */
public final class DynamicQuantizeLinearKernel implements Kernel {

    private final Node node;
    private int[] shape;

    public DynamicQuantizeLinearKernel(Node node) {
        this.node = node;
    }

    @Override
    public void prepare(PrepareContext ctx) {
        if (ctx.inputType(0) != DType.FLOAT32) {
            throw new UnsupportedModelException(node.describe() + ": input x is " + ctx.inputType(0)
                    + "; FLOAT32 expected");
        }
        shape = ctx.inputShape(0);
        ctx.setOutput(0, DType.UINT8, shape);
        ctx.setOutput(1, DType.FLOAT32);
        ctx.setOutput(2, DType.UINT8);
    }

    @Override
    public void run(RunContext ctx) {
        Tensor x = ctx.input(0);
        ByteBuffer xb = x.data();
        int n = x.elementCount();
        float min = 0;
        float max = 0;
        for (int i = 0; i < n; i++) {
            float v = xb.getFloat(i * 4);
            if (Float.isNaN(v)) {
                throw new IllegalArgumentException("input x[" + i + "] is NaN");
            }
            min = Math.min(min, v);
            max = Math.max(max, v);
        }
        float scale = (max - min) / 255f;
        int zp = 0;
        if (scale != 0) {
            float z = 0f - min / scale;
            zp = (int) Math.rint(Math.max(0f, Math.min(255f, z)));
        }
        Tensor y = ctx.output(0);
        if (y != null) {
            ByteBuffer yb = y.data();
            for (int i = 0; i < n; i++) {
                int q = scale == 0 ? 0 : QuantizeLinearKernel.quantize(xb.getFloat(i * 4), scale, zp, 0f, 255f);
                yb.put(i, (byte) q);
            }
        }
        if (ctx.output(1) != null) {
            ctx.output(1).data().putFloat(0, scale);
        }
        if (ctx.output(2) != null) {
            ctx.output(2).data().put(0, (byte) zp);
        }
    }
}
