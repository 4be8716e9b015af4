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
 * QuantizeLinear: {@code y = saturate(rint(x / y_scale) + y_zero_point)}, computed in float32 (the division, the
 * round-half-to-even and the addition of the zero point), per tensor, per axis or blocked. The output type is
 * the zero point's, else {@code output_dtype}, else UINT8.
 */
public final class QuantizeLinearKernel implements Kernel {

    static final Set<DType> OUTPUT_TYPES =
            EnumSet.of(DType.INT8, DType.UINT8, DType.INT16, DType.UINT16, DType.INT4, DType.UINT4);

    private final Node node;
    private QLayout layout;
    private DType out;
    private float lo;
    private float hi;

    public QuantizeLinearKernel(Node node) {
        this.node = node;
    }

    @Override
    public void prepare(PrepareContext ctx) {
        DType x = ctx.inputType(0);
        if (x != DType.FLOAT32 && x != DType.FLOAT16 && x != DType.BFLOAT16 && x != DType.INT32) {
            throw new UnsupportedModelException(node.describe() + ": input x is " + x
                    + "; FLOAT32, FLOAT16, BFLOAT16 or INT32 expected");
        }
        QTypes.requireScale(node, "y_scale", ctx.inputType(1));
        long attr = node.intAttr("output_dtype");
        DType fromAttr = null;
        if (attr != 0) {
            fromAttr = DType.fromOnnx((int) attr);
            if (fromAttr == null || !OUTPUT_TYPES.contains(fromAttr)) {
                throw new UnsupportedModelException(node.describe() + ": output_dtype " + attr
                        + " is not one of " + OUTPUT_TYPES);
            }
        }
        boolean hasZp = ctx.hasInput(2);
        if (hasZp) {
            out = ctx.inputType(2);
            if (!OUTPUT_TYPES.contains(out)) {
                throw new UnsupportedModelException(node.describe() + ": y_zero_point is " + out + "; one of "
                        + OUTPUT_TYPES + " expected");
            }
            if (fromAttr != null && fromAttr != out) {
                throw new IllegalArgumentException("output_dtype " + fromAttr
                        + " differs from the y_zero_point type " + out);
            }
        } else {
            out = fromAttr != null ? fromAttr : DType.UINT8;
        }
        int[] shape = ctx.inputShape(0);
        layout = QLayout.of(node, shape, ctx.inputShape(1), hasZp ? ctx.inputShape(2) : null, "y_scale");
        lo = QTypes.min(out);
        hi = QTypes.max(out);
        ctx.setOutput(0, out, shape);
    }

    @Override
    public void run(RunContext ctx) {
        Tensor x = ctx.input(0);
        Tensor s = ctx.input(1);
        Tensor z = ctx.input(2);
        Tensor y = ctx.output(0);
        boolean f32 = x.dtype() == DType.FLOAT32;
        ByteBuffer xb = x.data();
        QLayout l = layout;
        int e = 0;
        for (int o = 0; o < l.outer; o++) {
            for (int d = 0; d < l.dim; d++) {
                for (int i = 0; i < l.inner; i++, e++) {
                    int si = l.scaleIndex(o, d, i);
                    float v = f32 ? xb.getFloat(e * 4) : x.getFloat(e);
                    store(y, e, quantize(v, QTypes.scale(s, si), QTypes.zeroPoint(z, si), lo, hi));
                }
            }
        }
    }

    /** The QuantizeLinear formula in float32; also the definition the converter's quantizers use. */
    public static int quantize(float x, float scale, int zeroPoint, float lo, float hi) {
        float r = (float) Math.rint(x / scale) + zeroPoint;
        return (int) Math.max(lo, Math.min(hi, r));
    }

    private void store(Tensor y, int e, int q) {
        switch (out) {
            case INT8: case UINT8: y.data().put(e, (byte) q); break;
            case INT16: case UINT16: y.data().putShort(e * 2, (short) q); break;
            default: y.setLong(e, q);
        }
    }
}
