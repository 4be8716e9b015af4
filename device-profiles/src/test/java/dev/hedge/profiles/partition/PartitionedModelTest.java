package dev.hedge.profiles.partition;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.hedge.ir.Graph;
import dev.hedge.ir.ModelDef;
import dev.hedge.ir.Node;
import dev.hedge.ir.ValueInfo;
import dev.hedge.profiles.DeviceProfile;
import dev.hedge.profiles.ProfileLoader;
import dev.hedge.profiles.Profiles;
import dev.hedge.runtime.Model;
import dev.hedge.runtime.RuntimeOptions;
import dev.hedge.runtime.Session;
import dev.hedge.runtime.Tensor;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * Partitioning and segmented execution with a stand-in delegate that runs each partition as its own Java
 * sub-model: the split model must compute exactly what the whole model computes, and the decisions must
 * follow the profile's numbers.
 */
class PartitionedModelTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    /** Runs partitions on the Java backend; counts compilations; can be told to fail. */
    static class JavaDelegate implements Delegate {
        final AtomicInteger compiled = new AtomicInteger();
        final boolean fail;

        JavaDelegate(boolean fail) {
            this.fail = fail;
        }

        @Override
        public String name() {
            return "armnn";
        }

        @Override
        public String unsupported(Node node, GraphFacts facts) {
            return null;
        }

        @Override
        public String unavailableReason(DeviceProfile.Accelerator a) {
            return null;
        }

        @Override
        public Compiled compile(DeviceProfile.Accelerator a, Partition p, GraphFacts f) {
            if (fail) {
                throw new IllegalStateException("device lost");
            }
            compiled.incrementAndGet();
            Graph.Builder b = Graph.builder("partition");
            for (String v : p.inputs()) {
                b.addInput(ValueInfo.of(v, f.dtype(v), Arrays.stream(f.shape(v)).asLongStream().toArray()));
            }
            for (Node n : p.nodes()) {
                b.addNode(n);
                for (String r : Graph.nodeReads(n)) {
                    if (f.constant(r) != null) {
                        b.initializer(r, f.constant(r));
                    }
                }
            }
            for (String v : p.outputs()) {
                b.addOutput(new ValueInfo(v, f.dtype(v), null));
            }
            Model m = Model.of(new ModelDef(b.build(), Map.of()));
            return new Compiled() {
                @Override
                public Runner newRunner() {
                    Session s = m.newSession();
                    return ins -> {
                        Map<String, Tensor> feed = new java.util.LinkedHashMap<>();
                        for (int i = 0; i < ins.size(); i++) {
                            feed.put(p.inputs().get(i), ins.get(i));
                        }
                        return new ArrayList<>(s.run(feed).values());
                    };
                }

                @Override
                public void close() {
                    m.close();
                }
            };
        }
    }

    private static DeviceProfile cpuref(int minNodes, boolean refuseSlower, double gmacs, String... dropOps)
            throws IOException {
        ObjectNode j;
        try (InputStream in = Profiles.class.getResourceAsStream("armnn-cpuref.json")) {
            j = (ObjectNode) JSON.readTree(in);
        }
        ObjectNode acc = (ObjectNode) j.get("accelerators").get(0);
        acc.put("minPartitionNodes", minNodes);
        acc.put("refuseSlower", refuseSlower);
        acc.put("gmacs", gmacs);
        for (String op : dropOps) {
            ((ObjectNode) acc.get("ops")).remove(op);
        }
        return ProfileLoader.parse(JSON.writeValueAsBytes(j), "test");
    }

    private static float[] javaOutput(ModelDef def, Tensor x) {
        try (Model m = Model.of(def); Session s = m.newSession()) {
            return s.run(Map.of("pixels", x)).get("logits").toFloatArray();
        }
    }

    private static float[] split(PartitionedModel pm, Tensor x) {
        try (PartitionedModel.PartitionedSession s = pm.newSession()) {
            return s.run(Map.of("pixels", x)).get("logits").toFloatArray();
        }
    }

    @Test
    void nodesTheAcceleratorLacksSplitTheGraphAndTheSplitModelComputesTheSame() throws IOException {
        ModelDef def = Digits.converted();
        // without MaxPool the accelerator runs conv, conv | (CPU MaxPool) | conv, pool, flatten, gemm
        DeviceProfile p = cpuref(1, false, 1, "MaxPool");
        JavaDelegate d = new JavaDelegate(false);
        Tensor x = Digits.samples(4);
        try (PartitionedModel pm = PartitionedModel.load(def, p, Map.of("pixels", new int[] {4, 1, 8, 8}), List.of(d),
                RuntimeOptions.defaults())) {
            PartitionPlan plan = pm.plan();
            assertEquals(2, plan.accepted().size(), plan.explain());
            assertEquals(2, d.compiled.get());
            List<Placement> cpu = plan.cpuNodes();
            assertEquals(1, cpu.size(), plan.explain());
            assertEquals("MaxPool", cpu.get(0).op());
            assertTrue(cpu.get(0).reason().contains("armnn:CpuRef does not run MaxPool"), cpu.get(0).reason());
            assertArrayEquals(javaOutput(def, x), split(pm, x), 0f);
        }
    }

    @Test
    void tooSmallPartitionsAreRefusedAndSaySo() throws IOException {
        ModelDef def = Digits.converted();
        DeviceProfile p = cpuref(3, false, 1, "MaxPool");
        JavaDelegate d = new JavaDelegate(false);
        try (PartitionedModel pm = PartitionedModel.load(def, p, Map.of(), List.of(d), RuntimeOptions.defaults())) {
            PartitionPlan plan = pm.plan();
            Partition first = plan.partitions().get(0);
            assertFalse(first.accepted());
            assertEquals("too small: 2 nodes < 3 (dispatch and transfers would dominate)", first.reason());
            assertTrue(plan.partitions().get(1).accepted(), plan.explain());
            assertEquals(1, d.compiled.get());
            assertTrue(plan.explain().contains("partition p0 refused: too small"), plan.explain());
        }
    }

    @Test
    void partitionsPredictedSlowerThanTheCpuStayOnTheCpu() throws IOException {
        ModelDef def = Digits.converted();
        DeviceProfile slow = cpuref(1, true, 0.5); // CpuRef: 0.5 GMAC/s vs the profile's CPU 20
        JavaDelegate d = new JavaDelegate(false);
        try (PartitionedModel pm = PartitionedModel.load(def, slow, Map.of(), List.of(d), RuntimeOptions.defaults())) {
            Partition only = pm.plan().partitions().get(0);
            assertFalse(only.accepted());
            assertTrue(only.reason().startsWith("slower than the CPU: predicted"), only.reason());
            assertTrue(only.acceleratorMicros() > only.cpuMicros());
            assertEquals(0, d.compiled.get());
            Tensor x = Digits.samples(1);
            assertArrayEquals(javaOutput(def, x), split(pm, x), 0f);
        }
        // a fast accelerator still loses a single sample to its 50 us dispatch, and wins a batch of 64
        DeviceProfile fast = cpuref(1, true, 10_000);
        try (PartitionedModel pm = PartitionedModel.load(def, fast, Map.of(), List.of(d), RuntimeOptions.defaults())) {
            assertFalse(pm.plan().partitions().get(0).accepted(), pm.plan().explain());
        }
        try (PartitionedModel pm = PartitionedModel.load(def, fast, Map.of("pixels", new int[] {64, 1, 8, 8}),
                List.of(d), RuntimeOptions.defaults())) {
            Partition p = pm.plan().partitions().get(0);
            assertTrue(p.accepted(), pm.plan().explain());
            assertTrue(p.reason().startsWith("faster: predicted"), p.reason());
        }
    }

    @Test
    void aPartitionThatFailsToLoadFallsBackToTheCpuWithAWarning() throws IOException {
        ModelDef def = Digits.converted();
        DeviceProfile p = cpuref(1, false, 1);
        Tensor x = Digits.samples(2);
        try (PartitionedModel pm = PartitionedModel.load(def, p, Map.of("pixels", new int[] {2, 1, 8, 8}),
                List.of(new JavaDelegate(true)), RuntimeOptions.defaults())) {
            PartitionPlan plan = pm.plan();
            assertTrue(plan.accepted().isEmpty());
            assertEquals(List.of("armnn:CpuRef partition p0 failed at load: device lost; it runs on the CPU"),
                    plan.warnings());
            assertTrue(plan.placements().stream().allMatch(Placement::onCpu));
            assertArrayEquals(javaOutput(def, x), split(pm, x), 0f);
        }
    }

    @Test
    void anAcceleratorAbsentFromThisHostRunsNothingAndWarns() throws IOException {
        ModelDef def = Digits.converted();
        DeviceProfile mali = Profiles.builtIn("arm-mali-gpu");
        Delegate absent = new JavaDelegate(false) {
            @Override
            public String unavailableReason(DeviceProfile.Accelerator a) {
                return "no GpuAcc device here";
            }
        };
        try (PartitionedModel pm = PartitionedModel.load(def, mali, Map.of(), List.of(absent),
                RuntimeOptions.defaults())) {
            assertTrue(pm.plan().partitions().isEmpty());
            assertEquals(List.of("armnn:GpuAcc unavailable: no GpuAcc device here; its nodes run on the CPU"),
                    pm.plan().warnings());
            Tensor x = Digits.samples(1);
            assertArrayEquals(javaOutput(def, x), split(pm, x), 0f);
        }
    }

    @Test
    void inputsOfAnotherShapeThanPlannedAreRejectedByName() throws IOException {
        ModelDef def = Digits.converted();
        try (PartitionedModel pm = PartitionedModel.load(def, cpuref(1, false, 1), Map.of(),
                List.of(new JavaDelegate(false)), RuntimeOptions.defaults());
                PartitionedModel.PartitionedSession s = pm.newSession()) {
            var e = org.junit.jupiter.api.Assertions.assertThrows(dev.hedge.runtime.InvalidInputException.class,
                    () -> s.run(Map.of("pixels", Digits.samples(3))));
            assertEquals("input 'pixels' has shape [3, 1, 8, 8]; this partitioned model was planned for [1, 1, 8, 8]",
                    e.getMessage());
        }
    }
}
