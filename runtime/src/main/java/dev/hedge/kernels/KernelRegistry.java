package dev.hedge.kernels;

import dev.hedge.ir.Node;
import dev.hedge.ops.Op;
import java.util.Collections;
import java.util.EnumMap;
import java.util.Map;
import java.util.function.Function;

/** Op to kernel-factory table of one backend. */
public final class KernelRegistry {

    private final Map<Op, Function<Node, Kernel>> factories = new EnumMap<>(Op.class);

    /** Registers the factory for {@code op}; registering an op twice is a bug. */
    public KernelRegistry register(Op op, Function<Node, Kernel> factory) {
        if (factories.putIfAbsent(op, factory) != null) {
            throw new IllegalStateException(op + " registered twice");
        }
        return this;
    }

    public Function<Node, Kernel> get(Op op) {
        return factories.get(op);
    }

    public Map<Op, Function<Node, Kernel>> all() {
        return Collections.unmodifiableMap(factories);
    }
}
