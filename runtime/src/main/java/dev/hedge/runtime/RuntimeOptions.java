package dev.hedge.runtime;

import dev.hedge.kernels.Backend;
import java.util.ArrayList;
import java.util.List;

/**
 * How a model is run: backends in priority order (the Java reference backend is always added last as the
 * fallback) and intra-op threads.
 */
public final class RuntimeOptions {

    private final List<Backend> backends;
    private final int threads;

    private RuntimeOptions(List<Backend> backends, int threads) {
        this.backends = List.copyOf(backends);
        this.threads = threads;
    }

    public static RuntimeOptions defaults() {
        return new RuntimeOptions(List.of(), 1);
    }

    public RuntimeOptions withThreads(int n) {
        if (n < 1) {
            throw new IllegalArgumentException("threads must be >= 1, got " + n);
        }
        return new RuntimeOptions(backends, n);
    }

    /** Adds a backend ahead of the Java reference backend (earlier additions win). */
    public RuntimeOptions withBackend(Backend b) {
        List<Backend> l = new ArrayList<>(backends);
        l.add(b);
        return new RuntimeOptions(l, threads);
    }

    public List<Backend> backends() {
        return backends;
    }

    public int threads() {
        return threads;
    }
}
