package dev.hedge.kernels;

import java.util.function.Supplier;

/**
 * A backend's offer to run one node: the kernel class its cost is measured under, and how to make the
 * kernel. {@code kernelClass} null means the cost is unknown (the planner then goes by backend priority).
 *
 * @param workScale fraction of the node's dense work the kernel does (a sparse kernel: its density)
 * @param factory makes the kernel; may return null when the backend declines after a closer look
 */
public record Offer(Backend backend, String kernelClass, Capability.Precision precision, boolean parallel,
        double workScale, Supplier<Kernel> factory) {

    public static Offer of(Backend backend, Capability c, double workScale, Supplier<Kernel> factory) {
        return new Offer(backend, c.kernelClass(), c.precision(), c.parallel(), workScale, factory);
    }
}
