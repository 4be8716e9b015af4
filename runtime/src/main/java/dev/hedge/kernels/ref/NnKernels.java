package dev.hedge.kernels.ref;

import dev.hedge.kernels.KernelRegistry;
import dev.hedge.kernels.ref.nn.BatchNormKernel;
import dev.hedge.kernels.ref.nn.InstanceNormKernel;
import dev.hedge.kernels.ref.nn.LayerNormKernel;
import dev.hedge.kernels.ref.nn.LpNormKernel;
import dev.hedge.kernels.ref.nn.LrnKernel;
import dev.hedge.kernels.ref.nn.SoftmaxKernel;
import dev.hedge.ops.Op;

/** Normalization and softmax ops. */
public final class NnKernels {

    private NnKernels() {
    }

    public static void register(KernelRegistry r) {
        r.register(Op.BatchNormalization, BatchNormKernel::new);
        r.register(Op.InstanceNormalization, n -> new InstanceNormKernel(n, false));
        r.register(Op.GroupNormalization, n -> new InstanceNormKernel(n, true));
        r.register(Op.LayerNormalization, LayerNormKernel::new);
        r.register(Op.LRN, LrnKernel::new);
        r.register(Op.LpNormalization, LpNormKernel::new);
        r.register(Op.Softmax, n -> new SoftmaxKernel(n, SoftmaxKernel.Kind.SOFTMAX));
        r.register(Op.LogSoftmax, n -> new SoftmaxKernel(n, SoftmaxKernel.Kind.LOG_SOFTMAX));
        r.register(Op.Hardmax, n -> new SoftmaxKernel(n, SoftmaxKernel.Kind.HARDMAX));
    }
}
