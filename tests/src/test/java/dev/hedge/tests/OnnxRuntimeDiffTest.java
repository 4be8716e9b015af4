package dev.hedge.tests;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.hedge.converter.onnx.OnnxImporter;
import dev.hedge.io.Npy;
import dev.hedge.ir.ModelDef;
import dev.hedge.runtime.DType;
import dev.hedge.runtime.Model;
import dev.hedge.runtime.Session;
import dev.hedge.runtime.Tensor;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * Differential tests: real models imported by Hedge and run on its Java backend, against ONNX Runtime on
 * the same inputs. Prints the largest absolute difference of every output. Skipped (with a message) when
 * the shared model folder is absent; point {@code -Dhedge.shared=...} at it.
 */
class OnnxRuntimeDiffTest {

    private static final double TOLERANCE = 1e-4;

    private static Path shared() {
        String p = System.getProperty("hedge.shared", "../shared");
        Path dir = Path.of(p).toAbsolutePath().normalize();
        Assumptions.assumeTrue(Files.isDirectory(dir.resolve("models")),
                "shared models not found at " + dir + " (set -Dhedge.shared=<dir with models/>); skipping");
        return dir.resolve("models");
    }

    // ------------------------------------------------------------------ digits-mlp

    @Test
    void digitsMlpMatchesOnnxRuntime() throws Exception {
        Path dir = shared().resolve("digits-mlp");
        Tensor x = Npy.read(dir.resolve("test_x.npy"));
        long[] labels = Npy.read(dir.resolve("test_y.npy")).toLongArray();
        int n = x.dim(0);
        int features = x.dim(1);
        Path onnx = dir.resolve("model.onnx");
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        ModelDef def = OnnxImporter.importFile(onnx);
        try (OrtSession ort = env.createSession(onnx.toString(), new OrtSession.SessionOptions());
                Model model = Model.of(def); Session hedge = model.newSession()) {
            double maxDiff = 0;
            int agree = 0;
            int correct = 0;
            // the whole set as one batch, then rows one at a time and in batches of 32 (other plans)
            for (int batch : new int[] {n, 1, 32}) {
                for (int start = 0; start < n; start += batch) {
                    int rows = Math.min(batch, n - start);
                    float[] in = new float[rows * features];
                    x.floats().get(start * features, in);
                    float[] ref = runOrt(env, ort, Map.of("pixels", floats(in, rows, features)), "logits");
                    Tensor out = hedge.run(Map.of("pixels", Tensor.of(in, rows, features))).get("logits");
                    assertArrayEquals(new int[] {rows, 10}, out.shape());
                    float[] got = out.toFloatArray();
                    maxDiff = Math.max(maxDiff, maxAbsDiff(ref, got));
                    if (batch == n) {
                        for (int r = 0; r < rows; r++) {
                            int a = argmax(got, r * 10, 10);
                            agree += a == argmax(ref, r * 10, 10) ? 1 : 0;
                            correct += a == labels[start + r] ? 1 : 0;
                        }
                    }
                    if (batch == 1 && start >= 64) {
                        break; // single rows: the first 64 are enough
                    }
                }
            }
            System.out.printf("digits-mlp: max |Δ| logits = %.3g over %d rows; argmax agrees on %d/%d;"
                    + " Hedge accuracy %d/%d%n", maxDiff, n, agree, n, correct, n);
            assertTrue(maxDiff <= TOLERANCE, "max |Δ| " + maxDiff);
            assertEquals(n, agree);
        }
    }

    // ------------------------------------------------------------------ silero-vad

    private static final int CHUNK = 512;
    private static final int RATE = 16000;
    private static final int CHUNKS = 30;

    /** {@code CHUNKS} chunks of a signal, one row per batch entry. */
    private interface Signal {
        float sample(int row, int t);
    }

    @Test
    void sileroVadMatchesOnnxRuntimeOverStreams() throws Exception {
        Path onnx = shared().resolve("silero-vad").resolve("silero_vad_v5.onnx");
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        ModelDef def = OnnxImporter.importFile(onnx);
        Random noiseRnd = new Random(1234);
        float[][] noise = new float[2][CHUNK * CHUNKS];
        for (float[] row : noise) {
            for (int i = 0; i < row.length; i++) {
                row[i] = (float) (0.1 * noiseRnd.nextGaussian());
            }
        }
        Map<String, Signal> signals = new LinkedHashMap<>();
        signals.put("zeros", (row, t) -> 0f);
        signals.put("noise", (row, t) -> noise[row][t]);
        signals.put("speech-like", OnnxRuntimeDiffTest::speechLike);
        double worst = 0;
        try (OrtSession ort = env.createSession(onnx.toString(), new OrtSession.SessionOptions());
                Model model = Model.of(def); Session hedge = model.newSession()) {
            for (Map.Entry<String, Signal> e : signals.entrySet()) {
                worst = Math.max(worst, stream(env, ort, hedge, e.getKey(), e.getValue(), 1));
            }
            // two different streams in one batch
            worst = Math.max(worst, stream(env, ort, hedge, "noise+speech batch",
                    (row, t) -> row == 0 ? noise[1][t] : speechLike(0, t), 2));
        }
        assertTrue(worst <= TOLERANCE, "max |Δ| " + worst);
    }

