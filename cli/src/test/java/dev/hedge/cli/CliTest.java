package dev.hedge.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.hedge.io.Npy;
import dev.hedge.runtime.DType;
import dev.hedge.runtime.Tensor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every command, in-process, on the bundled example and on bad input. Accuracy is checked against the
 * example's labels (test_y.npy), which come from the data set, not from Hedge.
 */
class CliTest {

    static final Path EXAMPLE = Path.of(System.getProperty("hedge.repo", ".."), "examples", "digits-cnn");
    static final Path ONNX = EXAMPLE.resolve("model.onnx");
    static final Path TEST_X = EXAMPLE.resolve("test_x.npy");
    static final Path TEST_Y = EXAMPLE.resolve("test_y.npy");
    /** PyTorch gets 444/450; the fp32 Hedge result may differ only by rounding: allow 2 flips. */
    static final int MIN_CORRECT = DemoCommand.REFERENCE_CORRECT - 2;

    @TempDir
    Path tmp;

    private static void assertExit(int expected, Cli r) {
        assertEquals(expected, r.exit(), r.transcript());
    }

    /** An error is exactly one line on stderr, starting with "error: " and containing {@code part}. */
    private static void assertOneLineError(Cli r, String part) {
        assertEquals(1, r.errLines(), r.transcript());
        assertTrue(r.err().startsWith("error: "), r.transcript());
        assertTrue(r.err().contains(part), "stderr should contain '" + part + "'\n" + r.transcript());
    }

    private static int correct(Tensor logits, long[] labels) {
        int classes = logits.dim(1);
        float[] v = logits.toFloatArray();
        int correct = 0;
        for (int i = 0; i < labels.length; i++) {
            int best = 0;
            for (int c = 1; c < classes; c++) {
                if (v[i * classes + c] > v[i * classes + best]) {
                    best = c;
                }
            }
            correct += best == labels[i] ? 1 : 0;
        }
        return correct;
    }

    // ---- help, version, usage errors

    @Test
    void helpListsEveryCommand() {
        Cli r = Cli.run("--help");
        assertExit(0, r);
        for (String c : new String[] {"convert", "run", "inspect", "demo", "Exit codes"}) {
            assertTrue(r.out().contains(c), c + "\n" + r.transcript());
        }
        for (String c : new String[] {"convert", "run", "inspect", "demo"}) {
            Cli h = Cli.run(c, "--help");
            assertExit(0, h);
            assertTrue(h.out().contains("Usage: hedge " + c), h.transcript());
        }
    }

    @Test
    void versionComesFromTheBuild() {
        Cli r = Cli.run("--version");
        assertExit(0, r);
        String expected = System.getProperty("hedge.version");
        assertTrue(expected != null && !expected.isEmpty() && !expected.contains("${"), "surefire passes hedge.version");
        assertTrue(r.out().startsWith("hedge " + expected + "\n"), r.transcript());
    }

    @Test
    void usageErrorsExitTwoWithOneLine() {
        Cli none = Cli.run();
        assertExit(2, none);
        assertOneLineError(none, "missing command");

        Cli unknownOption = Cli.run("convert", "--frobnicate", "x.onnx");
        assertExit(2, unknownOption);
        assertOneLineError(unknownOption, "--frobnicate");

        Cli missingParam = Cli.run("convert");
        assertExit(2, missingParam);
        assertOneLineError(missingParam, "IN.onnx");

        Cli unknownCommand = Cli.run("frobnicate");
        assertExit(2, unknownCommand);
        assertEquals(1, unknownCommand.errLines(), unknownCommand.transcript());

        Cli badShape = Cli.run("convert", ONNX, "-o", tmp.resolve("m.hedge"), "--input-shape", "pixels=1,x,8,8");
        assertExit(2, badShape);
        assertOneLineError(badShape, "dimension 1 ('x')");
        assertFalse(Files.exists(tmp.resolve("m.hedge")));

        Cli runNoOutputDir = Cli.run("run", ONNX, "--input", "pixels=" + TEST_X);
        assertExit(2, runNoOutputDir);
        assertOneLineError(runNoOutputDir, "--output-dir");
    }

