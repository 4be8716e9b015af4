package dev.hedge.converter;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import dev.hedge.converter.onnx.OnnxImporter;
import dev.hedge.ir.Graph;
import dev.hedge.ir.ModelDef;
import dev.hedge.ir.Node;
import dev.hedge.kernels.ref.RefBackend;
import dev.hedge.ops.Op;
import dev.hedge.runtime.Model;
import dev.hedge.runtime.Session;
import dev.hedge.runtime.Tensor;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/**
 * The shared real models (see ../shared/models/README.md) through the whole pipeline: imported, optimized,
 * and run on the Java backend against ONNX Runtime on the original file. Skipped while a kernel is missing.
 */
class RealModelsTest {

    private static final Path MODELS = Path.of(System.getProperty("hedge.shared", "../../shared"), "models");

    private static Path model(String rel) {
        Path p = MODELS.resolve(rel);
        assumeTrue(Files.exists(p), "real model " + p + " not available (set -Dhedge.shared); skipped");
        return p;
    }

    @Test
    void digitsMlpFusesItsReluAndMatchesOnnxRuntime() throws Exception {
        Path onnx = model("digits-mlp/model.onnx");
        Converter.Result r = Converter.convert(onnx, Converter.Options.defaults());
        assertEquals(5, r.nodesBefore());
        assertEquals(3, r.nodesAfter());
        assertTrue(r.model().graph().nodes().stream().allMatch(n -> n.op() == Op.Gemm));
        Random rnd = new Random(7);
        float[] x = new float[4 * 64];
        for (int i = 0; i < x.length; i++) {
            x[i] = rnd.nextInt(17) / 16f;
        }
        Map<String, Tensor> in = Map.of("pixels", Tensor.of(x, 4, 64));
        compare(onnx, OnnxImporter.importFile(onnx), in, 1e-5);
        compare(onnx, r.model(), in, 1e-5);
    }

    @Test
    void sileroVadImportsWithItsNestedSubgraphsAndMatchesOnnxRuntime() throws Exception {
        Path onnx = model("silero-vad/silero_vad_v5.onnx");
        ModelDef imported = OnnxImporter.importFile(onnx);
        assertEquals(List.of("input", "state", "sr"), imported.graph().inputNames());
        assertEquals(List.of("output", "stateN"), imported.graph().outputNames());
        assertTrue(imported.graph().nodes().stream().anyMatch(n -> n.op() == Op.If));
        Converter.Result r = Converter.convert(onnx, Converter.Options.defaults());
        assertTrue(r.nodesAfter() < r.nodesBefore(), r.nodesBefore() + " -> " + r.nodesAfter());
        Random rnd = new Random(3);
        float[] audio = new float[512];
        for (int i = 0; i < audio.length; i++) {
            audio[i] = (float) (0.3 * Math.sin(i * 0.07) + 0.05 * rnd.nextGaussian());
        }
        float[] state = new float[2 * 128];
        for (int i = 0; i < state.length; i++) {
            state[i] = (float) (0.1 * rnd.nextGaussian());
        }
        Map<String, Tensor> in = new LinkedHashMap<>();
        in.put("input", Tensor.of(audio, 1, 512));
        in.put("state", Tensor.of(state, 2, 1, 128));
        in.put("sr", Tensor.scalar(16000L).reshape());
        compare(onnx, imported, in, 1e-4);
        compare(onnx, r.model(), in, 1e-4);
    }

    private static void compare(Path onnx, ModelDef def, Map<String, Tensor> inputs, double tol) throws Exception {
        Set<String> missing = new TreeSet<>();
        missingKernels(def.graph(), missing);
        assumeTrue(missing.isEmpty(), "Java backend kernels not available yet: " + missing);
        Map<String, Tensor> actual = new LinkedHashMap<>();
        try (Model m = Model.of(def); Session s = m.newSession()) {
            s.run(inputs).forEach((k, v) -> actual.put(k, v.copy()));
        }
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        try (OrtSession s = env.createSession(onnx.toString(), new OrtSession.SessionOptions())) {
            Map<String, OnnxTensor> in = new LinkedHashMap<>();
            List<OnnxTensor> open = new ArrayList<>();
            try {
                for (Map.Entry<String, Tensor> e : inputs.entrySet()) {
                    Tensor t = e.getValue();
                    long[] shape = java.util.Arrays.stream(t.shape()).asLongStream().toArray();
                    OnnxTensor ot = t.dtype() == dev.hedge.runtime.DType.INT64
                            ? OnnxTensor.createTensor(env, LongBuffer.wrap(t.toLongArray()), shape)
                            : OnnxTensor.createTensor(env, FloatBuffer.wrap(t.toFloatArray()), shape);
                    open.add(ot);
                    in.put(e.getKey(), ot);
                }
                try (OrtSession.Result res = s.run(in)) {
                    for (Map.Entry<String, OnnxValue> e : res) {
                        OnnxTensor ot = (OnnxTensor) e.getValue();
                        FloatBuffer fb = ot.getFloatBuffer();
                        float[] expected = new float[fb.remaining()];
                        fb.get(expected);
                        Tensor a = actual.get(e.getKey());
                        assertArrayEquals(java.util.Arrays.stream(ot.getInfo().getShape()).mapToInt(v -> (int) v)
                                .toArray(), a.shape(), e.getKey() + " shape");
                        for (int i = 0; i < expected.length; i++) {
                            double diff = Math.abs(expected[i] - a.getFloat(i));
                            assertTrue(diff <= tol * Math.max(1, Math.abs(expected[i])), e.getKey() + "[" + i
                                    + "] = " + a.getFloat(i) + ", ONNX Runtime gives " + expected[i]);
                        }
                    }
                }
            } finally {
                open.forEach(OnnxTensor::close);
            }
        }
    }

    private static void missingKernels(Graph g, Set<String> missing) {
        for (Node n : g.nodes()) {
            if (!RefBackend.INSTANCE.supportedOps().contains(n.op())) {
                missing.add(n.op().name());
            }
            for (Graph s : n.subgraphs()) {
                missingKernels(s, missing);
            }
        }
    }
}
