package dev.hedge.kernels.ref;

import dev.hedge.kernels.KernelRegistry;
import dev.hedge.kernels.ref.linalg.LinalgKernelFactory;
import dev.hedge.ops.Op;

/** Conv, ConvTranspose, Gemm, MatMul and pooling; the kernels live in {@code dev.hedge.kernels.ref.linalg}. */
public final class LinalgKernels {

    private LinalgKernels() {
    }

    public static void register(KernelRegistry r) {
        for (Op op : LinalgKernelFactory.OPS) {
            r.register(op, LinalgKernelFactory::create);
        }
    }
}