    // ---- missing, corrupt and unsupported files

    @Test
    void missingFilesExitTwo() {
        Path missing = tmp.resolve("nope.onnx");
        for (Cli r : new Cli[] {
                Cli.run("convert", missing, "-o", tmp.resolve("x.hedge")),
                Cli.run("inspect", missing),
                Cli.run("run", tmp.resolve("nope.hedge"), "--input", "pixels=" + TEST_X, "--output-dir", tmp),
                Cli.run("run", ONNX, "--input", "pixels=" + tmp.resolve("nope.npy"), "--output-dir", tmp)}) {
            assertExit(2, r);
            assertOneLineError(r, "no such file: " + tmp.resolve("nope."));
        }
    }

    @Test
    void unknownInputFileTypeExitsTwo() throws IOException {
        Path txt = Files.writeString(tmp.resolve("pixels.txt"), "1 2 3");
        Cli r = Cli.run("run", ONNX, "--input", "pixels=" + txt, "--output-dir", tmp.resolve("out"));
        assertExit(2, r);
        assertOneLineError(r, "expected .npy (NumPy) or .pb");
    }

    @Test
    void corruptNpyInputExitsTwo() throws IOException {
        Path bad = Files.write(tmp.resolve("pixels.npy"), "\u0093NUMPY garbage".getBytes("ISO-8859-1"));
        Cli r = Cli.run("run", ONNX, "--input", "pixels=" + bad, "--output-dir", tmp.resolve("out"));
        assertExit(2, r);
        assertOneLineError(r, bad.toString());
    }

    @Test
    void corruptOnnxExitsTwo() throws IOException {
        Path bad = Files.write(tmp.resolve("bad.onnx"), new byte[] {8, 1, 18, 99, 1, 2, 3, (byte) 0xff, 0x7f});
        Cli r = Cli.run("convert", bad, "-o", tmp.resolve("bad.hedge"));
        assertExit(2, r);
        assertOneLineError(r, "bad.onnx");
        assertFalse(Files.exists(tmp.resolve("bad.hedge")));

        Cli i = Cli.run("inspect", bad);
        assertExit(2, i);
        assertOneLineError(i, "bad.onnx");
    }

    @Test
    void corruptHedgeExitsTwo() throws IOException {
        Path bad = Files.write(tmp.resolve("bad.hedge"), "this is not a hedge model, just text".getBytes());
        Cli i = Cli.run("inspect", bad);
        assertExit(2, i);
        assertOneLineError(i, "bad.hedge");

        Cli r = Cli.run("run", bad, "--input", "pixels=" + TEST_X, "--output-dir", tmp.resolve("out"));
        assertExit(2, r);
        assertOneLineError(r, "bad.hedge");
        assertFalse(Files.exists(tmp.resolve("out")));
    }

    @Test
    void truncatedHedgeExitsTwo() throws IOException {
        Path good = tmp.resolve("m.hedge");
        assertExit(0, Cli.run("convert", ONNX, "-o", good));
        byte[] all = Files.readAllBytes(good);
        Path cut = Files.write(tmp.resolve("cut.hedge"), Arrays.copyOf(all, all.length / 2));
        Cli r = Cli.run("inspect", cut);
        assertExit(2, r);
        assertOneLineError(r, "cut.hedge");
    }

