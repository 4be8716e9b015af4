package dev.hedge.converter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.hedge.converter.data.Dataset;
import dev.hedge.converter.prune.MagnitudePruning;
import dev.hedge.converter.quantize.LayerPrecision;
import dev.hedge.converter.quantize.QTestGraphs;
import dev.hedge.converter.quantize.QuantOptions;
import dev.hedge.converter.report.CompressionReport;
import dev.hedge.converter.report.LayerRow;
import dev.hedge.ir.Graph;
import dev.hedge.ir.ModelDef;
import dev.hedge.ir.Node;
import dev.hedge.ops.Op;
import dev.hedge.runtime.InvalidInputException;
import dev.hedge.runtime.Model;
import dev.hedge.runtime.Session;
import dev.hedge.runtime.Tensor;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The whole pipeline on a small model: the written file, its report, and figures recomputed independently. */
class CompressorTest {

    @TempDir
    Path dir;

    private static Dataset labelled(int n) {
        Dataset d = QTestGraphs.samples("x", 11, n, 1, 6);
        long[] labels = new long[n];
        for (int i = 0; i < n; i++) {
            labels[i] = i % 4;
        }
        return d.withLabels(labels);
    }

    private static int argmax(float[] v) {
        int b = 0;
        for (int i = 1; i < v.length; i++) {
            b = v[i] > v[b] ? i : b;
        }
        return b;
    }

    @Test
    void int8FileReportAgreesWithTheFileAndWithIndependentRuns() throws Exception {
        ModelDef m = QTestGraphs.mlp();
        Dataset calib = QTestGraphs.samples("x", 7, 40, 1, 6);
        Dataset eval = labelled(30);
        Path out = dir.resolve("m.hedge");
        Compressor.Result r = Compressor.compress(m, CompressionOptions.of(QuantOptions.of(LayerPrecision.INT8))
                .withCalibration(calib).withEvaluation(eval).withReconstruct(false, false), out);
        CompressionReport rep = r.report();
        assertEquals(Files.size(out), rep.fileBytesAfter());
        try (Model loaded = Model.load(out)) {
            String json = loaded.metadata().get(ModelDef.META_REPORT);
            assertNotNull(json);
            assertEquals(rep.toJson(), json);
            Graph g = loaded.graph();
            // fc1 hands fc2 its output in uint8; fc2's output leaves the graph, so fc2 scales its int32
            // accumulators back to float instead of requantizing them
            assertEquals(List.of(Op.QLinearMatMul, Op.MatMulInteger), g.nodes().stream().map(Node::op)
                    .filter(o -> o == Op.QLinearMatMul || o == Op.MatMulInteger).toList());
            // bytes now: fc1, the payloads of its weight, weight scale, weight zero point and int32 bias; fc2, its
            // int8 weight and its float weight scales and bias (one per output)
            for (LayerRow row : rep.layers()) {
                Node n = g.nodes().stream().filter(x -> x.name().equals(row.name())).findFirst().orElseThrow();
                long bytes = 0;
                if (n.op() == Op.QLinearMatMul) {
                    for (int i : new int[] {3, 4, 5, 8}) {
                        bytes += g.initializers().get(n.input(i)).byteSize();
                    }
                } else {
                    Tensor w = g.initializers().get(n.input(1));
                    bytes = w.byteSize() + 2L * 4 * w.dim(1);
                }
                assertEquals(bytes, row.bytesAfter(), row.name());
            }
            // agreement and accuracy, recomputed by running both models here
            int agree = 0;
            int correctRef = 0;
            int correctComp = 0;
            try (Model ref = Model.of(m); Session rs = ref.newSession(); Session cs = loaded.newSession()) {
                for (int i = 0; i < eval.size(); i++) {
                    int a = argmax(rs.run(eval.samples().get(i)).get("y").toFloatArray());
                    int b = argmax(cs.run(eval.samples().get(i)).get("y").toFloatArray());
                    agree += a == b ? 1 : 0;
                    correctRef += a == eval.labels()[i] ? 1 : 0;
                    correctComp += b == eval.labels()[i] ? 1 : 0;
                }
            }
            assertEquals(agree / 30.0, rep.evaluation().get("top1_agreement"), 1e-12);
            assertEquals(100.0 * (correctRef - correctComp) / 30, rep.evaluation().get("accuracy_drop_pt"), 1e-9);
        }
        LayerRow fc1 = rep.layers().get(0);
        assertEquals("fc1", fc1.name());
        assertEquals(48, fc1.params());
        assertEquals(4 * (48 + 8), fc1.bytesBefore());
        assertEquals(48, fc1.macsBefore());
        assertEquals(32, rep.layers().get(1).macsBefore());
        assertEquals("int8", fc1.precision());
        assertTrue(fc1.sqnrDb() > 20, "fc1 SQNR " + fc1.sqnrDb());
        // the report reads back from its JSON
        assertEquals(rep.layers(), CompressionReport.fromJson(rep.toJson()).layers());
    }

