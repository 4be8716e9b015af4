package dev.hedge.kernels.ref;

import dev.hedge.kernels.KernelRegistry;

/** Elementwise unary, binary, comparison, logic and activation ops, with broadcasting. */
public final class ElementwiseKernels {

    private ElementwiseKernels() {
    }

    public static void register(KernelRegistry r) {
    }
}
