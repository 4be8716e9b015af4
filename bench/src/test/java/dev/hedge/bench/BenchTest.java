package dev.hedge.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.hedge.bench.models.TinyModels;
import dev.hedge.converter.onnx.TensorProtos;
import dev.hedge.runtime.InvalidInputException;
import dev.hedge.runtime.Tensor;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** hedge bench end to end on a tiny model: statistics, the ONNX Runtime peer, profiles, JSON, inputs. */
class BenchTest {

    @TempDir
    Path dir;

    private Bench.Options options(Path model, Path compare, boolean profile, Map<String, Path> files) {
        return new Bench.Options(model, 2, 3, 20, files, Map.of(), Map.of(), profile, compare, "openblas", 7);
    }

    @Test
    void measuresLatencyMemoryAndComparesWithOnnxRuntimeOnTheSameInputs() throws Exception {
        Path onnx = TinyModels.mlp(dir);
        Bench.Result r = Bench.run(options(onnx, onnx, true, Map.of()));
        assertEquals(2, r.threads());
        assertEquals("openblas", r.backend());
        Latency h = r.hedge();
        assertEquals(20, h.iterations());
        assertTrue(h.minMs() > 0 && h.minMs() <= h.medianMs() && h.medianMs() <= h.p90Ms() && h.p90Ms() <= h.p99Ms(),
                h.toString());
        assertEquals(1000 / h.meanMs(), h.runsPerSecond(), 1e-6 * h.runsPerSecond());
        assertNotNull(r.onnxRuntime());
        assertNull(r.hedgeCpu(), "two threads: no CPU time of the calling thread alone");
        assertEquals(h.medianMs() / r.onnxRuntime().medianMs(), r.ratio(), 1e-12);
        // both engines computed the same function of the same inputs
        assertTrue(r.maxAbsDiff() != null && r.maxAbsDiff() < 1e-4, "max abs diff " + r.maxAbsDiff());
        assertTrue(r.peakRssBytes() > 1 << 20, "peak RSS " + r.peakRssBytes());
        // the converter fuses the Relu into the first Gemm: two steps, each on OpenBLAS or, where the measured
        // kernel costs favour it for so small a product, on the Java fallback
        assertEquals(2, r.stepsByBackend().values().stream().mapToInt(Integer::intValue).sum(),
                r.stepsByBackend().toString());
        assertTrue(java.util.Set.of("openblas", "java").containsAll(r.stepsByBackend().keySet()),
                r.stepsByBackend().toString());
        assertTrue(r.ops().size() == 2 && r.profiledRuns() >= 10, r.ops().toString());
        Bench.OpTime top = r.ops().get(0);
        assertTrue(top.msPerRun() >= r.ops().get(1).msPerRun() && top.callsPerRun() == 1, r.ops().toString());
        assertTrue(r.plan().contains("Gemm"), r.plan());
    }

    @Test
    void jsonHasEveryFigureAndTheCommandRuns() throws Exception {
        Path onnx = TinyModels.mlp(dir);
        StringWriter out = new StringWriter();
        CommandLine cl = new CommandLine(new BenchCommand());
        cl.setOut(new PrintWriter(out));
        int code = cl.execute(onnx.toString(), "--threads", "1", "--warmup", "2", "--iterations", "5",
                "--backend", "openblas", "--profile-ops", "--compare-onnxruntime", onnx.toString(), "--json");
        assertEquals(0, code, out.toString());
        JsonNode j = new ObjectMapper().readTree(out.toString());
        for (String k : new String[] {"medianMs", "minMs", "p90Ms", "p99Ms", "runsPerSecond"}) {
            assertTrue(j.get("latency").get(k).asDouble() > 0, k);
        }
        assertTrue(j.get("peakRssBytes").asLong() > 0);
        assertTrue(j.has("arenaBytes") && j.has("packedWeightBytes"));
        assertEquals(2, j.get("profile").get("ops").size());
        assertTrue(j.get("onnxRuntime").get("ratio").asDouble() > 0);
        // one thread: CPU times of the calling thread too, for both engines
        assertTrue(j.get("cpuLatency").get("medianMs").asDouble() > 0);
        assertTrue(j.get("onnxRuntime").get("cpuRatio").asDouble() > 0);
        assertEquals(1, j.get("inputShapes").get("input").get(0).asInt());

        StringWriter text = new StringWriter();
        CommandLine cl2 = new CommandLine(new BenchCommand());
        cl2.setOut(new PrintWriter(text));
        assertEquals(0, cl2.execute(onnx.toString(), "--iterations", "3", "--warmup", "1", "--backend", "openblas"));
        assertTrue(text.toString().contains("median") && text.toString().contains("peak RSS"), text.toString());
    }

    @Test
    void inputsComeFromTensorProtoFiles() throws Exception {
        Path onnx = TinyModels.mlp(dir);
        float[] v = new float[16];
        v[3] = 1;
        Path pb = dir.resolve("x.pb");
        Files.write(pb, TensorProtos.toProto("input", Tensor.of(v, 1, 16)).toByteArray());
        Bench.Result r = Bench.run(options(onnx, onnx, false, Map.of("input", pb)));
        assertTrue(r.maxAbsDiff() < 1e-4);
        assertEquals(0, r.ops().size());
        assertNull(Bench.run(options(onnx, null, false, Map.of("input", pb))).onnxRuntime());
    }

    @Test
    void badOptionsAreReportedPrecisely() throws Exception {
        Path onnx = TinyModels.mlp(dir);
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> Bench.run(new Bench.Options(onnx,
                1, 1, 1, Map.of(), Map.of("pixels", new int[] {1, 16}), Map.of(), false, null, "openblas", 1)));
        assertTrue(e.getMessage().contains("'pixels'") && e.getMessage().contains("[input]"), e.getMessage());
        assertThrows(InvalidInputException.class, () -> Bench.run(new Bench.Options(onnx, 0, 1, 1, Map.of(),
                Map.of(), Map.of(), false, null, "openblas", 1)));
        InvalidInputException b = assertThrows(InvalidInputException.class, () -> Bench.run(new Bench.Options(onnx, 1,
                1, 1, Map.of(), Map.of(), Map.of(), false, null, "cuda", 1)));
        assertTrue(b.getMessage().contains("unknown backend 'cuda'"), b.getMessage());
        assertThrows(java.nio.file.NoSuchFileException.class, () -> Bench.run(options(dir.resolve("nope.onnx"), null,
                false, Map.of())));
        InvalidInputException s = assertThrows(InvalidInputException.class, () -> Inputs.parseShape("x", "1,a"));
        assertTrue(s.getMessage().contains("dimension 1 ('a')"), s.getMessage());
    }

    @Test
    void latencyPercentilesByNearestRank() {
        long[] ns = new long[100];
        for (int i = 0; i < 100; i++) {
            ns[i] = (100 - i) * 1_000_000L; // 100 ms down to 1 ms
        }
        Latency l = Latency.of(ns);
        assertEquals(1, l.minMs());
        assertEquals(50, l.medianMs());
        assertEquals(90, l.p90Ms());
        assertEquals(99, l.p99Ms());
        assertEquals(50.5, l.meanMs(), 1e-9);
    }
}
