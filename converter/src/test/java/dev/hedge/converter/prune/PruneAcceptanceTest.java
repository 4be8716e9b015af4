package dev.hedge.converter.prune;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.hedge.converter.Converter;
import dev.hedge.converter.reconstruct.Reconstruction;
import dev.hedge.format.HedgeWriter;
import dev.hedge.ir.Graph;
import dev.hedge.ir.ModelDef;
import dev.hedge.ir.Node;
import dev.hedge.ir.ValueInfo;
import dev.hedge.runtime.DType;
import dev.hedge.runtime.Model;
import dev.hedge.runtime.QuantParams;
import dev.hedge.runtime.Session;
import dev.hedge.runtime.Tensor;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The pruning acceptance runs on real models: digits-mlp (../shared/models) at 70% unstructured sparsity with
 * and without reconstruction, measured on its test_x/test_y with fp32 weights, and the encoded file sizes; the
 * residual CNN of examples/resnet-digits with 30% of its channels pruned. Prints the tables it checks.
 */
class PruneAcceptanceTest {

    @TempDir
    Path dir;

    private static Path shared(String rel) {
        Path p = Path.of(System.getProperty("hedge.shared", "../../shared"), "models", rel);
        assumeTrue(Files.exists(p), "shared model " + p + " not available (set -Dhedge.shared); skipped");
        return p;
    }

    private static Path example(String rel) {
        Path p = Path.of("..", "examples", "resnet-digits", rel);
        assumeTrue(Files.exists(p), "example " + p + " not found");
        return p;
    }

    /** Splits [N, ...] samples into batches of {@code size} under input {@code name}, reshaped to {@code shape}. */
    static List<Map<String, Tensor>> batches(Tensor x, String name, int size, int... sampleShape) {
        int n = x.dim(0);
        int per = x.elementCount() / n;
        List<Map<String, Tensor>> l = new ArrayList<>();
        for (int s = 0; s < n; s += size) {
            int m = Math.min(size, n - s);
            float[] v = new float[m * per];
            for (int i = 0; i < v.length; i++) {
                v[i] = x.getFloat(s * per + i);
            }
            int[] shape = new int[sampleShape.length + 1];
            shape[0] = m;
            System.arraycopy(sampleShape, 0, shape, 1, sampleShape.length);
            l.add(Map.of(name, Tensor.of(v, shape)));
        }
        return l;
    }

    static double accuracy(Model model, List<Map<String, Tensor>> data, Tensor labels) {
        int correct = 0;
        int at = 0;
        try (Session s = model.newSession()) {
            for (Map<String, Tensor> in : data) {
                Tensor y = s.run(in).values().iterator().next();
                int classes = y.dim(1);
                for (int r = 0; r < y.dim(0); r++) {
                    int best = 0;
                    for (int c = 1; c < classes; c++) {
                        if (y.getFloat(r * classes + c) > y.getFloat(r * classes + best)) {
                            best = c;
                        }
                    }
                    correct += best == labels.getLong(at++) ? 1 : 0;
                }
            }
        }
        assertEquals(labels.elementCount(), at);
        return 100.0 * correct / at;
    }

    static double accuracy(Graph g, List<Map<String, Tensor>> data, Tensor labels) {
        try (Model m = Model.of(new ModelDef(g, Map.of()), TestRuntime.OPTIONS)) {
            return accuracy(m, data, labels);
        }
    }

    private long write(Graph g, String name) throws Exception {
        return HedgeWriter.write(new ModelDef(g, Map.of()), dir.resolve(name));
    }

    /**
     * Size arithmetic only: the weights as int8, symmetric per output channel (as the quantize pass stores them),
     * then sparse-encoded; biases stay float32 (an upper bound: int32 biases are the same size).
     */
    private static Graph int8Weights(Graph g) {
        Graph.Builder b = g.toBuilder();
        for (PrunableLayer l : PrunableLayer.find(g)) {
            Tensor w = l.weightOf(g);
            int[] s = w.shape();
            int ch = s[l.outAxis()];
            long inner = 1;
            for (int d = l.outAxis() + 1; d < s.length; d++) {
                inner *= s[d];
            }
            float[] scales = new float[ch];
            for (int i = 0; i < w.elementCount(); i++) {
                int c = (int) ((i / inner) % ch);
                scales[c] = Math.max(scales[c], Math.abs(w.getFloat(i)) / 127f);
            }
            byte[] q = new byte[w.elementCount()];
            for (int i = 0; i < q.length; i++) {
                int c = (int) ((i / inner) % ch);
                q[i] = scales[c] == 0 ? 0 : (byte) Math.round(w.getFloat(i) / scales[c]);
            }
            for (int c = 0; c < ch; c++) {
                scales[c] = scales[c] == 0 ? 1 : scales[c];
            }
            b.initializer(l.weight(), Tensor.ofBytes(DType.INT8, q, s)
                    .withQuant(QuantParams.perAxis(scales, new long[ch], l.outAxis())));
        }
        return b.build();
    }

