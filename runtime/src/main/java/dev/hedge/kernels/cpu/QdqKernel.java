package dev.hedge.kernels.cpu;

import dev.hedge.ir.Node;
import dev.hedge.kernels.Kernel;
import dev.hedge.kernels.PrepareContext;
import dev.hedge.kernels.RunContext;
import dev.hedge.ops.Op;
import dev.hedge.runtime.DType;
import dev.hedge.runtime.Tensor;
import dev.hedge.runtime.UnsupportedModelException;
import java.nio.ByteBuffer;

/**
 * QuantizeLinear (FLOAT32 to UINT8 / INT8) and DequantizeLinear (UINT8 / INT8 to FLOAT32) with one scale and
 * zero point for the whole tensor: the converter puts them around every layer that stays in float (residual
 * additions, pooling), where the reference kernels' per-element bookkeeping costs as much as the int8 layers.
 * Same arithmetic as the reference (hk_qdq.h); scale and zero point are read per run.
 */
final class QdqKernel implements Kernel {

    private final Node node;
    private final int isa;
    private final boolean quantize;
    private boolean signed;
    private long count;

    QdqKernel(Node node, int isa) {
        this.node = node;
        this.isa = isa;
        this.quantize = node.op() == Op.QuantizeLinear;
    }

    /** Whether the kernel takes a node with these input types and shapes (null when unknown). */
    static boolean takes(Node node, DType x, int[] scale, DType scaleType, DType zp, int[] zpShape) {
        if (scale == null || count(scale) != 1 || scaleType != DType.FLOAT32
                || zpShape != null && count(zpShape) != 1) {
            return false;
        }
        if (node.op() == Op.QuantizeLinear) {
            long attr = node.intAttr("output_dtype");
            DType out = zp != null ? zp : attr == 0 ? DType.UINT8 : DType.fromOnnx((int) attr);
            return x == DType.FLOAT32 && QuantInputs.isByteType(out) && (attr == 0 || DType.fromOnnx((int) attr) == out);
        }
        return QuantInputs.isByteType(x) && (zp == null || zp == x);
    }

    private static long count(int[] shape) {
        long n = 1;
        for (int d : shape) {
            n *= d;
        }
        return n;
    }

    @Override
    public void prepare(PrepareContext ctx) {
        boolean hasZp = ctx.hasInput(2);
        if (!takes(node, ctx.inputType(0), ctx.inputShape(1), ctx.inputType(1), hasZp ? ctx.inputType(2) : null,
                hasZp ? ctx.inputShape(2) : null)) {
            throw new UnsupportedModelException(node.describe() + ": only one FLOAT32 scale and zero point for the "
                    + "whole tensor, 8-bit values, run natively");
        }
        int[] shape = ctx.inputShape(0);
        count = count(shape);
        DType out;
        if (quantize) {
            long attr = node.intAttr("output_dtype");
            out = hasZp ? ctx.inputType(2) : attr == 0 ? DType.UINT8 : DType.fromOnnx((int) attr);
            signed = out == DType.INT8;
        } else {
            out = DType.FLOAT32;
            signed = ctx.inputType(0) == DType.INT8;
        }
        ctx.setOutput(0, out, shape);
    }

    @Override
    public void run(RunContext ctx) {
        Tensor s = ctx.input(1);
        Tensor z = ctx.input(2);
        float scale = s.getFloat(0);
        int zp = z == null ? 0 : (int) z.getLong(0);
        ByteBuffer x = Staging.direct(ctx.input(0), 0);
        ByteBuffer y = ctx.output(0).data();
        if (quantize) {
            Native.quantize(isa, x, 0, count, scale, zp, signed ? -128 : 0, signed ? 127 : 255, signed, y, 0);
        } else {
            Native.dequantize(isa, x, 0, count, signed, zp, scale, y, 0);
        }
    }
}
