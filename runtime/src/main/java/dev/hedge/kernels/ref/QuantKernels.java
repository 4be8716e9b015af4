package dev.hedge.kernels.ref;

import dev.hedge.kernels.KernelRegistry;
import dev.hedge.kernels.ref.quant.DequantizeLinearKernel;
import dev.hedge.kernels.ref.quant.DynamicQuantizeLinearKernel;
import dev.hedge.kernels.ref.quant.IntConvKernel;
import dev.hedge.kernels.ref.linalg.LinalgKernelFactory;
import dev.hedge.kernels.ref.quant.IntMatMulKernel;
import dev.hedge.kernels.ref.quant.QLinearBinaryKernel;
import dev.hedge.kernels.ref.quant.QLinearGlobalPoolKernel;
import dev.hedge.kernels.ref.quant.QuantizeLinearKernel;
import dev.hedge.ops.Op;

/**
 * Quantize/dequantize and integer (QLinear*, *Integer) ops, reference versions; the kernels live in
 * {@code dev.hedge.kernels.ref.quant}, and {@link dev.hedge.kernels.ref.quant.Requant} defines the
 * requantization native kernels must match.
 */
public final class QuantKernels {

    private QuantKernels() {
    }

    public static void register(KernelRegistry r) {
        r.register(Op.QuantizeLinear, QuantizeLinearKernel::new);
        r.register(Op.DequantizeLinear, DequantizeLinearKernel::new);
        r.register(Op.DynamicQuantizeLinear, DynamicQuantizeLinearKernel::new);
        r.register(Op.QLinearConv, IntConvKernel::qlinearConv);
        r.register(Op.ConvInteger, IntConvKernel::convInteger);
        r.register(Op.QLinearMatMul, IntMatMulKernel::qlinearMatMul);
        r.register(Op.MatMulInteger, IntMatMulKernel::matMulInteger);
        r.register(Op.QLinearAdd, QLinearBinaryKernel::new);
        r.register(Op.QLinearMul, QLinearBinaryKernel::new);
        r.register(Op.QLinearAveragePool, LinalgKernelFactory::create);
        r.register(Op.QLinearGlobalAveragePool, QLinearGlobalPoolKernel::new);
    }
}