    private static String f(String fmt, Object... args) {
        return String.format(Locale.ROOT, fmt, args);
    }

    @Test
    void digitsMlpAt70PercentSparsityWithAndWithoutReconstruction() throws Exception {
        Graph teacher = Converter.convert(shared("digits-mlp/model.onnx"), Converter.Options.defaults()).model()
                .graph();
        List<Map<String, Tensor>> test = batches(Npy.read(shared("digits-mlp/test_x.npy")), "pixels", 100, 64);
        Tensor labels = Npy.read(shared("digits-mlp/test_y.npy"));
        List<Map<String, Tensor>> calib = batches(Npy.read(shared("digits-mlp/calib.npy")), "pixels", 50, 64);
        double base = accuracy(teacher, test, labels);
        long denseFile = write(teacher, "fp32.hedge");
        StringBuilder out = new StringBuilder("\ndigits-mlp, 70% unstructured sparsity (fp32 weights), "
                + "497 test samples; fp32 accuracy " + f("%.2f%%", base) + ", fp32 file " + denseFile + " bytes\n");
        out.append(f("%-34s %9s %9s %11s %11s %13s %8s%n", "pruning", "no recon", "recon", "fp32 sparse",
                "int8 sparse", "int8 encoding", "ratio"));
        Reconstruction.Options ro = Reconstruction.Options.defaults().withRuntime(TestRuntime.OPTIONS);
        Map<String, MagnitudePruning.Options> variants = new java.util.LinkedHashMap<>();
        variants.put("per layer, every layer", MagnitudePruning.Options.sparsity(0.7).withSkipFirstLast(false));
        variants.put("per layer, every layer, OBS mask", MagnitudePruning.Options.sparsity(0.7)
                .withSkipFirstLast(false));
        variants.put("global, every layer", MagnitudePruning.Options.sparsity(0.7).withGlobal(true)
                .withSkipFirstLast(false));
        variants.put("per layer, 1x4 blocks, every layer", MagnitudePruning.Options.sparsity(0.7).withBlock(1, 4)
                .withSkipFirstLast(false));
        variants.put("per layer, 1x8 blocks, every layer", MagnitudePruning.Options.sparsity(0.7).withBlock(1, 8)
                .withSkipFirstLast(false));
        variants.put("per layer, first/last skipped", MagnitudePruning.Options.sparsity(0.7));
        double reconGain = 0;
        for (Map.Entry<String, MagnitudePruning.Options> v : variants.entrySet()) {
            MagnitudePruning.Result p = MagnitudePruning.prune(teacher, v.getValue());
            double plain = accuracy(p.graph(), test, labels);
            Reconstruction.Result r = Reconstruction.reconstruct(teacher, p.graph(), calib,
                    ro.withObsMask(v.getKey().endsWith("OBS mask")));
            double refit = accuracy(r.graph(), test, labels);
            SparseEncoder.Result fp32 = SparseEncoder.encodeGraph(r.graph(), SparseEncoder.DEFAULT_BLOCKS);
            long fp32File = write(fp32.graph(), "fp32-sparse.hedge");
            // the written sparse file reloads and computes the same accuracy
            try (Model m = Model.load(dir.resolve("fp32-sparse.hedge"), TestRuntime.OPTIONS)) {
                assertEquals(refit, accuracy(m, test, labels), 1e-9);
            }
            SparseEncoder.Result int8 = SparseEncoder.encodeGraph(int8Weights(r.graph()), SparseEncoder.DEFAULT_BLOCKS);
            long int8File = write(int8.graph(), "int8-sparse.hedge");
            List<String> enc = int8.tensors().stream().map(t -> t.encoding() == null ? "dense"
                    : t.encoding().blockRows() + "x" + t.encoding().blockCols() + "/" + t.encoding().indexType())
                    .toList();
            out.append(f("%-34s %8.2f%% %8.2f%% %11d %11d %13s %8.3f%n", v.getKey(), plain, refit, fp32File, int8File,
                    String.join(",", enc).replace("INT16", "i16").replace("UINT8", "u8"),
                    (double) int8File / denseFile));
            if (v.getKey().startsWith("per layer, 1x8")) {
                out.append("  layers (sparsity, output error vs fp32 before -> after refit, int8 payload):\n");
                for (int i = 0; i < r.layers().size(); i++) {
                    Reconstruction.LayerError e = r.layers().get(i);
                    SparseEncoder.TensorStats t = int8.tensors().get(i);
                    out.append(f("  %-12s sparsity %.3f  SQNR %6.2f dB -> %6.2f dB  %s%n", e.node(),
                            p.layers().get(i).sparsity(), e.sqnrBefore(), e.sqnrAfter(),
                            t.encoding() == null ? "dense " + t.storedBytes() : t.encoding()));
                }
            }
            if (v.getKey().equals("per layer, every layer")) {
                reconGain = refit - plain;
                assertEquals(0.7, p.overallSparsity(), 0.001);
            }
        }
        System.out.println(out);
        assertTrue(reconGain >= 0, "reconstruction must not lose accuracy here: " + reconGain);
    }

