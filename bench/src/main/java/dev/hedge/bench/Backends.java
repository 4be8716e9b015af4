package dev.hedge.bench;

import dev.hedge.kernels.BackendRegistry;
import dev.hedge.runtime.RuntimeOptions;

/**
 * Backends by name for the benchmarks ({@link RuntimeOptions#forBackends}): {@code auto} (every backend
 * available here, the runtime's default order), {@code java} (the reference backend alone), or names joined
 * by {@code +} in priority order, e.g. {@code native}, {@code openblas}, {@code native+openblas}.
 */
public final class Backends {

    private Backends() {
    }

    /** Options with the named backends ahead of the Java one; throws when one is not available here. */
    public static RuntimeOptions options(String name, int threads) {
        return RuntimeOptions.forBackends(name).withThreads(threads);
    }

    /** The backends of {@code o} ahead of Java, joined by '+' ("java" when none). */
    public static String describe(RuntimeOptions o) {
        return o.backends().isEmpty() ? BackendRegistry.JAVA
                : String.join("+", o.backends().stream().map(b -> b.name()).toList());
    }

    /** Whether {@code name} names a backend that is available here. */
    static boolean available(String name) {
        BackendRegistry.Entry e = BackendRegistry.find(name);
        return e != null && e.available();
    }

    /** {@code java dev.hedge.bench.Backends NAME}: exit status 0 when that backend is available here. */
    public static void main(String[] args) {
        try {
            options(args[0], 1);
            System.exit(0);
        } catch (RuntimeException | LinkageError e) {
            System.err.println(e.getMessage());
            System.exit(1);
        }
    }
}
