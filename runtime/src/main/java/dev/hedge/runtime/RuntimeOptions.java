package dev.hedge.runtime;

import dev.hedge.kernels.Backend;
import dev.hedge.kernels.BackendRegistry;
import dev.hedge.kernels.KernelCosts;
import java.util.ArrayList;
import java.util.List;

/**
 * How a model is run: backends in priority order (the Java reference backend is always added last as the
 * fallback), intra-op threads (a fixed pool per model) and the kernel costs used to choose between
 * backends (by default this host's measured costs, {@link KernelCosts#host()}).
 *
 * <p>{@link #defaults()} uses every backend available in this process ({@link BackendRegistry}: the native
 * kernels, OpenBLAS when its jar is present...), {@link #reference()} the Java backend alone. Backends that
 * were wanted but cannot run here are listed with the reason in {@link #unavailable()}.
 */
public final class RuntimeOptions {

    private final List<Backend> backends;
    private final int threads;
    private final KernelCosts costs;
    private final List<String> unavailable;

    private RuntimeOptions(List<Backend> backends, int threads, KernelCosts costs, List<String> unavailable) {
        this.backends = List.copyOf(backends);
        this.threads = threads;
        this.costs = costs;
        this.unavailable = List.copyOf(unavailable);
    }

    /** Every backend available here, in default order ahead of the Java one; one thread. */
    public static RuntimeOptions defaults() {
        List<Backend> l = new ArrayList<>();
        List<String> missing = new ArrayList<>();
        for (BackendRegistry.Entry e : BackendRegistry.entries()) {
            if (e.name().equals(BackendRegistry.JAVA)) {
                continue;
            }
            if (e.available()) {
                l.add(e.backend());
            } else {
                missing.add(e.name() + ": " + e.unavailableReason());
            }
        }
        return new RuntimeOptions(l, 1, null, missing);
    }

    /** The Java reference backend alone; one thread. */
    public static RuntimeOptions reference() {
        return new RuntimeOptions(List.of(), 1, null, List.of());
    }

    /**
     * Options for a {@code --backend} value: {@code auto} ({@link #defaults()}), {@code java}
     * ({@link #reference()}), or backend names joined by {@code +} or {@code ,} in priority order
     * ({@code native+openblas}), each of which must be available here.
     *
     * @throws InvalidInputException naming what is unavailable and why, and what is available
     */
    public static RuntimeOptions forBackends(String spec) {
        String s = spec == null ? "" : spec.strip();
        if (s.equals("auto")) {
            return defaults();
        }
        if (s.equals(BackendRegistry.JAVA)) {
            return reference();
        }
        List<String> names = List.of(s.split("[+,]", -1));
        List<String> problems = new ArrayList<>();
        for (String n : names) {
            BackendRegistry.Entry e = n.isBlank() ? null : BackendRegistry.find(n);
            if (n.isBlank()) {
                problems.add("an empty name");
            } else if (e == null) {
                problems.add("unknown backend '" + n + "'");
            } else if (!e.available()) {
                problems.add(n + " unavailable: " + e.unavailableReason());
            }
        }
        if (!problems.isEmpty()) {
            List<String> here = new ArrayList<>();
            for (BackendRegistry.Entry e : BackendRegistry.entries()) {
                if (e.available()) {
                    here.add(e.name());
                }
            }
            throw new InvalidInputException("backend '" + spec + "': " + String.join("; ", problems)
                    + "; give auto, java, or names joined by '+' from those available here: " + String.join(", ", here));
        }
        return defaults().withBackendOrder(names);
    }

    public RuntimeOptions withThreads(int n) {
        if (n < 1) {
            throw new IllegalArgumentException("threads must be >= 1, got " + n);
        }
        return new RuntimeOptions(backends, n, costs, unavailable);
    }

    /**
     * Adds a backend ahead of the Java reference backend (earlier additions win); one of the same name
     * already here is replaced in place.
     */
    public RuntimeOptions withBackend(Backend b) {
        List<Backend> l = new ArrayList<>(backends);
        for (int i = 0; i < l.size(); i++) {
            if (l.get(i).name().equals(b.name())) {
                l.set(i, b);
                return new RuntimeOptions(l, threads, costs, unavailable);
            }
        }
        l.add(b);
        return new RuntimeOptions(l, threads, costs, unavailable);
    }

    /**
     * The available backends among {@code names}, in that order (a device profile's {@code backends}).
     * {@code java} needs no mention (it is always last) and names with a colon are accelerators, run by
     * delegates, not here; a name that is not available is left out and listed in {@link #unavailable()}.
     */
    public RuntimeOptions withBackendOrder(List<String> names) {
        List<Backend> l = new ArrayList<>();
        List<String> missing = new ArrayList<>();
        for (String n : names) {
            if (n.equals(BackendRegistry.JAVA) || n.contains(":")) {
                continue;
            }
            BackendRegistry.Entry e = BackendRegistry.find(n);
            if (e == null) {
                missing.add(n + ": not in this build (no backend provider named '" + n + "' on the class path)");
            } else if (!e.available()) {
                missing.add(n + ": " + e.unavailableReason());
            } else if (l.stream().noneMatch(b -> b.name().equals(n))) {
                l.add(e.backend());
            }
        }
        return new RuntimeOptions(l, threads, costs, missing);
    }

    /** Kernel costs to plan with (a device profile's, or fixed ones in tests). */
    public RuntimeOptions withKernelCosts(KernelCosts c) {
        return new RuntimeOptions(backends, threads, c, unavailable);
    }

    /** The backends ahead of the Java one, in priority order. */
    public List<Backend> backends() {
        return backends;
    }

    public int threads() {
        return threads;
    }

    /** Backends wanted but not available here, each as "name: reason". */
    public List<String> unavailable() {
        return unavailable;
    }

    /** The backend order as a line, e.g. {@code native > openblas > java}. */
    public String describe() {
        StringBuilder sb = new StringBuilder();
        for (Backend b : backends) {
            sb.append(b.name()).append(" > ");
        }
        return sb.append(BackendRegistry.JAVA).toString();
    }

    /** The kernel costs to plan with: those given, else this host's. */
    public KernelCosts kernelCosts() {
        return costs != null ? costs : KernelCosts.host();
    }
}
