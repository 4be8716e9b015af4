package dev.hedge.kernels.ref;

import dev.hedge.kernels.KernelRegistry;

/** Reductions, ArgMax/ArgMin and TopK. */
public final class ReduceKernels {

    private ReduceKernels() {
    }

    public static void register(KernelRegistry r) {
    }
}
