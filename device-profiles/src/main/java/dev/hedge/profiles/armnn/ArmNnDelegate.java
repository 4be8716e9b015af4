package dev.hedge.profiles.armnn;

import dev.hedge.ir.Node;
import dev.hedge.profiles.DeviceProfile;
import dev.hedge.profiles.partition.Delegate;
import dev.hedge.profiles.partition.GraphFacts;
import dev.hedge.profiles.partition.Partition;
import dev.hedge.runtime.DType;
import dev.hedge.runtime.Tensor;
import java.util.ArrayList;
import java.util.List;

/** Runs partitions through Arm NN on the accelerator's device (CpuAcc, GpuAcc, EthosNAcc, CpuRef). */
public final class ArmNnDelegate implements Delegate {

    public static final ArmNnDelegate INSTANCE = new ArmNnDelegate();

    private ArmNnDelegate() {
    }

    @Override
    public String name() {
        return "armnn";
    }

    @Override
    public String unsupported(Node node, GraphFacts facts) {
        return ArmNnTranslator.unsupported(node, facts);
    }

    @Override
    public String unavailableReason(DeviceProfile.Accelerator accelerator) {
        return ArmNn.deviceUnavailableReason(accelerator.device());
    }

    @Override
    public Compiled compile(DeviceProfile.Accelerator accelerator, Partition partition, GraphFacts facts) {
        ArmNn.Network net = ArmNnTranslator.build(accelerator.device(), partition.nodes(), partition.inputs(),
                partition.outputs(), facts);
        List<DType> inTypes = new ArrayList<>();
        List<int[]> inShapes = new ArrayList<>();
        for (String v : partition.inputs()) {
            inTypes.add(facts.dtype(v));
            inShapes.add(facts.shape(v));
        }
        List<DType> outTypes = new ArrayList<>();
        List<int[]> outShapes = new ArrayList<>();
        for (String v : partition.outputs()) {
            outTypes.add(facts.dtype(v));
            outShapes.add(facts.shape(v));
        }
        return new CompiledNetwork(net, partition.label(), inTypes, inShapes, outTypes, outShapes);
    }

    /** A loaded network shared by the sessions of a model; each runner has its own input and output memory. */
    private static final class CompiledNetwork implements Compiled {
        private final ArmNn.Network net;
        private final String label;
        private final List<DType> inTypes;
        private final List<int[]> inShapes;
        private final List<DType> outTypes;
        private final List<int[]> outShapes;

        CompiledNetwork(ArmNn.Network net, String label, List<DType> inTypes, List<int[]> inShapes,
                List<DType> outTypes, List<int[]> outShapes) {
            this.net = net;
            this.label = label;
            this.inTypes = inTypes;
            this.inShapes = inShapes;
            this.outTypes = outTypes;
            this.outShapes = outShapes;
        }

        @Override
        public Runner newRunner() {
            List<Tensor> ins = new ArrayList<>();
            for (int i = 0; i < inTypes.size(); i++) {
                ins.add(Tensor.allocate(inTypes.get(i), inShapes.get(i)));
            }
            List<Tensor> outs = new ArrayList<>();
            for (int i = 0; i < outTypes.size(); i++) {
                outs.add(Tensor.allocate(outTypes.get(i), outShapes.get(i)));
            }
            List<Tensor> view = List.copyOf(outs);
            return inputs -> {
                for (int i = 0; i < ins.size(); i++) {
                    Tensor src = inputs.get(i);
                    if (src.byteSize() != ins.get(i).byteSize()) {
                        throw new ArmNnException("partition " + label + " input " + i + " has "
                                + src.byteSize() + " bytes, the network was built for " + ins.get(i).byteSize());
                    }
                    src.copyTo(ins.get(i));
                }
                synchronized (net) {
                    for (int i = 0; i < ins.size(); i++) {
                        net.bind(false, i, ins.get(i).data());
                    }
                    for (int i = 0; i < outs.size(); i++) {
                        net.bind(true, i, outs.get(i).data());
                    }
                    net.run();
                }
                return view;
            };
        }

        @Override
        public void close() {
            synchronized (net) {
                net.close();
            }
        }
    }
}
