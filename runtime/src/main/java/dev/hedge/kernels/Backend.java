package dev.hedge.kernels;

import dev.hedge.ir.Node;
import dev.hedge.runtime.Tensor;
import java.util.List;

/**
 * A set of kernels (pure Java reference, native, BLAS...). The planner asks backends in priority order
 * for each node and takes the first kernel offered; the Java reference backend runs everything else.
 */
public interface Backend {

    String name();

    /**
     * A new kernel for this node given its input types, or null when this backend does not run it.
     * {@code inputs} has one entry per input slot; omitted inputs are null, unknown shapes are null.
     */
    Kernel create(Node node, List<PrepareContext.ValueType> inputs);

    /**
     * Offers a kernel that reads some constant inputs in their stored encoding ({@link Tensor#sparse()},
     * {@link Tensor#codebook()}) rather than densified. {@code encoded} has one entry per input slot: the
     * encoded constant, or null where the input is dense or not a constant. A kernel returned here receives
     * every one of those inputs exactly as stored, from {@link PrepareContext#inputValue} and
     * {@link RunContext#input}. Return null to decline: the planner then densifies them and calls
     * {@link #create}. Only asked when the node has an encoded constant input.
     */
    default Kernel createForEncoded(Node node, List<PrepareContext.ValueType> inputs, List<Tensor> encoded) {
        return null;
    }
}
