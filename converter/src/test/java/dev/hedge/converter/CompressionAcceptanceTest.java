package dev.hedge.converter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.hedge.converter.data.DataLoader;
import dev.hedge.converter.data.DataSpec;
import dev.hedge.converter.data.Dataset;
import dev.hedge.converter.prune.MagnitudePruning;
import dev.hedge.converter.quantize.LayerPrecision;
import dev.hedge.converter.quantize.QuantOptions;
import dev.hedge.converter.report.CompressionReport;
import dev.hedge.format.HedgeWriter;
import dev.hedge.io.Npy;
import dev.hedge.ir.ModelDef;
import dev.hedge.runtime.DType;
import dev.hedge.runtime.Model;
import dev.hedge.runtime.Session;
import dev.hedge.runtime.Tensor;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The compression acceptance on the shared real models, every figure recomputed here from the written file:
 * digits-mlp (int8; 70% sparsity + int8; 4-bit codebook + 50% sparsity; with and without reconstruction), measured
 * on its test_x/test_y only, and silero-vad v5 int8 on generated speech-like audio. Prints the tables it checks.
 */
class CompressionAcceptanceTest {

    @TempDir
    Path dir;

    private static Path shared(String rel) {
        Path p = Path.of(System.getProperty("hedge.shared", "../../shared"), "models", rel);
        assumeTrue(Files.exists(p), "shared model " + p + " not available (set -Dhedge.shared); skipped");
        return p;
    }

    /** Accuracy of a written file on test_x / test_y, computed here in one batch. */
    private static double accuracy(Path file, Tensor x, long[] y) throws Exception {
        try (Model m = Model.load(file); Session s = m.newSession()) {
            Tensor logits = s.run(Map.of("pixels", x)).get("logits");
            int classes = logits.dim(1);
            float[] v = logits.toFloatArray();
            int correct = 0;
            for (int i = 0; i < y.length; i++) {
                int best = 0;
                for (int c = 1; c < classes; c++) {
                    best = v[i * classes + c] > v[i * classes + best] ? c : best;
                }
                correct += best == y[i] ? 1 : 0;
            }
            return (double) correct / y.length;
        }
    }

    private record Digits(ModelDef fp32, long fp32Bytes, double fp32Accuracy, Dataset calib, Dataset eval, Tensor x,
            long[] y) {
    }

    private Digits digits() throws Exception {
        Path d = shared("digits-mlp");
        ModelDef m = Converter.convert(d.resolve("model.onnx"), Converter.Options.defaults()).model();
        Path fp32 = dir.resolve("fp32.hedge");
        long bytes = HedgeWriter.write(m, fp32);
        Tensor x = Npy.read(d.resolve("test_x.npy"));
        long[] y = Npy.read(d.resolve("test_y.npy")).toLongArray();
        var inputs = m.graph().inputs();
        Dataset calib = DataLoader.load(new DataSpec(List.of(d.resolve("calib.npy").toString()), Map.of(), Map.of(),
                null, 0, null, null), inputs);
        Dataset eval = DataLoader.load(new DataSpec(List.of(d.resolve("test_x.npy").toString()), Map.of(), Map.of(),
                d.resolve("test_y.npy"), 0, null, null), inputs);
        return new Digits(m, bytes, accuracy(fp32, x, y), calib, eval, x, y);
    }

    /** Compresses, checks the report against the file, prints a row; returns {accuracy drop pt, size ratio}. */
    private double[] row(Digits d, String label, CompressionOptions o, List<String> table) throws Exception {
        Path out = dir.resolve(label.replaceAll("[^a-z0-9]", "_") + ".hedge");
        Compressor.Result r = Compressor.compress(d.fp32(), o.withCalibration(d.calib()).withEvaluation(d.eval()), out);
        CompressionReport rep = r.report();
        double acc = accuracy(out, d.x(), d.y());
        long bytes = Files.size(out);
        assertEquals(bytes, rep.fileBytesAfter(), "the report states the file's size");
        assertEquals(d.fp32Bytes(), rep.fileBytesBefore(), "and the fp32 file's");
        assertEquals(acc, rep.evaluation().get("accuracy_compressed"), 1e-12, "report accuracy = recomputed");
        double drop = 100 * (d.fp32Accuracy() - acc);
        double ratio = (double) bytes / d.fp32Bytes();
        table.add(String.format(Locale.ROOT, "| %s | %.2f%% | %.2f pt | %,d | %.3f |", label, 100 * acc, drop, bytes,
                ratio));
        System.out.println("---- " + label + "\n" + rep.toTable());
        return new double[] {drop, ratio};
    }

    private static void print(String title, List<String> rows) {
        System.out.println(title);
        System.out.println("| configuration | test accuracy | drop | file bytes | x fp32 file |");
        System.out.println("|---|---:|---:|---:|---:|");
        rows.forEach(System.out::println);
    }

