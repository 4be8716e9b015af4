package dev.hedge.runtime;

import dev.hedge.kernels.Backend;
import dev.hedge.kernels.KernelCosts;
import java.util.ArrayList;
import java.util.List;

/**
 * How a model is run: backends in priority order (the Java reference backend is always added last as the
 * fallback), intra-op threads (a fixed pool per model) and the kernel costs used to choose between
 * backends (by default this host's measured costs, {@link KernelCosts#host()}).
 */
public final class RuntimeOptions {

    private final List<Backend> backends;
    private final int threads;
    private final KernelCosts costs;

    private RuntimeOptions(List<Backend> backends, int threads, KernelCosts costs) {
        this.backends = List.copyOf(backends);
        this.threads = threads;
        this.costs = costs;
    }

    public static RuntimeOptions defaults() {
        return new RuntimeOptions(List.of(), 1, null);
    }

    public RuntimeOptions withThreads(int n) {
        if (n < 1) {
            throw new IllegalArgumentException("threads must be >= 1, got " + n);
        }
        return new RuntimeOptions(backends, n, costs);
    }

    /** Adds a backend ahead of the Java reference backend (earlier additions win). */
    public RuntimeOptions withBackend(Backend b) {
        List<Backend> l = new ArrayList<>(backends);
        l.add(b);
        return new RuntimeOptions(l, threads, costs);
    }

    /** Kernel costs to plan with (a device profile's, or fixed ones in tests). */
    public RuntimeOptions withKernelCosts(KernelCosts c) {
        return new RuntimeOptions(backends, threads, c);
    }

    public List<Backend> backends() {
        return backends;
    }

    public int threads() {
        return threads;
    }

    /** The kernel costs to plan with: those given, else this host's. */
    public KernelCosts kernelCosts() {
        return costs != null ? costs : KernelCosts.host();
    }
}
