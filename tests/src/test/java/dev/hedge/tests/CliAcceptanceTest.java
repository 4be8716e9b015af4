package dev.hedge.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnx.proto.OnnxMl;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import dev.hedge.cli.HedgeCli;
import dev.hedge.io.Npy;
import dev.hedge.runtime.Tensor;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * The Foundation acceptance checks through the {@code hedge} command itself: {@code convert} + {@code run} on
 * silero-vad v5 reproduce ONNX Runtime within 1e-4 (state carried across chunks through the .npy files), and a
 * model with an op outside the vocabulary fails with exit code 2 naming the node and the op.
 */
class CliAcceptanceTest {

    @TempDir
    Path tmp;

    record Result(int exit, String out, String err) {
    }

    static Result hedge(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cl = HedgeCli.newCommandLine();
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        int code = cl.execute(args);
        return new Result(code, out.toString(), err.toString());
    }

    @Test
    void sileroConvertAndRunMatchOnnxRuntime() throws Exception {
        Path onnx = Path.of(System.getProperty("hedge.shared", "../shared"), "models", "silero-vad",
                "silero_vad_v5.onnx");
        Assumptions.assumeTrue(Files.isRegularFile(onnx), onnx + " not found (set -Dhedge.shared); skipped");
        Path model = tmp.resolve("silero.hedge");
        Result c = hedge("convert", onnx.toString(), "-o", model.toString());
        assertEquals(0, c.exit(), c.err());

        OrtEnvironment env = OrtEnvironment.getEnvironment();
        float[] stateOrt = new float[2 * 128];
        Path state = tmp.resolve("state.npy");
        Npy.write(Tensor.allocate(dev.hedge.runtime.DType.FLOAT32, 2, 1, 128), state);
        Path sr = tmp.resolve("sr.npy");
        Npy.write(Tensor.scalar(16000L).reshape(), sr);
        double maxOut = 0;
        double maxState = 0;
        float maxProb = 0;
        try (OrtSession ort = env.createSession(onnx.toString(), new OrtSession.SessionOptions())) {
            for (int chunk = 0; chunk < 12; chunk++) {
                float[] x = new float[512];
                for (int t = 0; t < 512; t++) {
                    x[t] = speechLike(chunk * 512 + t);
                }
                Path in = tmp.resolve("input.npy");
                Npy.write(Tensor.of(x, 1, 512), in);
                Path out = tmp.resolve("out" + chunk);
                Result r = hedge("run", model.toString(), "--input", "input=" + in, "--input", "state=" + state,
                        "--input", "sr=" + sr, "--output-dir", out.toString());
                assertEquals(0, r.exit(), r.err());
                float[] prob = Npy.read(out.resolve("output.npy")).toFloatArray();
                float[] stateN = Npy.read(out.resolve("stateN.npy")).toFloatArray();

                try (OnnxTensor xi = OnnxTensor.createTensor(env, FloatBuffer.wrap(x), new long[] {1, 512});
                        OnnxTensor si = OnnxTensor.createTensor(env, FloatBuffer.wrap(stateOrt), new long[] {2, 1, 128});
                        OnnxTensor ri = OnnxTensor.createTensor(env, LongBuffer.wrap(new long[] {16000}), new long[0]);
                        OrtSession.Result res = ort.run(Map.of("input", xi, "state", si, "sr", ri))) {
                    float[] refProb = ((OnnxTensor) res.get("output").get()).getFloatBuffer().array();
                    FloatBuffer refState = ((OnnxTensor) res.get("stateN").get()).getFloatBuffer();
                    stateOrt = new float[refState.remaining()];
                    refState.get(stateOrt);
                    for (int i = 0; i < prob.length; i++) {
                        maxOut = Math.max(maxOut, Math.abs(prob[i] - refProb[i]));
                        maxProb = Math.max(maxProb, refProb[i]);
                    }
                    for (int i = 0; i < stateN.length; i++) {
                        maxState = Math.max(maxState, Math.abs(stateN[i] - stateOrt[i]));
                    }
                }
                Files.copy(out.resolve("stateN.npy"), state, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            }
        }
        System.out.printf("silero-vad via hedge convert + hedge run, 12 chunks: max |output - ORT| = %.3g,"
                + " max |stateN - ORT| = %.3g (max speech probability %.3f)%n", maxOut, maxState, maxProb);
        assertTrue(maxOut <= 1e-4 && maxState <= 1e-4, "difference " + maxOut + " / " + maxState);
        assertTrue(maxProb > 0.5, "the speech-like signal should be detected as speech");
    }

    private static float speechLike(int t) {
        double s = t / 16000.0;
        double phase = 2 * Math.PI * (150 * s - 40 / (2 * Math.PI * 0.7) * Math.cos(2 * Math.PI * 0.7 * s));
        double v = 0;
        for (int h = 1; h <= 8; h++) {
            v += Math.sin(h * phase) / h;
        }
        return (float) (Math.max(0, Math.sin(2 * Math.PI * 3.5 * s)) * 0.15 * v);
    }

    @Test
    void anOpOutsideTheVocabularyExitsWithCode2NamingNodeAndOp() throws Exception {
        OnnxMl.TypeProto f32 = OnnxMl.TypeProto.newBuilder().setTensorType(OnnxMl.TypeProto.Tensor.newBuilder()
                .setElemType(1).setShape(OnnxMl.TensorShapeProto.newBuilder()
                        .addDim(OnnxMl.TensorShapeProto.Dimension.newBuilder().setDimValue(4)))).build();
        OnnxMl.ModelProto m = OnnxMl.ModelProto.newBuilder().setIrVersion(8)
                .addOpsetImport(OnnxMl.OperatorSetIdProto.newBuilder().setDomain("").setVersion(17))
                .setGraph(OnnxMl.GraphProto.newBuilder().setName("g")
                        .addInput(OnnxMl.ValueInfoProto.newBuilder().setName("x").setType(f32))
                        .addOutput(OnnxMl.ValueInfoProto.newBuilder().setName("y").setType(f32))
                        .addNode(OnnxMl.NodeProto.newBuilder().setName("relu0").setOpType("Relu")
                                .addInput("x").addOutput("r"))
                        .addNode(OnnxMl.NodeProto.newBuilder().setName("det").setOpType("Det")
                                .addInput("r").addOutput("y")))
                .build();
        Path onnx = tmp.resolve("det.onnx");
        Files.write(onnx, m.toByteArray());
        Result r = hedge("convert", onnx.toString(), "-o", tmp.resolve("det.hedge").toString());
        System.out.println("hedge convert det.onnx -> exit " + r.exit() + ": " + r.err().trim());
        assertEquals(2, r.exit(), r.err());
        assertTrue(r.err().contains("'det'") && r.err().contains("Det"), r.err());
        assertTrue(!Files.exists(tmp.resolve("det.hedge")), "no output on failure");
    }
}