    @Test
    void unknownOpExitsTwoNamingTheNode() throws IOException {
        Path m = OnnxModels.singleNode(tmp.resolve("odd.onnx"), "FrobnicateX", "mystery_node", "y", 4);
        Cli c = Cli.run("convert", m, "-o", tmp.resolve("odd.hedge"));
        assertExit(2, c);
        assertOneLineError(c, "mystery_node");
        assertTrue(c.err().contains("FrobnicateX"), c.transcript());
        assertFalse(Files.exists(tmp.resolve("odd.hedge")));

        Cli r = Cli.run("run", m, "--input", "x=" + TEST_Y, "--output-dir", tmp.resolve("out"));
        assertExit(2, r);
        assertOneLineError(r, "mystery_node");
    }

    @Test
    void verboseAddsTheStackTrace() throws IOException {
        Path m = OnnxModels.singleNode(tmp.resolve("odd.onnx"), "FrobnicateX", "mystery_node", "y", 4);
        Cli r = Cli.run("convert", "--verbose", m, "-o", tmp.resolve("odd.hedge"));
        assertExit(2, r);
        assertTrue(r.err().startsWith("error: "), r.transcript());
        assertTrue(r.err().contains("UnsupportedModelException") && r.err().contains("\tat dev.hedge."),
                r.transcript());
    }

    // ---- the example, end to end

    @Test
    void convertInspectAndRunTheExample() throws IOException {
        Path hedge = tmp.resolve("digits.hedge");
        Cli c = Cli.run("convert", ONNX, "-o", hedge);
        assertExit(0, c);
        assertTrue(Files.size(hedge) > 0);
        assertTrue(c.out().contains(ONNX + ": 13 nodes"), c.transcript());
        assertTrue(c.out().contains(hedge.toString()) && c.out().contains(String.format("%,d bytes", Files.size(hedge))),
                c.transcript());
        try (Stream<Path> s = Files.list(tmp)) {
            assertEquals(1, s.count(), "the atomic write leaves no temporary file");
        }

        Cli text = Cli.run("inspect", hedge);
        assertExit(0, text);
        assertTrue(text.out().contains("pixels") && text.out().contains("FLOAT32") && text.out().contains("[N,1,8,8]"),
                text.transcript());
        assertTrue(text.out().contains("planned arena for pixels[1,1,8,8]"), text.transcript());

        Cli json = Cli.run("inspect", "--json", hedge);
        assertExit(0, json);
        JsonNode j = new ObjectMapper().readTree(json.out());
        assertEquals("pixels", j.get("inputs").get(0).get("name").asText());
        assertEquals("FLOAT32", j.get("inputs").get(0).get("dtype").asText());
        assertEquals("[\"N\",1,8,8]", j.get("inputs").get(0).get("dims").toString());
        assertEquals("logits", j.get("outputs").get(0).get("name").asText());
        assertEquals("[\"N\",10]", j.get("outputs").get(0).get("dims").toString());
        assertEquals(3, j.get("ops").get("Conv").asInt(), json.out());
        assertEquals(1, j.get("ops").get("Gemm").asInt(), json.out());
        // 19,450 float parameters (examples/digits-cnn/README.md); fusion may fold BN into Conv but adds none.
        long weights = j.get("weights").get("FLOAT32").get("bytes").asLong();
        assertTrue(weights > 0 && weights <= 19_450 * 4, json.out());
        assertTrue(j.get("plan").get("arenaBytes").asLong() > 0, json.out());
        assertEquals("[1,1,8,8]", j.get("plan").get("inputShapes").get("pixels").toString());

        Cli batch8 = Cli.run("inspect", "--json", hedge, "--input-shape", "pixels=8,1,8,8");
        assertExit(0, batch8);
        JsonNode j8 = new ObjectMapper().readTree(batch8.out());
        assertTrue(j8.get("plan").get("arenaBytes").asLong() > j.get("plan").get("arenaBytes").asLong(), batch8.out());

        Path outDir = tmp.resolve("out");
        Cli r = Cli.run("run", hedge, "--input", "pixels=" + TEST_X, "--output-dir", outDir);
        assertExit(0, r);
        Tensor logits = Npy.read(outDir.resolve("logits.npy"));
        assertEquals(DType.FLOAT32, logits.dtype());
        assertArrayEquals(new int[] {450, 10}, logits.shape());
        long[] labels = Npy.read(TEST_Y).toLongArray();
        int correct = correct(logits, labels);
        assertTrue(correct >= MIN_CORRECT, correct + "/450 correct");

        // The same model straight from ONNX (converted in memory) gives the same logits.
        Path outDir2 = tmp.resolve("out2");
        Cli r2 = Cli.run("run", ONNX, "--input", TEST_X.toString(), "--output-dir", outDir2);
        assertExit(0, r2);
        assertArrayEquals(logits.toFloatArray(), Npy.read(outDir2.resolve("logits.npy")).toFloatArray(), 1e-5f);
    }

