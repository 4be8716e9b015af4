package dev.hedge.kernels.ref;

import dev.hedge.kernels.KernelRegistry;

/** If and Loop. */
public final class ControlFlowKernels {

    private ControlFlowKernels() {
    }

    public static void register(KernelRegistry r) {
    }
}
