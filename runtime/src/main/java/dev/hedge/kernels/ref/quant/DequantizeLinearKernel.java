package dev.hedge.kernels.ref.quant;

import dev.hedge.ir.Node;
import dev.hedge.kernels.Kernel;
import dev.hedge.kernels.PrepareContext;
import dev.hedge.kernels.RunContext;
import dev.hedge.runtime.DType;
import dev.hedge.runtime.Tensor;
import dev.hedge.runtime.UnsupportedModelException;
import java.nio.ByteBuffer;
import java.util.EnumSet;
import java.util.Set;

/**
 * DequantizeLinear: {@code y = (float) (x - x_zero_point) * x_scale} in float32, per tensor, per axis or
 * blocked; the output has the scale's type.
 */
public final class DequantizeLinearKernel implements Kernel {

    static final Set<DType> INPUT_TYPES =
            EnumSet.of(DType.INT8, DType.UINT8, DType.INT16, DType.UINT16, DType.INT32, DType.INT4, DType.UINT4);

    private final Node node;
    private QLayout layout;
    private DType out;

    public DequantizeLinearKernel(Node node) {
        this.node = node;
    }

    @Override
    public void prepare(PrepareContext ctx) {
        DType x = ctx.inputType(0);
        if (!INPUT_TYPES.contains(x)) {
            throw new UnsupportedModelException(node.describe() + ": input x is " + x + "; one of " + INPUT_TYPES
                    + " expected");
        }
        out = ctx.inputType(1);
        QTypes.requireScale(node, "x_scale", out);
        boolean hasZp = ctx.hasInput(2);
        if (hasZp && ctx.inputType(2) != x) {
            throw new IllegalArgumentException("x_zero_point is " + ctx.inputType(2) + ", x is "
                    + x + " (they must have the same type)");
        }
        int[] shape = ctx.inputShape(0);
        layout = QLayout.of(node, shape, ctx.inputShape(1), hasZp ? ctx.inputShape(2) : null, "x_scale");
        ctx.setOutput(0, out, shape);
    }

    @Override
    public void run(RunContext ctx) {
        Tensor x = ctx.input(0);
        Tensor s = ctx.input(1);
        Tensor z = ctx.input(2);
        Tensor y = ctx.output(0);
        ByteBuffer xb = x.data();
        ByteBuffer yb = y.data();
        DType xt = x.dtype();
        boolean f32 = out == DType.FLOAT32;
        QLayout l = layout;
        int e = 0;
        for (int o = 0; o < l.outer; o++) {
            for (int d = 0; d < l.dim; d++) {
                for (int i = 0; i < l.inner; i++, e++) {
                    int si = l.scaleIndex(o, d, i);
                    long q;
                    switch (xt) {
                        case INT8: q = xb.get(e); break;
                        case UINT8: q = xb.get(e) & 0xff; break;
                        default: q = x.getLong(e);
                    }
                    float v = (float) (q - QTypes.zeroPoint(z, si)) * QTypes.scale(s, si);
                    if (f32) {
                        yb.putFloat(e * 4, v);
                    } else {
                        y.setFloat(e, v);
                    }
                }
            }
        }
    }
}
