package dev.hedge.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.hedge.io.Npy;
import dev.hedge.ir.ModelDef;
import dev.hedge.runtime.Model;
import dev.hedge.runtime.Tensor;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code hedge convert} with compression flags on the bundled digits-cnn example, then {@code inspect} and
 * {@code run} on the compressed file; and the one-line errors of bad compression options.
 */
class CompressCliTest {

    @TempDir
    Path tmp;

    private static final Path CALIB = CliTest.EXAMPLE.resolve("calib.npy");

    /**
     * With the speed check (on by default) each layer is int8, or int8-weight with the measured estimates that made
     * it so (which layers depends on this host's kernel costs), and inspect shows the same notes.
     */
    @Test
    void theSpeedCheckSaysPerLayerWhatItDecided() throws Exception {
        Path out = tmp.resolve("checked.hedge");
        Path report = tmp.resolve("report.json");
        Cli r = Cli.run("convert", CliTest.ONNX, "-o", out, "--quantize", "int8", "--calib", CALIB, "--report", report);
        assertEquals(0, r.exit(), r.transcript());
        JsonNode rep = new ObjectMapper().readTree(Files.readString(report));
        assertEquals("on (int8 against fp32 on this host's kernel costs)", rep.get("settings").get("speed_check").asText());
        String notes = rep.get("notes").toString();
        java.util.regex.Matcher summary = java.util.regex.Pattern.compile("speed check: (\\d+) int8 layers compared "
                + "with fp32 on this host's kernel costs, (\\d+) kept float compute(; not estimated \\(stay int8\\): "
                + "([^\"]*))?").matcher(notes);
        assertTrue(summary.find(), notes);
        String unknown = summary.group(4) == null ? "" : summary.group(4);
        int moved = 0;
        for (JsonNode l : rep.get("layers")) {
            String p = l.get("precision").asText();
            String note = l.path("note").asText();
            if (p.equals("int8-weight")) {
                moved++;
                assertTrue(note.matches("(?s).*kept fp32 \\(int8-weight, float compute\\), int8 slower on this host: "
                        + "int8 (>= )?~[0-9.]+ (us|ms) vs fp32 ~[0-9.]+ (us|ms) \\(int8: .*"), l.toString());
            } else if (p.equals("int8")) {
                assertTrue(note.contains("int8 faster on this host: int8 ")
                        || unknown.contains(l.get("name").asText()), l.toString());
            }
        }
        assertEquals(Integer.toString(moved), summary.group(2), notes);
        Cli inspect = Cli.run("inspect", out);
        assertEquals(0, inspect.exit(), inspect.transcript());
        assertTrue(inspect.out().contains("speed check: " + summary.group(1) + " int8 layers compared"),
                inspect.transcript());
        assertEquals(moved, inspect.out().split("kept fp32 \\(int8-weight, float compute\\)", -1).length - 1,
                inspect.transcript());
    }

    @Test
    void int8ConversionWritesTheFileTheReportAndATableThatInspectShows() throws Exception {
        Path out = tmp.resolve("int8.hedge");
        Path report = tmp.resolve("report.json");
        // every layer int8 whatever this host's kernel costs: without the speed check
        Cli r = Cli.run("convert", CliTest.ONNX, "-o", out, "--quantize", "int8", "--calib", CALIB, "--eval",
                CliTest.TEST_X, "--labels", CliTest.TEST_Y, "--report", report, "--no-speed-check");
        assertEquals(0, r.exit(), r.transcript());
        assertEquals("off", new ObjectMapper().readTree(Files.readString(report)).get("settings").get("speed_check")
                .asText());
        assertTrue(r.out().contains("bytes now") && r.out().contains("SQNR dB"), r.transcript());
        assertTrue(r.out().contains("accuracy_drop_pt="), r.transcript());
        JsonNode rep = new ObjectMapper().readTree(Files.readString(report));
        assertEquals(Files.size(out), rep.get("totals").get("file_bytes_after").asLong());
        assertTrue(rep.get("layers").size() >= 4, rep.toString());
        for (JsonNode l : rep.get("layers")) {
            assertEquals("int8", l.get("precision").asText(), l.toString());
        }
        double drop = rep.get("evaluation").get("accuracy_drop_pt").asDouble();
        assertTrue(drop <= 1.0, "int8 accuracy drop " + drop);
        // between the int8 layers: MaxPool, GlobalAveragePool and Flatten on uint8 (--int8-ops all, the default)
        assertEquals("all", rep.get("settings").get("int8_ops").asText());
        java.util.List<String> ops = new java.util.ArrayList<>();
        rep.get("int8_ops").forEach(o -> ops.add(o.get("from").asText() + "->" + o.get("to").asText()));
        assertEquals(java.util.List.of("MaxPool->MaxPool", "GlobalAveragePool->QLinearGlobalAveragePool",
                "Flatten->Flatten"), ops);
        assertTrue(r.out().contains("int8 between layers: 3 ops"), r.transcript());
        try (Model m = Model.load(out)) {
            JsonNode stored = new ObjectMapper().readTree(m.metadata().get(ModelDef.META_REPORT));
            assertEquals(rep.toString(), stored.toString());
        }

        Cli inspect = Cli.run("inspect", out);
        assertEquals(0, inspect.exit(), inspect.transcript());
        assertTrue(inspect.out().contains("conversion report:") && inspect.out().contains("bytes now")
                && inspect.out().contains("QLinearConv"), inspect.transcript());

        Path dir = tmp.resolve("out");
        Cli run = Cli.run("run", out, "--input", "pixels=" + CliTest.TEST_X, "--output-dir", dir);
        assertEquals(0, run.exit(), run.transcript());
        Tensor logits = Npy.read(dir.resolve("logits.npy"));
        long[] labels = Npy.read(CliTest.TEST_Y).toLongArray();
        int correct = 0;
        float[] v = logits.toFloatArray();
        for (int i = 0; i < labels.length; i++) {
            int best = 0;
            for (int c = 1; c < 10; c++) {
                best = v[i * 10 + c] > v[i * 10 + best] ? c : best;
            }
            correct += best == labels[i] ? 1 : 0;
        }
        double acc = rep.get("evaluation").get("accuracy_compressed").asDouble();
        assertEquals(acc, (double) correct / labels.length, 1e-12, "hedge run agrees with the report");
    }