    @Test
    void digitsMlpInt8StaticPerChannel() throws Exception {
        Digits d = digits();
        List<String> t = new ArrayList<>();
        double[] r = row(d, "int8 static, per-channel", CompressionOptions.of(QuantOptions.of(LayerPrecision.INT8)), t);
        print(String.format(Locale.ROOT, "digits-mlp: fp32 %.2f%%, %,d bytes", 100 * d.fp32Accuracy(),
                d.fp32Bytes()), t);
        assertTrue(r[0] <= 0.5, "accuracy drop " + r[0] + " pt");
        assertTrue(r[1] <= 0.3, "file ratio " + r[1]);
    }

    @Test
    void digitsMlpSparseInt8AndSparseCodebookWithAndWithoutReconstruction() throws Exception {
        Digits d = digits();
        List<String> t = new ArrayList<>();
        // 70% in 1x8 row blocks on every layer, so block-CSR stores the int8 weights compactly
        MagnitudePruning.Options p70 = MagnitudePruning.Options.sparsity(0.7).withBlock(1, 8).withSkipFirstLast(false);
        CompressionOptions int8 = CompressionOptions.of(QuantOptions.of(LayerPrecision.INT8)).withPrune(p70);
        double[] without = row(d, "70% sparsity (1x8 blocks) + int8, no reconstruction",
                int8.withReconstruct(false, false), t);
        double[] with = row(d, "70% sparsity (1x8 blocks) + int8, reconstruction", int8.withReconstruct(true, false), t);
        // element-wise 70%: stored as a bitmask, a few hundred bytes over 0.15x with the report in the file
        row(d, "70% sparsity (element-wise) + int8, reconstruction", CompressionOptions.of(QuantOptions.of(
                LayerPrecision.INT8)).withPrune(MagnitudePruning.Options.sparsity(0.7).withSkipFirstLast(false))
                .withReconstruct(true, false), t);
        MagnitudePruning.Options p50 = MagnitudePruning.Options.sparsity(0.5).withSkipFirstLast(false);
        CompressionOptions cb = CompressionOptions.of(QuantOptions.of(LayerPrecision.codebook(4))).withPrune(p50);
        double[] cbWithout = row(d, "50% sparsity + 4-bit codebook, no reconstruction", cb.withReconstruct(false, false),
                t);
        double[] cbWith = row(d, "50% sparsity + 4-bit codebook, reconstruction", cb.withReconstruct(true, false), t);
        print(String.format(Locale.ROOT, "digits-mlp: fp32 %.2f%%, %,d bytes", 100 * d.fp32Accuracy(),
                d.fp32Bytes()), t);
        assertTrue(with[0] <= 1.0, "70% + int8 with reconstruction: drop " + with[0] + " pt");
        assertTrue(with[1] <= 0.15, "70% + int8 with reconstruction: file ratio " + with[1]);
        assertTrue(cbWith[0] <= 1.5, "4-bit codebook + 50%: drop " + cbWith[0] + " pt");
        assertTrue(without.length == 2 && cbWithout.length == 2);
    }

    // ---- silero-vad -----------------------------------------------------------------------------------------

    /**
     * Speech-like audio at 16 kHz in 512-sample chunks: phrases of harmonic series (a drifting 100-220 Hz
     * fundamental, two formant-like spectral humps) under a 3-6 Hz syllabic amplitude modulation, with pauses and a
     * little white noise throughout.
     */
    static float[][] speech(double seconds, long seed) {
        Random r = new Random(seed);
        int sr = 16000;
        int n = (int) (seconds * sr);
        double[] out = new double[n];
        int pos = 0;
        while (pos < n) {
            int seg = (int) ((0.6 + r.nextDouble()) * sr);
            int pause = (int) ((0.2 + 0.5 * r.nextDouble()) * sr);
            int end = Math.min(n, pos + seg);
            double f0 = 100 + 120 * r.nextDouble();
            double vib = 0.5 + 1.5 * r.nextDouble();
            double am = 3 + 3 * r.nextDouble();
            double[] phase0 = new double[24];
            for (int h = 0; h < 24; h++) {
                phase0[h] = 2 * Math.PI * r.nextDouble();
            }
            double phase = 0;
            double peak = 0;
            double[] sig = new double[end - pos];
            for (int i = 0; i < sig.length; i++) {
                double t = (double) i / sr;
                double f = f0 * (1 + 0.1 * Math.sin(2 * Math.PI * vib * t));
                phase += 2 * Math.PI * f / sr;
                double v = 0;
                for (int h = 1; h <= 24; h++) {
                    double fh = h * f0;
                    double formant = Math.exp(-Math.pow((fh - 500) / 400, 2)) + 0.6 * Math.exp(-Math.pow((fh - 1500)
                            / 600, 2)) + 0.1;
                    v += formant / Math.pow(h, 0.7) * Math.sin(h * phase + phase0[h - 1]);
                }
                double mod = Math.pow(0.5 * (1 + Math.sin(2 * Math.PI * am * t - Math.PI / 2)), 1.5);
                double ramp = Math.min(1, Math.min(t / 0.05, (sig.length - 1 - i) / (0.05 * sr)));
                sig[i] = v * mod * ramp;
                peak = Math.max(peak, Math.abs(v));
            }
            for (int i = 0; i < sig.length; i++) {
                out[pos + i] = 0.25 * sig[i] / peak;
            }
            pos = end + pause;
        }
        int chunks = n / 512;
        float[][] c = new float[chunks][512];
        for (int k = 0; k < chunks; k++) {
            for (int i = 0; i < 512; i++) {
                c[k][i] = (float) (out[k * 512 + i] + 0.01 * r.nextGaussian());
            }
        }
        return c;
    }

