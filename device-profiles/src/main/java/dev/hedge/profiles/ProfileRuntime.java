package dev.hedge.profiles;

import dev.hedge.ir.ModelDef;
import dev.hedge.kernels.Backend;
import dev.hedge.profiles.armnn.ArmNnDelegate;
import dev.hedge.profiles.partition.PartitionedModel;
import dev.hedge.runtime.RuntimeOptions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * How a profile runs on this host: its CPU backends that are present, in its order (the Java backend always
 * last), its threads, and its accelerators through their delegates with CPU fallback.
 */
public final class ProfileRuntime {

    /** The CPU options and a note per backend of the profile that is not used here, with the reason. */
    public record Cpu(RuntimeOptions options, List<String> notes) {
    }

    private ProfileRuntime() {
    }

    public static Cpu cpu(DeviceProfile p) {
        RuntimeOptions o = RuntimeOptions.defaults();
        int threads = p.threads() == 0 ? Runtime.getRuntime().availableProcessors() : p.threads();
        o = o.withThreads(Math.max(1, threads));
        List<String> notes = new ArrayList<>();
        for (String b : p.backends()) {
            switch (b) {
                case "java":
                    break;
                case "native":
                    o = add(o, b, "dev.hedge.kernels.cpu.NativeBackend", "new", notes);
                    break;
                case "openblas":
                    o = add(o, b, "dev.hedge.openblas.OpenBlasBackend", "create", notes);
                    break;
                default:
                    break; // accelerators run partitions, not single nodes
            }
        }
        return new Cpu(o, notes);
    }

    /** Loads a model for the profile: partitions for its accelerators, the rest on its CPU backends. */
    public static PartitionedModel load(ModelDef def, DeviceProfile p, Map<String, int[]> shapes) {
        return PartitionedModel.load(def, p, shapes, List.of(ArmNnDelegate.INSTANCE), cpu(p).options());
    }

    private static RuntimeOptions add(RuntimeOptions o, String name, String cls, String factory, List<String> notes) {
        try {
            Class<?> c = Class.forName(cls);
            if (factory.equals("new")) {
                if (!(Boolean) c.getMethod("isAvailable").invoke(null)) {
                    notes.add(name + " unavailable: " + c.getMethod("unavailableReason").invoke(null));
                    return o;
                }
                return o.withBackend((Backend) c.getConstructor().newInstance());
            }
            return o.withBackend((Backend) c.getMethod(factory).invoke(null));
        } catch (ClassNotFoundException e) {
            notes.add(name + " not in this build (" + cls + ")");
        } catch (ReflectiveOperationException | LinkageError | RuntimeException e) {
            Throwable t = e instanceof java.lang.reflect.InvocationTargetException && e.getCause() != null
                    ? e.getCause() : e;
            notes.add(name + " unavailable: " + t);
        }
        return o;
    }
}