    @Test
    void int8OpsLayersKeepsTheOpsBetweenLayersInFloat() throws Exception {
        Path out = tmp.resolve("layers.hedge");
        Path report = tmp.resolve("layers.json");
        Cli r = Cli.run("convert", CliTest.ONNX, "-o", out, "--quantize", "int8", "--calib", CALIB, "--int8-ops",
                "layers", "--report", report);
        assertEquals(0, r.exit(), r.transcript());
        JsonNode rep = new ObjectMapper().readTree(Files.readString(report));
        assertEquals("layers", rep.get("settings").get("int8_ops").asText());
        assertEquals(0, rep.get("int8_ops").size(), rep.toString());
        try (Model m = Model.load(out)) {
            assertTrue(m.graph().nodes().stream().anyMatch(n -> n.op() == dev.hedge.ops.Op.GlobalAveragePool));
            assertTrue(m.graph().nodes().stream().noneMatch(n -> n.op() == dev.hedge.ops.Op.QLinearGlobalAveragePool));
        }
    }

    @Test
    void weightOnlyFormsAndPerLayerOverridesWithoutData() throws Exception {
        Path out = tmp.resolve("mixed.hedge");
        Cli r = Cli.run("convert", CliTest.ONNX, "-o", out, "--quantize", "int4", "--layer", "*Gemm*=fp16");
        assertEquals(0, r.exit(), r.transcript());
        assertTrue(r.out().contains("int4") && r.out().contains("fp16"), r.transcript());
        assertTrue(r.out().contains("accuracy not measured"), r.transcript());
        Cli run = Cli.run("run", out, "--input", "pixels=" + CliTest.TEST_X, "--output-dir", tmp.resolve("o"));
        assertEquals(0, run.exit(), run.transcript());
    }

    @Test
    void badCompressionOptionsAreOneLineErrors() {
        Path out = tmp.resolve("x.hedge");
        Cli noCalib = Cli.run("convert", CliTest.ONNX, "-o", out, "--quantize", "int8");
        assertEquals(2, noCalib.exit(), noCalib.transcript());
        assertEquals(1, noCalib.errLines(), noCalib.transcript());
        assertTrue(noCalib.err().contains("--calib"), noCalib.transcript());
        assertFalse(Files.exists(out));

        Cli badMode = Cli.run("convert", CliTest.ONNX, "-o", out, "--quantize", "int3");
        assertEquals(2, badMode.exit(), badMode.transcript());
        assertTrue(badMode.err().contains("unknown precision 'int3'"), badMode.transcript());

        Cli badLabels = Cli.run("convert", CliTest.ONNX, "-o", out, "--quantize", "int8-dynamic", "--eval",
                CliTest.TEST_X, "--labels", CALIB);
        assertEquals(2, badLabels.exit(), badLabels.transcript());
        assertTrue(badLabels.err().contains("labels"), badLabels.transcript());

        Cli badOps = Cli.run("convert", CliTest.ONNX, "-o", out, "--quantize", "int8", "--calib", CALIB,
                "--int8-ops", "some");
        assertEquals(2, badOps.exit(), badOps.transcript());
        assertTrue(badOps.err().contains("--int8-ops 'some': give layers or all"), badOps.transcript());

        Cli twoModes = Cli.run("convert", CliTest.ONNX, "-o", out, "--sparsity", "0.5", "--prune-threshold", "0.1");
        assertEquals(2, twoModes.exit(), twoModes.transcript());
        assertTrue(twoModes.err().contains("one of --sparsity"), twoModes.transcript());
    }
}
