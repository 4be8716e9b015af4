package dev.hedge.kernels.ref;

import dev.hedge.kernels.KernelRegistry;

/** Normalization and softmax ops. */
public final class NnKernels {

    private NnKernels() {
    }

    public static void register(KernelRegistry r) {
    }
}