    @Test
    void convertWithoutOptimizationKeepsEveryNode() throws IOException {
        Path hedge = tmp.resolve("plain.hedge");
        Cli c = Cli.run("convert", ONNX, "-o", hedge, "--no-optimize");
        assertExit(0, c);
        Cli j = Cli.run("inspect", "--json", hedge);
        assertExit(0, j);
        JsonNode ops = new ObjectMapper().readTree(j.out()).get("ops");
        assertEquals(3, ops.get("BatchNormalization").asInt(), j.out());
        assertEquals(3, ops.get("Relu").asInt(), j.out());
        assertEquals(13, new ObjectMapper().readTree(j.out()).get("nodes").asInt(), j.out());
    }

    @Test
    void runReadsTensorProtoInputs() throws IOException {
        Tensor all = Npy.read(TEST_X);
        int n = 5;
        Tensor first = Tensor.wrap(DType.FLOAT32, new int[] {n, 1, 8, 8}, all.data().slice(0, n * 64 * 4));
        Path pb = OnnxModels.tensorProto(tmp.resolve("pixels.pb"), first);
        Path npy = tmp.resolve("pixels.npy");
        Npy.write(first, npy);

        Cli a = Cli.run("run", ONNX, "--input", "pixels=" + pb, "--output-dir", tmp.resolve("a"));
        assertExit(0, a);
        Cli b = Cli.run("run", ONNX, "--input", "pixels=" + npy, "--output-dir", tmp.resolve("b"));
        assertExit(0, b);
        Tensor la = Npy.read(tmp.resolve("a/logits.npy"));
        assertArrayEquals(new int[] {n, 10}, la.shape());
        assertArrayEquals(la.toFloatArray(), Npy.read(tmp.resolve("b/logits.npy")).toFloatArray(), 0f);
    }

    @Test
    void runRejectsWrongInputs() throws IOException {
        Cli wrongType = Cli.run("run", ONNX, "--input", "pixels=" + TEST_Y, "--output-dir", tmp.resolve("o1"));
        assertExit(2, wrongType);
        assertOneLineError(wrongType, "pixels");

        Cli wrongName = Cli.run("run", ONNX, "--input", "images=" + TEST_X, "--output-dir", tmp.resolve("o2"));
        assertExit(2, wrongName);
        assertOneLineError(wrongName, "unknown input 'images'; the model's inputs are [pixels]");

        Cli twice = Cli.run("run", ONNX, "--input", "pixels=" + TEST_X, "--input", "pixels=" + TEST_X,
                "--output-dir", tmp.resolve("o3"));
        assertExit(2, twice);
        assertOneLineError(twice, "given twice");

        Path file = Files.writeString(tmp.resolve("afile"), "x");
        Cli outIsFile = Cli.run("run", ONNX, "--input", "pixels=" + TEST_X, "--output-dir", file);
        assertExit(2, outIsFile);
        assertOneLineError(outIsFile, "not a directory");
    }

