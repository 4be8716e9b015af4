package dev.hedge.bench;

import dev.hedge.kernels.Backend;
import dev.hedge.openblas.OpenBlasBackend;
import dev.hedge.runtime.InvalidInputException;
import dev.hedge.runtime.RuntimeOptions;

/**
 * Backends by name for the benchmarks: {@code java} (the reference backend alone), {@code openblas},
 * {@code native} (the C++ kernels of {@code dev.hedge.kernels.cpu.NativeBackend}, found reflectively so
 * this module builds without them), {@code native+openblas}, and {@code auto}: every one available.
 */
public final class Backends {

    private static final String NATIVE = "dev.hedge.kernels.cpu.NativeBackend";

    private Backends() {
    }

    /** Options with the named backends ahead of the Java one; throws when one is not available here. */
    public static RuntimeOptions options(String name, int threads) {
        RuntimeOptions o = RuntimeOptions.defaults().withThreads(threads);
        switch (name) {
            case "java":
                return o;
            case "openblas":
                return o.withBackend(OpenBlasBackend.create());
            case "native":
                return o.withBackend(nativeBackend(true));
            case "native+openblas":
                return o.withBackend(nativeBackend(true)).withBackend(OpenBlasBackend.create());
            case "auto": {
                Backend n = nativeBackend(false);
                if (n != null) {
                    o = o.withBackend(n);
                }
                Backend b = openBlasOrNull();
                return b == null ? o : o.withBackend(b);
            }
            default:
                throw new InvalidInputException("unknown backend '" + name
                        + "'; expected auto, java, openblas, native or native+openblas");
        }
    }

    /** The names {@code auto} resolves to here, e.g. "native+openblas". */
    public static String describeAuto() {
        boolean n = nativeBackend(false) != null;
        boolean b = openBlasOrNull() != null;
        return n && b ? "native+openblas" : n ? "native" : b ? "openblas" : "java";
    }

    private static Backend openBlasOrNull() {
        try {
            return OpenBlasBackend.create();
        } catch (LinkageError | RuntimeException e) {
            return null; // no OpenBLAS for this platform
        }
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

    static Backend nativeBackend(boolean required) {
        try {
            Class<?> c = Class.forName(NATIVE);
            if (!(Boolean) c.getMethod("isAvailable").invoke(null)) {
                if (required) {
                    throw new InvalidInputException("native backend unavailable: "
                            + c.getMethod("unavailableReason").invoke(null));
                }
                return null;
            }
            return (Backend) c.getConstructor().newInstance();
        } catch (ReflectiveOperationException | LinkageError e) {
            if (required) {
                throw new InvalidInputException("native backend not in this build (" + NATIVE + "): " + e);
            }
            return null;
        }
    }
}