    /** Harmonics of a gliding 110–190 Hz fundamental, amplitude-modulated at a syllable rate, plus a little hiss. */
    private static float speechLike(int row, int t) {
        double s = (double) t / RATE;
        // phase of f0(s) = 150 + 40 sin(2π·0.7·s) Hz, integrated
        double phase = 2 * Math.PI * (150 * s - 40 / (2 * Math.PI * 0.7) * Math.cos(2 * Math.PI * 0.7 * s));
        double v = 0;
        for (int h = 1; h <= 8; h++) {
            v += Math.sin(h * phase) / h;
        }
        double envelope = Math.max(0, Math.sin(2 * Math.PI * 3.5 * s)) * 0.5;
        double hiss = 0.01 * Math.sin(t * 12.9898 + row) * Math.sin(t * 78.233);
        return (float) (envelope * v * 0.3 + hiss);
    }

    /** Runs one stream through both engines, each carrying its own state; returns the largest difference. */
    private static double stream(OrtEnvironment env, OrtSession ort, Session hedge, String name, Signal signal,
            int batch) throws OrtException {
        float[] stateOrt = new float[2 * batch * 128];
        Tensor stateHedge = Tensor.allocate(DType.FLOAT32, 2, batch, 128);
        Tensor sr = Tensor.scalar((long) RATE).reshape();
        double maxOut = 0;
        double maxState = 0;
        float[] maxProb = new float[batch];
        for (int c = 0; c < CHUNKS; c++) {
            float[] in = new float[batch * CHUNK];
            for (int b = 0; b < batch; b++) {
                for (int i = 0; i < CHUNK; i++) {
                    in[b * CHUNK + i] = signal.sample(b, c * CHUNK + i);
                }
            }
            Map<String, OnnxTensor> ortIn = new LinkedHashMap<>();
            ortIn.put("input", floats(in, batch, CHUNK));
            ortIn.put("state", floats(stateOrt, 2, batch, 128));
            ortIn.put("sr", OnnxTensor.createTensor(env, LongBuffer.wrap(new long[] {RATE}), new long[0]));
            float[] refOut;
            float[] refState;
            try (OrtSession.Result r = ort.run(ortIn)) {
                refOut = copy(((OnnxTensor) r.get("output").orElseThrow()).getFloatBuffer());
                refState = copy(((OnnxTensor) r.get("stateN").orElseThrow()).getFloatBuffer());
            } finally {
                ortIn.values().forEach(OnnxTensor::close);
            }
            Map<String, Tensor> res = hedge.run(Map.of("input", Tensor.of(in, batch, CHUNK), "state", stateHedge,
                    "sr", sr));
            Tensor out = res.get("output");
            assertArrayEquals(new int[] {batch, 1}, out.shape(), name + " output shape");
            assertArrayEquals(new int[] {2, batch, 128}, res.get("stateN").shape(), name + " stateN shape");
            maxOut = Math.max(maxOut, maxAbsDiff(refOut, out.toFloatArray()));
            maxState = Math.max(maxState, maxAbsDiff(refState, res.get("stateN").toFloatArray()));
            for (int b = 0; b < batch; b++) {
                maxProb[b] = Math.max(maxProb[b], out.getFloat(b));
            }
            // session outputs are overwritten by the next run: keep a copy
            stateHedge = res.get("stateN").copy();
            stateOrt = refState;
        }
        System.out.printf("silero-vad %-20s batch %d, %d chunks: max |Δ| output = %.3g, stateN = %.3g"
                + " (max speech probability per row %s)%n", name, batch, CHUNKS, maxOut, maxState,
                java.util.Arrays.toString(maxProb));
        return Math.max(maxOut, maxState);
    }

    // ------------------------------------------------------------------ helpers

    private static float[] runOrt(OrtEnvironment env, OrtSession s, Map<String, OnnxTensor> in, String output)
            throws OrtException {
        try (OrtSession.Result r = s.run(in)) {
            return copy(((OnnxTensor) r.get(output).orElseThrow()).getFloatBuffer());
        } finally {
            in.values().forEach(OnnxTensor::close);
        }
    }

    private static OnnxTensor floats(float[] v, long... shape) throws OrtException {
        return OnnxTensor.createTensor(OrtEnvironment.getEnvironment(), FloatBuffer.wrap(v), shape);
    }

    private static float[] copy(FloatBuffer b) {
        float[] a = new float[b.remaining()];
        b.get(a);
        return a;
    }

    private static double maxAbsDiff(float[] a, float[] b) {
        assertEquals(a.length, b.length, "element count");
        double m = 0;
        for (int i = 0; i < a.length; i++) {
            double d = Math.abs((double) a[i] - b[i]);
            if (Double.isNaN(d)) {
                return Double.POSITIVE_INFINITY;
            }
            m = Math.max(m, d);
        }
        return m;
    }

    private static int argmax(float[] v, int off, int n) {
        int best = 0;
        for (int i = 1; i < n; i++) {
            if (v[off + i] > v[off + best]) {
                best = i;
            }
        }
        return best;
    }
}
