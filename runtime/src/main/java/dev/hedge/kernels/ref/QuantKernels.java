package dev.hedge.kernels.ref;

import dev.hedge.kernels.KernelRegistry;

/** Quantize/dequantize and integer (QLinear*, *Integer) ops, reference versions. */
public final class QuantKernels {

    private QuantKernels() {
    }

    public static void register(KernelRegistry r) {
    }
}
