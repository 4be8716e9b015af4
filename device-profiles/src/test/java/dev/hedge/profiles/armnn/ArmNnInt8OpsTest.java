package dev.hedge.profiles.armnn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.hedge.converter.CompressionOptions;
import dev.hedge.converter.CompressionRequest;
import dev.hedge.converter.Compressor;
import dev.hedge.converter.Converter;
import dev.hedge.converter.Progress;
import dev.hedge.io.Npy;
import dev.hedge.ir.ModelDef;
import dev.hedge.ir.Node;
import dev.hedge.ops.Op;
import dev.hedge.profiles.DeviceProfile;
import dev.hedge.profiles.ProfileRuntime;
import dev.hedge.profiles.Profiles;
import dev.hedge.profiles.partition.GraphFacts;
import dev.hedge.profiles.partition.PartitionedModel;
import dev.hedge.profiles.partition.Placement;
import dev.hedge.runtime.DType;
import dev.hedge.runtime.Model;
import dev.hedge.runtime.Session;
import dev.hedge.runtime.Tensor;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The int8 ops between layers (QLinearAdd, QLinearGlobalAveragePool...) on Arm NN: what the translator and the
 * partitioner make of the static int8 residual CNN of {@code examples/resnet-digits}, and, with Arm NN present
 * ({@code mvn -Parmnn}), its outputs on CpuRef against the Java backend.
 */
class ArmNnInt8OpsTest {

    @TempDir
    Path dir;

    private static Path example() {
        return Path.of(System.getProperty("hedge.repo", "..")).resolve("examples/resnet-digits");
    }

    /** resnet-digits, static int8 with per-tensor weights (what Arm NN takes), int8 between layers. */
    private ModelDef int8() throws IOException {
        ModelDef converted = Converter.convert(example().resolve("model.onnx"), new Converter.Options(true, Map.of()))
                .model();
        CompressionRequest r = new CompressionRequest();
        r.quantize = "int8";
        r.perTensor = true;
        r.calib = List.of(example().resolve("calib.npy").toString());
        CompressionOptions o = r.build(converted.graph().inputs(), Progress.NONE, s -> s, (opt, e) -> e);
        return Compressor.compress(converted, o, dir.resolve("int8.hedge")).model();
    }

    private static Tensor samples(int n) throws IOException {
        float[] v = Npy.read(example().resolve("test_x.npy")).toFloatArray();
        return Tensor.of(java.util.Arrays.copyOf(v, n * 64), n, 1, 8, 8);
    }

    @Test
    void int8OpsTranslateWithTheirScales() throws IOException {
        ModelDef def = int8();
        GraphFacts f = GraphFacts.of(def, List.of(new int[] {4, 1, 8, 8}));
        int seen = 0;
        for (Node n : def.graph().nodes()) {
            if (Set.of(Op.QLinearAdd, Op.QLinearGlobalAveragePool).contains(n.op())) {
                seen++;
                assertEquals(DType.UINT8, f.dtype(n.output(0)), n.describe());
                assertNotNull(f.quant(n.output(0)), n.describe());
                assertEquals(def.graph().initializers().get(n.input(n.op() == Op.QLinearAdd ? 6 : 3)).getFloat(0),
                        f.quant(n.output(0)).scale(), n.describe());
                assertNull(ArmNnTranslator.unsupported(n, f), n.describe());
            }
        }
        // the two residual Adds (the average pool reads a float Concat, which has no int8 form here)
        assertEquals(2, seen);
    }

    @Test
    void residualInt8CnnOnCpuRefMatchesTheJavaBackend() throws IOException {
        Assumptions.assumeTrue(ArmNn.isAvailable() && ArmNn.devices().contains("CpuRef"),
                "Arm NN not available: run with mvn -Parmnn");
        ModelDef def = int8();
        DeviceProfile p = Profiles.builtIn("armnn-cpuref");
        int n = 32;
        Tensor x = samples(n);
        float[] expected;
        try (Model m = Model.of(def); Session s = m.newSession()) {
            expected = s.run(Map.of("pixels", x)).get("logits").toFloatArray();
        }
        try (PartitionedModel pm = ProfileRuntime.load(def, p, Map.of("pixels", new int[] {n, 1, 8, 8}));
                PartitionedModel.PartitionedSession s = pm.newSession()) {
            String plan = pm.plan().explain();
            for (Placement pl : pm.plan().placements()) {
                if (pl.op().equals("QLinearAdd")) {
                    assertTrue(!pl.onCpu(), pl + "\n" + plan);
                }
            }
            float[] got = s.run(Map.of("pixels", x)).get("logits").toFloatArray();
            double maxErr = 0;
            double range = 0;
            for (int i = 0; i < got.length; i++) {
                maxErr = Math.max(maxErr, Math.abs(got[i] - expected[i]));
                range = Math.max(range, Math.abs(expected[i]));
            }
            int agree = 0;
            for (int b = 0; b < n; b++) {
                agree += argmax(got, b * 10) == argmax(expected, b * 10) ? 1 : 0;
            }
            System.out.printf("resnet-digits int8 on CpuRef: max |error| %.4f of logits up to %.2f, top-1 agreement "
                    + "%d/%d%n", maxErr, range, agree, n);
            // Arm NN rounds its requantizations its own way: a unit here and there, never a different model
            assertTrue(maxErr < 0.05 * range, "max |error| " + maxErr + " of " + range + "\n" + plan);
            assertTrue(agree >= n - 1, agree + " of " + n);
        }
    }

    private static int argmax(float[] v, int from) {
        int best = from;
        for (int i = from + 1; i < from + 10; i++) {
            if (v[i] > v[best]) {
                best = i;
            }
        }
        return best - from;
    }
}
