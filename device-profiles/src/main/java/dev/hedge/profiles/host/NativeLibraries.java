package dev.hedge.profiles.host;

import dev.hedge.profiles.armnn.ArmNn;
import java.lang.reflect.InvocationTargetException;
import java.util.List;

/**
 * Which native libraries load in this JVM, each with the reason when it does not. The native kernels and
 * OpenBLAS backends live in other modules and are looked up reflectively, so this works (and says "not in
 * this build") without them.
 */
public final class NativeLibraries {

    static final String NATIVE_BACKEND = "dev.hedge.kernels.cpu.NativeBackend";
    static final String OPENBLAS_BACKEND = "dev.hedge.openblas.OpenBlasBackend";

    /** One library: whether it loaded, and what it offers (loaded) or why not. */
    public record Status(String name, boolean loaded, String detail) {
    }

    private NativeLibraries() {
    }

    public static List<Status> probe() {
        return List.of(nativeKernels(), openBlas(), armNn());
    }

    static Status nativeKernels() {
        try {
            Class<?> c = Class.forName(NATIVE_BACKEND);
            boolean ok = (Boolean) c.getMethod("isAvailable").invoke(null);
            if (!ok) {
                return new Status("native", false, String.valueOf(c.getMethod("unavailableReason").invoke(null)));
            }
            Object isas = c.getMethod("supportedIsas").invoke(null);
            return new Status("native", true, "C++ int8 kernels, instruction sets " + isas);
        } catch (ClassNotFoundException e) {
            return new Status("native", false, "not in this build (" + NATIVE_BACKEND + " is not on the class path)");
        } catch (InvocationTargetException e) {
            return new Status("native", false, String.valueOf(e.getCause()));
        } catch (ReflectiveOperationException | LinkageError | ClassCastException e) {
            return new Status("native", false, e.toString());
        }
    }

    static Status openBlas() {
        try {
            Class<?> c = Class.forName(OPENBLAS_BACKEND);
            c.getMethod("create").invoke(null);
            return new Status("openblas", true, "OpenBLAS (org.bytedeco:openblas) fp32 GEMM");
        } catch (ClassNotFoundException e) {
            return new Status("openblas", false, "not in this build (" + OPENBLAS_BACKEND
                    + " is not on the class path)");
        } catch (InvocationTargetException e) {
            Throwable t = e.getCause();
            return new Status("openblas", false, t.getMessage() == null ? t.toString() : t.getMessage());
        } catch (ReflectiveOperationException | LinkageError e) {
            return new Status("openblas", false, e.toString());
        }
    }

    static Status armNn() {
        if (!ArmNn.isAvailable()) {
            return new Status("armnn", false, ArmNn.unavailableReason());
        }
        return new Status("armnn", true, "Arm NN " + ArmNn.version() + ", devices " + ArmNn.devices());
    }

    /** Whether the named library loaded (native, openblas, armnn). */
    public static boolean loaded(List<Status> all, String name) {
        return all.stream().anyMatch(s -> s.name().equals(name) && s.loaded());
    }
}