    @Test
    void outputFileNamesAreSanitized() throws IOException {
        Path m = OnnxModels.singleNode(tmp.resolve("relu.onnx"), "Relu", "r", "out/put:0 é", 4);
        Path x = tmp.resolve("x.npy");
        Npy.write(Tensor.of(new float[] {-1f, 2f, -3f, 4f}, 4), x);
        Cli r = Cli.run("run", m, "--input", "x=" + x, "--output-dir", tmp.resolve("o"));
        assertExit(0, r);
        Path expected = tmp.resolve("o/out_put_0__.npy");
        assertTrue(Files.exists(expected), r.transcript());
        assertArrayEquals(new float[] {0f, 2f, 0f, 4f}, Npy.read(expected).toFloatArray());
    }

    @Test
    void outputsNumpyCannotHoldAreWidened() throws IOException {
        Path m = OnnxModels.singleNode(tmp.resolve("cast.onnx"), "Cast", "c", "y", 4,
                OnnxModels.intAttr("to", DType.BFLOAT16.onnxCode()));
        Path x = tmp.resolve("x.npy");
        // exactly representable in bfloat16, so the expected values do not depend on rounding
        float[] values = {1f, -2.5f, 0.15625f, 256f};
        Npy.write(Tensor.of(values, 4), x);
        Cli r = Cli.run("run", m, "--input", "x=" + x, "--output-dir", tmp.resolve("o"));
        assertExit(0, r);
        assertTrue(r.err().contains("note: output 'y' is BFLOAT16, which .npy cannot hold; written as FLOAT32"),
                r.transcript());
        Tensor y = Npy.read(tmp.resolve("o/y.npy"));
        assertEquals(DType.FLOAT32, y.dtype());
        assertArrayEquals(values, y.toFloatArray());
    }

    @Test
    void unknownInputShapeNameIsRefused() {
        Cli r = Cli.run("convert", ONNX, "-o", tmp.resolve("m.hedge"), "--input-shape", "image=1,1,8,8");
        assertExit(2, r);
        assertOneLineError(r, "'image'");
        assertTrue(r.err().contains("pixels"), r.transcript());
        assertFalse(Files.exists(tmp.resolve("m.hedge")));

        Path hedge = tmp.resolve("ok.hedge");
        assertExit(0, Cli.run("convert", ONNX, "-o", hedge));
        Cli i = Cli.run("inspect", hedge, "--input-shape", "image=1,1,8,8");
        assertExit(2, i);
        assertOneLineError(i, "--input-shape names 'image', which is not an input; the model's inputs are [pixels]");
    }