    @Test
    void mixedPrecisionRaisesLayersUntilTheTargetHolds() throws Exception {
        ModelDef m = QTestGraphs.mlp();
        Dataset data = labelled(40);
        Compressor.Result r = Compressor.compress(m,
                CompressionOptions.of(QuantOptions.of(LayerPrecision.codebook(2))).withCalibration(data)
                        .withReconstruct(false, false).withTargets(1.0, Double.NaN), dir.resolve("amp.hedge"));
        CompressionReport rep = r.report();
        assertFalse(rep.mixedPrecision().isEmpty());
        assertEquals(1.0, rep.evaluation().get("top1_agreement"), 0.0, rep.toTable());
        List<String> ladder = List.of("codebook2", "int8", "int8-weight", "fp16", "fp32");
        for (CompressionReport.MixedPrecisionStep s : rep.mixedPrecision()) {
            assertEquals(ladder.indexOf(s.from()) + 1, ladder.indexOf(s.to()), s.toString());
            assertTrue(s.reason().contains("top-1 agreement"), s.reason());
        }
    }

    @Test
    void mixedPrecisionStopsAtMaxPrecision() throws Exception {
        ModelDef m = QTestGraphs.mlp();
        Dataset data = labelled(40);
        // a target no quantized model meets: without the limit the layers would climb to fp32
        Compressor.Result r = Compressor.compress(m,
                CompressionOptions.of(QuantOptions.of(LayerPrecision.codebook(2))).withCalibration(data)
                        .withReconstruct(false, false).withMaxOutputError(0).withMaxPrecision(LayerPrecision.INT8),
                dir.resolve("capped.hedge"));
        CompressionReport rep = r.report();
        for (LayerRow row : rep.layers()) {
            assertEquals("int8", row.precision(), rep.toTable());
        }
        assertEquals(2, rep.mixedPrecision().size(), rep.toTable());
        for (CompressionReport.MixedPrecisionStep s : rep.mixedPrecision()) {
            assertEquals("int8", s.to(), s.toString());
        }
        assertTrue(rep.notes().stream().anyMatch(n -> n.contains("target not reached") && n.contains("int8")),
                rep.notes().toString());
        assertEquals("int8", rep.settings().get("max_precision"));
    }

    @Test
    void prunedInt8WeightsAreStoredSparseAndCountFewerMacs() throws Exception {
        ModelDef m = QTestGraphs.mlp(32, 64, 16);
        Dataset data = QTestGraphs.samples("x", 3, 40, 1, 32);
        Compressor.Result r = Compressor.compress(m, CompressionOptions.of(QuantOptions.of(LayerPrecision.INT8))
                .withPrune(MagnitudePruning.Options.sparsity(0.75).withSkipFirstLast(false)).withCalibration(data),
                dir.resolve("sparse.hedge"));
        try (Model loaded = Model.load(dir.resolve("sparse.hedge"))) {
            Node fc2 = loaded.graph().nodes().stream().filter(n -> n.name().equals("fc2")).findFirst().orElseThrow();
            // the last layer: static int8 with its accumulators scaled back to float
            assertEquals(Op.MatMulInteger, fc2.op());
            Tensor w = loaded.graph().initializers().get(fc2.input(1));
            assertNotNull(w.sparse(), "fc2 weight stored sparse");
        }
        LayerRow fc2 = r.report().layers().get(1);
        assertEquals(0.75, fc2.sparsity(), 0.05);
        assertEquals(Math.round(1024 * (1 - fc2.sparsity())), fc2.macsAfter());
        assertTrue(!Double.isNaN(fc2.refitSqnrAfter()), "reconstruction ran (calibration data given)");
        assertTrue(fc2.refitSqnrAfter() > fc2.refitSqnrBefore(), fc2.toString());
    }

    @Test
    void staticInt8WithoutCalibrationDataIsRefused() {
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> Compressor.compress(
                QTestGraphs.mlp(), CompressionOptions.of(QuantOptions.of(LayerPrecision.INT8)), dir.resolve("x.hedge")));
        assertTrue(e.getMessage().contains("--calib"), e.getMessage());
        assertFalse(Files.exists(dir.resolve("x.hedge")));
    }

    @Test
    void withoutDataTheReportStillCountsBytesAndMacs() throws Exception {
        Compressor.Result r = Compressor.compress(QTestGraphs.mlp(),
                CompressionOptions.of(QuantOptions.of(LayerPrecision.FP16)), dir.resolve("h.hedge"));
        assertTrue(r.report().evaluation().isEmpty());
        assertEquals(48, r.report().layers().get(0).macsBefore());
        assertEquals(2 * 48 + 2 * 8, r.report().layers().get(0).bytesAfter());
        List<String> notes = new ArrayList<>(r.report().notes());
        assertTrue(notes.stream().anyMatch(n -> n.contains("accuracy not measured")), notes.toString());
        try (Model loaded = Model.load(dir.resolve("h.hedge")); Session s = loaded.newSession()) {
            Tensor x = QTestGraphs.random(1, 1f, 1, 6);
            float[] a = s.run(Map.of("x", x)).get("y").toFloatArray();
            float[] b = QTestGraphs.run(QTestGraphs.mlp(), Map.of("x", x)).get("y").toFloatArray();
            for (int i = 0; i < a.length; i++) {
                assertEquals(b[i], a[i], 0.01 * (1 + Math.abs(b[i])));
            }
        }
    }
}