    private static Dataset chunks(float[][] audio) {
        List<Map<String, Tensor>> l = new ArrayList<>();
        Tensor sr = Tensor.allocate(DType.INT64);
        sr.setLong(0, 16000);
        Tensor state = Tensor.allocate(DType.FLOAT32, 2, 1, 128);
        for (float[] c : audio) {
            l.add(Map.of("input", Tensor.of(c, 1, 512), "state", state, "sr", sr));
        }
        return Dataset.of(l).withCarry(Map.of("state", "stateN"));
    }

    /** Speech probabilities of a model over the chunks, state carried from chunk to chunk. */
    private static float[] probabilities(Model m, Dataset d) {
        float[] p = new float[d.size()];
        try (Session s = m.newSession()) {
            d.run(s, (i, feed, out) -> p[i] = out.get("output").getFloat(0));
        }
        return p;
    }

    /**
     * The silero recipe: {@code --quantize int8 --max-output-error 0.02 --max-precision int8-weight}. Every layer
     * starts static int8 (uint8 per-tensor activations, minmax; the LSTM, which has no int8 kernel, int8 weights);
     * automatic mixed precision then moves the layers adding the most noise to int8 weights with float activations,
     * never further, so every weight tensor stays int8.
     */
    @Test
    void sileroVadInt8KeepsSpeechProbabilityWithin002() throws Exception {
        Path onnx = shared("silero-vad/silero_vad_v5.onnx");
        ModelDef fp32 = Converter.convert(onnx, Converter.Options.defaults()).model();
        Dataset calib = chunks(speech(30, 1));
        Dataset eval = chunks(speech(20, 2));
        Path out = dir.resolve("silero-int8.hedge");
        Compressor.Result r = Compressor.compress(fp32, CompressionOptions.of(QuantOptions.of(LayerPrecision.INT8))
                .withCalibration(calib).withEvaluation(eval).withMaxOutputError(0.02)
                .withMaxPrecision(LayerPrecision.INT8_WEIGHT), out);
        System.out.println("---- silero-vad, int8, --max-output-error 0.02 --max-precision int8-weight\n"
                + r.report().toTable());
        // recomputed here: both models over the evaluation audio, each carrying its own state
        float[] ref;
        try (Model m = Model.of(fp32)) {
            ref = probabilities(m, eval);
        }
        float[] got;
        try (Model m = Model.load(out)) {
            got = probabilities(m, eval);
        }
        double max = 0;
        for (int i = 0; i < ref.length; i++) {
            max = Math.max(max, Math.abs(ref[i] - got[i]));
        }
        List<String> statics = r.report().layers().stream().filter(l -> l.precision().equals("int8")
                && !Double.isNaN(l.sqnrDb())).map(l -> l.name()).toList();
        System.out.printf(Locale.ROOT, "silero-vad int8: max |delta speech probability| = %.4f over %d chunks, output"
                + " SQNR %.1f dB, file %.3fx; static int8: %s; first step (every layer static int8): %s%n", max,
                ref.length, r.report().outputs().get("output")[0], (double) r.report().fileBytesAfter()
                        / r.report().fileBytesBefore(), statics, r.report().mixedPrecision().isEmpty() ? "-"
                        : r.report().mixedPrecision().get(0).reason());
        assertEquals(r.report().outputs().get("output")[1], max, 1e-6, "report = recomputed");
        assertTrue(max <= 0.02, "max |delta| " + max);
        for (var l : r.report().layers()) {
            assertTrue(l.bits() == 8 && (l.precision().equals("int8") || l.precision().equals("int8-weight")),
                    l.name() + " is " + l.precision());
        }
        assertTrue(statics.size() >= 2, "static int8 layers: " + statics);
        assertTrue(r.report().fileBytesAfter() < 0.3 * r.report().fileBytesBefore());
    }
}
