package dev.hedge.profiles;

import dev.hedge.ir.ModelDef;
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
        int threads = p.threads() == 0 ? Runtime.getRuntime().availableProcessors() : p.threads();
        RuntimeOptions o = RuntimeOptions.defaults().withBackendOrder(p.backends()).withThreads(Math.max(1, threads));
        List<String> notes = new ArrayList<>();
        for (String u : o.unavailable()) {
            notes.add(u.replaceFirst(": ", " unavailable: "));
        }
        return new Cpu(o, notes);
    }

    /** Loads a model for the profile: partitions for its accelerators, the rest on its CPU backends. */
    public static PartitionedModel load(ModelDef def, DeviceProfile p, Map<String, int[]> shapes) {
        return PartitionedModel.load(def, p, shapes, List.of(ArmNnDelegate.INSTANCE), cpu(p).options());
    }
}
