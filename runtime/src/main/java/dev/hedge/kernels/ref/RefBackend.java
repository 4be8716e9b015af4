package dev.hedge.kernels.ref;

import dev.hedge.ir.Node;
import dev.hedge.kernels.Backend;
import dev.hedge.kernels.Kernel;
import dev.hedge.kernels.KernelRegistry;
import dev.hedge.kernels.PrepareContext;
import dev.hedge.ops.Op;
import java.util.List;
import java.util.Set;
import java.util.function.Function;

/**
 * The pure-Java backend: runs every op Hedge supports, everywhere. It is the fallback of every plan and
 * the reference native kernels are tested against.
 */
public final class RefBackend implements Backend {

    public static final RefBackend INSTANCE = new RefBackend();

    private final KernelRegistry registry = new KernelRegistry();

    private RefBackend() {
        ElementwiseKernels.register(registry);
        LinalgKernels.register(registry);
        NnKernels.register(registry);
        TensorKernels.register(registry);
        ReduceKernels.register(registry);
        RecurrentKernels.register(registry);
        ControlFlowKernels.register(registry);
        QuantKernels.register(registry);
    }

    @Override
    public String name() {
        return "java";
    }

    @Override
    public Kernel create(Node node, List<PrepareContext.ValueType> inputs) {
        Function<Node, Kernel> f = registry.get(node.op());
        return f == null ? null : f.apply(node);
    }

    /** The ops this backend implements. */
    public Set<Op> supportedOps() {
        return registry.all().keySet();
    }
}
