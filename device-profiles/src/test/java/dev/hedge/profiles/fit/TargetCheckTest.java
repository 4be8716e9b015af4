package dev.hedge.profiles.fit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.hedge.ir.Graph;
import dev.hedge.ir.ModelDef;
import dev.hedge.ir.Node;
import dev.hedge.ir.ValueInfo;
import dev.hedge.ops.Op;
import dev.hedge.profiles.DeviceProfile;
import dev.hedge.profiles.Profiles;
import dev.hedge.profiles.partition.Digits;
import dev.hedge.runtime.DType;
import dev.hedge.runtime.InvalidInputException;
import dev.hedge.runtime.Model;
import dev.hedge.runtime.Tensor;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.junit.jupiter.api.Test;

class TargetCheckTest {

    @Test
    void anArenaOverTheMicrocontrollerBudgetFailsWithBothNumbers() throws IOException {
        ModelDef def = Digits.converted();
        DeviceProfile mcu = Profiles.builtIn("microcontroller");
        int[] shape = {64, 1, 8, 8};
        long arena;
        try (Model m = Model.of(def, dev.hedge.runtime.RuntimeOptions.reference())) { // what TargetCheck plans with
            arena = m.plan(List.of(shape)).totalArenaBytes();
        }
        assertTrue(arena > mcu.memory().arenaBytes(), "test premise: " + arena);
        TargetCheck.Report r = TargetCheck.check(def, mcu, Map.of("pixels", shape), false);
        assertFalse(r.ok());
        assertEquals(arena, r.arenaBytes());
        String expected = String.format(Locale.ROOT, "the planned arena takes %,d bytes at input shapes [64, 1, 8, 8], "
                + "over the %,d-byte budget of microcontroller (memory.arenaBytes)", arena, mcu.memory().arenaBytes());
        assertTrue(r.violations().contains(expected), r.violations().toString());
    }

    @Test
    void aFloatModelDoesNotFitAFullIntegerTarget() throws IOException {
        ModelDef def = Digits.converted();
        TargetCheck.Report r = TargetCheck.check(def, Profiles.builtIn("arm-ethos-n-npu"), Map.of(), false);
        assertFalse(r.ok());
        assertTrue(r.violations().stream().anyMatch(v -> v.contains("FLOAT32 weights; arm-ethos-n-npu takes [INT8]")
                && v.contains("runs full-integer models only")), r.violations().toString());
        // nothing the NPU lists runs on float32, and the profile allows no CPU fallback
        assertTrue(r.violations().stream().anyMatch(v -> v.startsWith("7 nodes cannot run on armnn:EthosNAcc and "
                + "arm-ethos-n-npu allows no CPU fallback")), r.violations().toString());
        TargetCheck.Report allowed = TargetCheck.check(def, Profiles.builtIn("arm-ethos-n-npu"), Map.of(), true);
        assertTrue(allowed.violations().stream().noneMatch(v -> v.contains("CPU fallback")));
        assertTrue(allowed.text().contains("CPU-fallback nodes") || allowed.placement().partitions().isEmpty());
    }

    @Test
    void aFloatModelFitsAGeneralCpuTarget() throws IOException {
        TargetCheck.Report r = TargetCheck.check(Digits.converted(), Profiles.builtIn("x86-64-avx512-vnni"), Map.of(),
                false);
        assertTrue(r.ok(), r.text());
        assertEquals(4, r.weights().size());
        assertTrue(r.placement().placements().stream().allMatch(p -> p.reason().equals("the profile has no accelerator")));
    }

    private static Graph qconv(Tensor w, Tensor wScale, Tensor wZero) {
        Graph.Builder b = Graph.builder("q");
        b.addInput(ValueInfo.of("x", DType.FLOAT32, 1, 2, 4, 4));
        b.initializer("xs", Tensor.scalar(0.02f)).initializer("xz", Tensor.ofBytes(DType.UINT8, new byte[] {(byte) 128}));
        b.initializer("w", w).initializer("ws", wScale).initializer("wz", wZero);
        b.initializer("ys", Tensor.scalar(0.05f)).initializer("yz", Tensor.ofBytes(DType.UINT8, new byte[] {100}));
        b.addNode(Node.of("q", Op.QuantizeLinear, List.of("x", "xs", "xz"), List.of("xq")));
        b.addNode(Node.of("conv", Op.QLinearConv, List.of("xq", "xs", "xz", "w", "ws", "wz", "ys", "yz"), List.of("yq")));
        b.addNode(Node.of("dq", Op.DequantizeLinear, List.of("yq", "ys", "yz"), List.of("y")));
        b.addOutput(new ValueInfo("y", DType.FLOAT32, null));
        return b.build();
    }