    /** Default backends come from the host profile; --backend java runs the reference alone, with the same logits. */
    @Test
    void backendsDefaultToTheHostsAndJavaOnRequest() throws IOException {
        Cli auto = Cli.run("inspect", "--json", ONNX);
        assertExit(0, auto);
        JsonNode plan = new ObjectMapper().readTree(auto.out()).get("plan");
        JsonNode order = plan.get("backends");
        assertEquals("java", order.get(order.size() - 1).asText(), auto.out());
        dev.hedge.profiles.DeviceProfile host = BackendOptions.hostProfile();
        int threads = host == null || host.threads() == 0 ? Runtime.getRuntime().availableProcessors() : host.threads();
        assertEquals(threads, plan.get("threads").asInt(), auto.out());
        java.util.List<String> expected = new java.util.ArrayList<>();
        for (dev.hedge.kernels.Backend b : (host == null ? dev.hedge.runtime.RuntimeOptions.defaults()
                : dev.hedge.runtime.RuntimeOptions.defaults().withBackendOrder(host.backends())).backends()) {
            expected.add(b.name());
        }
        expected.add("java");
        java.util.List<String> got = new java.util.ArrayList<>();
        order.forEach(b -> got.add(b.asText()));
        assertEquals(expected, got, auto.out());
        assertEquals(7, plan.get("nodes").size(), auto.out());
        for (JsonNode n : plan.get("nodes")) {
            assertTrue(got.contains(n.get("backend").asText()) && !n.get("reason").asText().isEmpty(), n.toString());
        }

        Cli text = Cli.run("inspect", ONNX);
        assertExit(0, text);
        assertTrue(text.out().contains("backends: " + String.join(" > ", got)), text.transcript());
        assertTrue(text.out().contains("kernel choice per node") && text.out().contains("/classifier/Gemm"),
                text.transcript());

        Cli java = Cli.run("inspect", "--json", ONNX, "--backend", "java", "--threads", "1");
        assertExit(0, java);
        JsonNode jp = new ObjectMapper().readTree(java.out()).get("plan");
        assertEquals("[\"java\"]", jp.get("backends").toString());
        assertEquals(1, jp.get("threads").asInt());
        for (JsonNode n : jp.get("nodes")) {
            assertEquals("java", n.get("backend").asText(), n.toString());
        }

        Path a = tmp.resolve("auto");
        Path b = tmp.resolve("java");
        Cli ra = Cli.run("run", ONNX, "--input", "pixels=" + TEST_X, "--output-dir", a);
        assertExit(0, ra);
        assertTrue(ra.out().contains("steps by backend: "), ra.transcript());
        Cli rb = Cli.run("run", ONNX, "--input", "pixels=" + TEST_X, "--output-dir", b, "--backend", "java");
        assertExit(0, rb);
        assertTrue(rb.out().contains("steps by backend: java 7 (java, "), rb.transcript());
        float[] la = Npy.read(a.resolve("logits.npy")).toFloatArray();
        float[] lb = Npy.read(b.resolve("logits.npy")).toFloatArray();
        for (int i = 0; i < la.length; i++) {
            assertEquals(lb[i], la[i], 1e-4f * Math.max(1, Math.abs(lb[i])), "logit " + i);
        }

        Cli bad = Cli.run("inspect", ONNX, "--backend", "cuda");
        assertExit(2, bad);
        assertOneLineError(bad, "unknown backend 'cuda'");
        Cli both = Cli.run("run", ONNX, "--input", "pixels=" + TEST_X, "--output-dir", tmp.resolve("x"),
                "--profile", "x86-64-generic", "--backend", "java");
        assertExit(2, both);
        assertOneLineError(both, "not both");
    }

    @Test
    void demoPrintsAccuracySizesAndTimings() throws IOException {
        Path dir = tmp.resolve("demo");
        Cli r = Cli.run("demo", "--output-dir", dir);
        assertExit(0, r);
        for (String part : new String[] {"accuracy", "/450 = ", "model.onnx 80,840 bytes", "digits-cnn.hedge",
                "median", "p90", "same predictions as batch 1", "  backends  ", "> java", "  ran on    "}) {
            assertTrue(r.out().contains(part), part + "\n" + r.transcript());
        }
        assertTrue(Files.exists(dir.resolve("digits-cnn.hedge")));

        DemoCommand.Result d = DemoCommand.run(Files.createDirectories(tmp.resolve("demo2")));
        assertEquals(450, d.total());
        assertTrue(d.correct() >= MIN_CORRECT, d.toString());
        assertEquals(0, d.batchMismatches(), d.toString());
        assertEquals(Files.size(ONNX), d.onnxBytes());
        assertEquals(Files.size(dir.resolve("digits-cnn.hedge")), d.hedgeBytes());
        assertTrue(d.medianNanos() > 0 && d.p90Nanos() >= d.medianNanos(), d.toString());
    }

    @Test
    void demoInATemporaryDirectoryCleansUp() throws IOException {
        Cli r = Cli.run("demo");
        assertExit(0, r);
        String line = r.out().lines().filter(l -> l.contains("files")).findFirst().orElseThrow();
        Path dir = Path.of(line.replaceFirst("^\\s*files\\s+", "").replace(" (temporary, deleted)", ""));
        assertFalse(Files.exists(dir), r.transcript());
    }
}
