package dev.hedge.kernels.ref;

import dev.hedge.kernels.KernelRegistry;

/** Conv, ConvTranspose, Gemm, MatMul and pooling. */
public final class LinalgKernels {

    private LinalgKernels() {
    }

    public static void register(KernelRegistry r) {
    }
}
