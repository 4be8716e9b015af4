package dev.hedge.kernels;

import dev.hedge.ir.Node;
import dev.hedge.kernels.PrepareContext.ValueType;
import dev.hedge.runtime.Tensor;
import java.util.ArrayList;
import java.util.List;

/**
 * A set of kernels (pure Java reference, native, BLAS...). For each node the planner collects the
 * {@link #offers} of every backend, estimates each from the measured cost of its kernel class
 * ({@link KernelCosts}) and takes the cheapest; with no costs to compare it takes the first offer in
 * backend priority order. If the chosen kernel's {@code prepare} throws
 * {@link dev.hedge.runtime.UnsupportedModelException}, the next offer is tried; the Java reference backend,
 * last, runs everything else.
 *
 * <p>A backend need only implement {@link #name} and {@link #create}. Declaring {@link #capabilities}
 * (op, dtypes, layout, weight encoding, kernel class) and a {@link #benchmark} per kernel class lets the
 * planner weigh it against the others.
 *
 * <p><b>Encoded constants.</b> {@link #offers} sees constant inputs as stored, possibly sparse- or
 * codebook-encoded. An offer that {@linkplain Offer#readsEncoded reads them encoded} gives a kernel every
 * encoded constant input exactly as stored ({@link PrepareContext#inputValue}, {@link RunContext#input});
 * any other offer's kernel gets the dense form, which the planner decodes lazily, at most once per constant.
 */
public interface Backend {

    String name();

    /**
     * A new kernel for this node given its input types, or null when this backend does not run it.
     * {@code inputs} has one entry per input slot; omitted inputs are null, unknown shapes are null.
     */
    Kernel create(Node node, List<ValueType> inputs);

    /**
     * What this backend runs, each with the kernel class its cost is measured under. Empty (the default):
     * the backend is asked node by node through {@link #create} and its costs are unknown.
     */
    default List<Capability> capabilities() {
        return List.of();
    }

    /**
     * This backend's offers for a node: by default one per matching {@link #capabilities capability}
     * (the kernel comes from {@link #create}, which may still decline; for a
     * {@link Capability.Weights#SPARSE} capability it reads the weights as stored), or, for a backend that
     * declares none, the dense kernel {@link #create} returns. {@code constants} holds the stored value of
     * each constant input (possibly sparse- or codebook-encoded), null elsewhere.
     */
    default List<Offer> offers(Node node, List<ValueType> inputs, List<Tensor> constants) {
        List<Capability> caps = capabilities();
        if (caps.isEmpty()) {
            Kernel k = create(node, inputs);
            if (k == null) {
                return List.of();
            }
            ValueType first = inputs.isEmpty() ? null : inputs.get(0);
            return List.of(Offer.unmeasured(this, Capability.precisionOf(first == null ? null : first.dtype()),
                    () -> k));
        }
        List<Offer> l = new ArrayList<>();
        for (Capability c : caps) {
            if (c.matches(node, inputs, constants)) {
                double scale = c.weights() == Capability.Weights.SPARSE
                        ? density(Capability.weightConstant(node, constants)) : 1;
                l.add(Offer.of(this, c, scale, () -> create(node, inputs)));
            }
        }
        return l;
    }

    /** A workload timing {@code kernelClass} on this host, or null when this backend cannot measure it. */
    default KernelBenchmark benchmark(String kernelClass) {
        return null;
    }

    /** Stored fraction of a sparse-encoded tensor (1 when dense). */
    static double density(Tensor t) {
        if (t == null || t.sparse() == null || t.elementCount() == 0) {
            return 1;
        }
        var s = t.sparse();
        return Math.min(1, (double) s.nnzBlocks() * s.blockRows() * s.blockCols() / t.elementCount());
    }
}