    private static Tensor int8(int n, int... shape) {
        byte[] v = new byte[n];
        for (int i = 0; i < n; i++) {
            v[i] = (byte) (i % 7 - 3);
        }
        return Tensor.ofBytes(DType.INT8, v, shape);
    }

    @Test
    void int8WeightsAreJudgedByGranularityAndSymmetry() {
        DeviceProfile npu = Profiles.builtIn("arm-ethos-n-npu");
        List<String> v = new ArrayList<>();
        Graph perTensor = qconv(int8(54, 3, 2, 3, 3), Tensor.of(new float[] {0.01f}, 1),
                Tensor.ofBytes(DType.INT8, new byte[] {0}, 1));
        List<TargetCheck.WeightRow> rows = TargetCheck.weights(perTensor, npu.precision(), npu.name(), v);
        assertEquals(1, rows.size());
        assertEquals("per-tensor", rows.get(0).granularity());
        assertTrue(rows.get(0).symmetric());
        assertNull(rows.get(0).problem());
        assertTrue(v.isEmpty(), v.toString());

        Graph perChannel = qconv(int8(54, 3, 2, 3, 3), Tensor.of(new float[] {0.01f, 0.02f, 0.03f}, 3),
                Tensor.ofBytes(DType.INT8, new byte[] {0, 0, 0}, 3));
        rows = TargetCheck.weights(perChannel, npu.precision(), npu.name(), v);
        assertEquals("per-channel scales; arm-ethos-n-npu takes per-tensor only", rows.get(0).problem());
        assertEquals("weights 'w' of QLinearConv node 'conv': per-channel scales; arm-ethos-n-npu takes per-tensor only",
                v.get(0));

        v.clear();
        Graph asym = qconv(int8(54, 3, 2, 3, 3), Tensor.of(new float[] {0.01f}, 1),
                Tensor.ofBytes(DType.INT8, new byte[] {5}, 1));
        rows = TargetCheck.weights(asym, npu.precision(), npu.name(), v);
        assertFalse(rows.get(0).symmetric());
        assertEquals("non-zero zero point; arm-ethos-n-npu takes symmetric weights only", rows.get(0).problem());

        // a per-channel profile takes the same per-channel weights
        DeviceProfile vnni = Profiles.builtIn("x86-64-avx512-vnni");
        v.clear();
        TargetCheck.weights(perChannel, vnni.precision(), vnni.name(), v);
        assertTrue(v.isEmpty(), v.toString());
    }

    @Test
    void compressionFollowsTheTarget() {
        TargetCompression npu = TargetCompression.of(Profiles.builtIn("arm-ethos-n-npu"));
        assertEquals(new TargetCompression.Settings("int8", true, false), npu.resolve(null, false));
        assertEquals(new TargetCompression.Settings("int8", true, false), npu.resolve("INT8", false));
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> npu.resolve("fp16", false));
        assertTrue(e.getMessage().startsWith("--quantize fp16 does not suit profile arm-ethos-n-npu"));
        TargetCompression mcu = TargetCompression.of(Profiles.builtIn("microcontroller"));
        assertEquals(new TargetCompression.Settings("int8", true, false), mcu.resolve(null, false));
        TargetCompression cpu = TargetCompression.of(Profiles.builtIn("x86-64-avx2"));
        assertEquals(new TargetCompression.Settings(null, false, true), cpu.resolve(null, false));
        assertEquals(new TargetCompression.Settings("fp16", false, true), cpu.resolve("fp16", false));
        assertEquals(new TargetCompression.Settings("int8", true, true), cpu.resolve("int8", true));
    }
}
