package dev.hedge.kernels;

import java.util.function.Supplier;

/**
 * A backend's offer to run one node: the kernel class its cost is measured under, and how to make the
 * kernel. {@code kernelClass} null means the cost is unknown (the planner then goes by backend priority).
 *
 * @param workScale fraction of the node's dense work the kernel does (a sparse kernel: its density)
 * @param readsEncoded the kernel reads the node's encoded constant inputs as stored (sparse, codebook), not
 *     decoded; the planner then binds the stored form to it and decodes nothing on its behalf
 * @param factory makes the kernel; may return null when the backend declines after a closer look
 */
public record Offer(Backend backend, String kernelClass, Capability.Precision precision, boolean parallel,
        double workScale, boolean readsEncoded, Supplier<Kernel> factory) {

    /** An offer for a capability; it reads encoded weights as stored when the capability is sparse. */
    public static Offer of(Backend backend, Capability c, double workScale, Supplier<Kernel> factory) {
        return new Offer(backend, c.kernelClass(), c.precision(), c.parallel(), workScale,
                c.weights() == Capability.Weights.SPARSE, factory);
    }

    /** A dense offer without a kernel class: only backend priority ranks it. */
    public static Offer unmeasured(Backend backend, Capability.Precision precision, Supplier<Kernel> factory) {
        return new Offer(backend, null, precision, false, 1, false, factory);
    }
}
