package dev.hedge.kernels.ref;

import dev.hedge.ir.Node;
import dev.hedge.kernels.Backend;
import dev.hedge.kernels.Capability;
import dev.hedge.kernels.Kernel;
import dev.hedge.kernels.KernelBenchmark;
import dev.hedge.kernels.KernelRegistry;
import dev.hedge.kernels.Offer;
import dev.hedge.kernels.PrepareContext;
import dev.hedge.plan.StepBenchmarks;
import dev.hedge.ops.Op;
import dev.hedge.runtime.DType;
import dev.hedge.runtime.Tensor;
import java.util.List;
import java.util.Set;
import java.util.function.Function;

/**
 * The pure-Java backend: runs every op Hedge supports, everywhere. It is the fallback of every plan and
 * the reference native kernels are tested against.
 */
public final class RefBackend implements Backend {

    public static final RefBackend INSTANCE = new RefBackend();

    /** Kernel class of the float32 Conv, Gemm and MatMul kernels: their time is {@link Sgemm} time. */
    public static final String SGEMM = "java.sgemm";

    /** The kernels whose cost is measured (so that faster backends can be weighed against them). */
    private static final List<Capability> MEASURED = List.of(
            Capability.of(Op.Conv, SGEMM, DType.FLOAT32, DType.FLOAT32),
            Capability.of(Op.Gemm, SGEMM, DType.FLOAT32, DType.FLOAT32),
            Capability.of(Op.MatMul, SGEMM, DType.FLOAT32, DType.FLOAT32));

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

    @Override
    public List<Capability> capabilities() {
        return MEASURED;
    }

    /**
     * Every op it implements: float32 Conv (but depthwise, a direct kernel), Gemm and MatMul under the
     * measured {@link #SGEMM} class, everything else without a cost (then only backend priority decides).
     */
    @Override
    public List<Offer> offers(Node node, List<PrepareContext.ValueType> inputs, List<Tensor> constants) {
        Function<Node, Kernel> f = registry.get(node.op());
        if (f == null) {
            return List.of();
        }
        for (Capability c : MEASURED) {
            if (c.matches(node, inputs, constants) && !isDepthwise(node, inputs)) {
                return List.of(Offer.of(this, c, 1, () -> f.apply(node)));
            }
        }
        PrepareContext.ValueType first = inputs.isEmpty() ? null : inputs.get(0);
        return List.of(Offer.unmeasured(this, Capability.precisionOf(first == null ? null : first.dtype()),
                () -> f.apply(node)));
    }

    private static boolean isDepthwise(Node node, List<PrepareContext.ValueType> inputs) {
        PrepareContext.ValueType w = inputs.size() > 1 ? inputs.get(1) : null;
        return node.op() == Op.Conv && w != null && w.shape() != null && w.shape().length > 1 && w.shape()[1] == 1
                && node.intAttr("group") > 1;
    }

    @Override
    public KernelBenchmark benchmark(String kernelClass) {
        return SGEMM.equals(kernelClass) ? StepBenchmarks.gemm(this) : null;
    }

    /** The ops this backend implements. */
    public Set<Op> supportedOps() {
        return registry.all().keySet();
    }
}