    @Test
    void residualCnnWith30PercentOfItsChannelsPruned() throws Exception {
        Converter.Result conv = Converter.convert(example("model.onnx"),
                new Converter.Options(true, Map.of("pixels", new int[] {1, 1, 8, 8})));
        Graph g = conv.model().graph();
        // the graph is specialised to batch 1 (static shapes everywhere), so evaluation runs sample by sample
        List<Map<String, Tensor>> test = batches(Npy.read(example("test_x.npy")), "pixels", 1, 1, 8, 8);
        Tensor labels = Npy.read(example("test_y.npy"));
        List<Map<String, Tensor>> calib = batches(Npy.read(example("calib.npy")), "pixels", 1, 1, 8, 8)
                .subList(0, 100);
        ChannelPruning.Result r = ChannelPruning.prune(g, ChannelPruning.Options.of(0.3)
                .withRuntime(TestRuntime.OPTIONS));
        StringBuilder out = new StringBuilder("\nresnet-digits, 30% channel pruning (BN folded by the converter)\n");
        out.append(f("%-22s %-13s %9s %10s %10s  %s%n", "layer", "op", "channels", "MACs", "MACs after", "note"));
        for (ChannelPruning.LayerStats l : r.layers()) {
            out.append(f("%-22s %-13s %4d->%-4d %10d %10d  %s%n", l.node(), l.op(), l.channelsBefore(),
                    l.channelsAfter(), l.macsBefore(), l.macsAfter(), l.note()));
        }
        out.append(f("total MACs %d -> %d (%.1f%%)%n", r.macsBefore(), r.macsAfter(),
                100.0 * r.macsAfter() / r.macsBefore()));
        long before = write(g, "cnn.hedge");
        long after = write(r.graph(), "cnn-pruned.hedge");
        double base = accuracy(g, test, labels);
        double pruned;
        try (Model m = Model.load(dir.resolve("cnn-pruned.hedge"), TestRuntime.OPTIONS)) {
            pruned = accuracy(m, test, labels);
            // the pruned model's declared value shapes are the ones it really computes
            List<String> values = new ArrayList<>(r.graph().valueInfos().keySet());
            Graph.Builder probe = r.graph().toBuilder();
            probe.outputs().clear();
            for (String v : values) {
                probe.addOutput(new ValueInfo(v, null, null));
            }
            try (Model pm = Model.of(new ModelDef(probe.build(), Map.of()), TestRuntime.OPTIONS);
                    Session s = pm.newSession()) {
                Map<String, Tensor> res = s.run(test.get(0));
                for (String v : values) {
                    assertArrayEquals(r.graph().valueInfos().get(v).shapeOrNull(), res.get(v).shape(), v);
                }
            }
        }
        Reconstruction.Result refit = Reconstruction.reconstruct(g, r.graph(), calib,
                Reconstruction.Options.defaults().withRuntime(TestRuntime.OPTIONS)
                        .withOutputChannels(r.keptChannels()));
        double refitAcc = accuracy(refit.graph(), test, labels);
        out.append(f("file %d -> %d bytes; test accuracy (540 samples) %.2f%% -> %.2f%% pruned, %.2f%% pruned + "
                + "reconstruction%n", before, after, base, pruned, refitAcc));
        for (Reconstruction.LayerError e : refit.layers()) {
            out.append(f("  %-22s SQNR %6.2f dB -> %6.2f dB  %s%n", e.node(), e.sqnrBefore(), e.sqnrAfter(), e.note()));
        }
        System.out.println(out);
        assertTrue(after < before);
        assertTrue(r.macsAfter() < 0.75 * r.macsBefore(), r.macsAfter() + " of " + r.macsBefore());
        long pruneable = r.layers().stream().filter(l -> l.channelsAfter() < l.channelsBefore()).count();
        assertTrue(pruneable >= 6, "most layers lose channels: " + pruneable);
        assertTrue(base > 95, "trained model accuracy " + base);
    }
}
