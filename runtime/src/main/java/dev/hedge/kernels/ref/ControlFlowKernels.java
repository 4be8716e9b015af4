package dev.hedge.kernels.ref;

import dev.hedge.kernels.KernelRegistry;
import dev.hedge.kernels.ref.control.IfKernel;
import dev.hedge.kernels.ref.control.LoopKernel;
import dev.hedge.ops.Op;

/** If and Loop. */
public final class ControlFlowKernels {

    private ControlFlowKernels() {
    }

    public static void register(KernelRegistry r) {
        r.register(Op.If, IfKernel::new);
        r.register(Op.Loop, LoopKernel::new);
    }
}
