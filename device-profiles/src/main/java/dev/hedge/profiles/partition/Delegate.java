package dev.hedge.profiles.partition;

import dev.hedge.ir.Node;
import dev.hedge.profiles.DeviceProfile;
import dev.hedge.runtime.Tensor;
import java.util.List;

/** Drives accelerators of one kind (Arm NN): which nodes it can take, whether a device is here, and compiling. */
public interface Delegate {

    /** The profile's {@code delegate} name this drives. */
    String name();

    /** Null when the node can be translated for the delegate, else why not. */
    String unsupported(Node node, GraphFacts facts);

    /** Null when the accelerator's device can run networks on this host, else why not. */
    String unavailableReason(DeviceProfile.Accelerator accelerator);

    /**
     * Builds and loads a partition for the device. Any failure throws (the caller falls back to the CPU).
     * Inputs and outputs of the compiled partition follow {@link Partition#inputs()} and {@link Partition#outputs()}.
     */
    Compiled compile(DeviceProfile.Accelerator accelerator, Partition partition, GraphFacts facts);

    /** A loaded partition; {@link #newRunner} gives per-session state. */
    interface Compiled extends AutoCloseable {
        Runner newRunner();

        @Override
        void close();
    }

    /** Runs a partition for one session; the outputs stay valid until its next run. */
    interface Runner {
        List<Tensor> run(List<Tensor> inputs);
    }
}
