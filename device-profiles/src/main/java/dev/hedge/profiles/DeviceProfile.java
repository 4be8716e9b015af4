package dev.hedge.profiles;

import dev.hedge.ops.Op;
import dev.hedge.runtime.DType;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What a model is converted for and run on: a CPU class (ISA features, backends, threads), its memory budget,
 * the precisions it accepts, and optionally accelerators reached through a delegate such as Arm NN. Read from
 * JSON by {@link ProfileLoader}; the fields follow {@code profile.schema.json}.
 *
 * @param name unique, lower-case, e.g. {@code x86-64-avx512-vnni}
 * @param arch the CPU architecture as Linux names it ({@code x86_64}, {@code aarch64}, {@code armv7e-m})
 * @param devices example devices of the class (documentation)
 * @param requiredFeatures CPU feature flags (the /proc/cpuinfo spelling) the target must have
 * @param backends execution backends in priority order ({@code native}, {@code openblas}, {@code java},
 *     {@code armnn:<device>}); the Java backend always runs what the others do not
 * @param threads default intra-op threads; 0 means every core of the host
 * @param cpuGmacs sustained multiply-accumulates per second of the target's CPU (all default threads), in
 *     billions: what an accelerator partition is weighed against
 * @param memory byte budgets the converted model must fit
 * @param precision dtypes and quantization schemes the target accepts
 * @param accelerators devices that take partitions of the graph, in priority order
 * @param cpuFallback whether nodes no accelerator runs may run on the CPU
 * @param sparsity from which weight sparsity sparse kernels pay on this target
 * @param layout preferred activation layout
 * @param source where the profile was read from (a resource or a file)
 */
public record DeviceProfile(String name, String description, String arch, List<String> devices,
        List<String> requiredFeatures, List<String> backends, int threads, double cpuGmacs, Memory memory, Precision precision,
        List<Accelerator> accelerators, boolean cpuFallback, Sparsity sparsity, Layout layout, String source) {

    /** This profile with CPU fallback allowed (the user's {@code --allow-cpu-fallback}). */
    public DeviceProfile withCpuFallback() {
        return cpuFallback ? this : new DeviceProfile(name, description, arch, devices, requiredFeatures, backends,
                threads, cpuGmacs, memory, precision, accelerators, true, sparsity, layout, source);
    }

    public enum Layout { NCHW, NHWC }

    public enum Granularity { PER_TENSOR, PER_CHANNEL }

    /** Byte budgets: constant weights as stored, and the planned activation arena (per session). */
    public record Memory(long weightsBytes, long arenaBytes) {
    }

    /**
     * @param activations dtypes activations may have between layers
     * @param weights dtypes constant weights may be stored in
     * @param fullInteger every compute layer must run in int8 (no float layers, no weight-only int8)
     * @param weightGranularity int8 weight scales the target accepts; the first is the default
     * @param weightSymmetric int8 weights must have zero point 0
     */
    public record Precision(Set<DType> activations, Set<DType> weights, boolean fullInteger,
            List<Granularity> weightGranularity, boolean weightSymmetric) {

        /** Whether int8 weights may have one scale per output channel. */
        public boolean perChannelAllowed() {
            return weightGranularity.contains(Granularity.PER_CHANNEL);
        }
    }

    /**
     * A device that runs partitions of the graph.
     *
     * @param name how the plan names it, e.g. {@code armnn:GpuAcc}
     * @param delegate the library that drives it ({@code armnn})
     * @param device the delegate's device id ({@code GpuAcc}, {@code CpuAcc}, {@code EthosNAcc}, {@code CpuRef})
     * @param ops ops it runs, each with the input dtypes it accepts
     * @param minPartitionNodes a partition with fewer nodes is refused (dispatch would dominate)
     * @param dispatchMicros fixed cost of one partition invocation
     * @param transferMBps bandwidth for tensors crossing into or out of a partition
     * @param gmacs sustained multiply-accumulates per second, in billions
     * @param refuseSlower whether a partition predicted slower than the CPU stays on the CPU
     */
    public record Accelerator(String name, String delegate, String device, Map<Op, Set<DType>> ops,
            int minPartitionNodes, double dispatchMicros, double transferMBps, double gmacs,
            boolean refuseSlower) {

        public boolean runs(Op op, DType firstInput) {
            Set<DType> d = ops.get(op);
            return d != null && (firstInput == null || d.contains(firstInput));
        }
    }

    /**
     * @param minSparsity fraction of zero weights from which sparse kernels beat dense ones here
     * @param blockShape the sparse block the kernels expect (rows, columns)
     */
    public record Sparsity(double minSparsity, List<Integer> blockShape) {
    }

}
