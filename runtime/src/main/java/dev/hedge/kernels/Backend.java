package dev.hedge.kernels;

import dev.hedge.ir.Node;
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
}
