package dev.hedge.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnx.proto.OnnxMl;
import dev.hedge.converter.Converter;
import dev.hedge.runtime.Model;
import dev.hedge.runtime.Session;
import dev.hedge.runtime.Tensor;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** ONNX files in the repository are converted on load and answer what the converted model computes. */
@ExtendWith(VertxExtension.class)
class OnnxModelTest {

    @TempDir
    Path dir;

    private static OnnxMl.ValueInfoProto value(String name, Object... dims) {
        OnnxMl.TensorShapeProto.Builder shape = OnnxMl.TensorShapeProto.newBuilder();
        for (Object d : dims) {
            shape.addDim(d instanceof String s ? OnnxMl.TensorShapeProto.Dimension.newBuilder().setDimParam(s)
                    : OnnxMl.TensorShapeProto.Dimension.newBuilder().setDimValue((Integer) d));
        }
        return OnnxMl.ValueInfoProto.newBuilder().setName(name).setType(OnnxMl.TypeProto.newBuilder()
                .setTensorType(OnnxMl.TypeProto.Tensor.newBuilder().setElemType(1).setShape(shape))).build();
    }

    /** The affine test model as an ONNX opset-13 file: y = Relu(x * w + b), s = ReduceSum(x, axis 1). */
    static Path affineOnnx(Path file, float last) throws Exception {
        float[] w = TestModels.AFFINE_W.clone();
        w[3] = last;
        OnnxMl.TensorProto.Builder wt = OnnxMl.TensorProto.newBuilder().setName("w").setDataType(1).addDims(4);
        OnnxMl.TensorProto.Builder bt = OnnxMl.TensorProto.newBuilder().setName("b").setDataType(1).addDims(4);
        for (int i = 0; i < 4; i++) {
            wt.addFloatData(w[i]);
            bt.addFloatData(TestModels.AFFINE_B[i]);
        }
        OnnxMl.GraphProto g = OnnxMl.GraphProto.newBuilder().setName("affine")
                .addInput(value("x", "N", 4)).addOutput(value("y", "N", 4)).addOutput(value("s", "N", 1))
                .addInitializer(wt).addInitializer(bt)
                .addInitializer(OnnxMl.TensorProto.newBuilder().setName("axes").setDataType(7).addDims(1)
                        .addInt64Data(1))
                .addNode(OnnxMl.NodeProto.newBuilder().setOpType("Mul").addInput("x").addInput("w").addOutput("xw"))
                .addNode(OnnxMl.NodeProto.newBuilder().setOpType("Add").addInput("xw").addInput("b").addOutput("z"))
                .addNode(OnnxMl.NodeProto.newBuilder().setOpType("Relu").addInput("z").addOutput("y"))
                .addNode(OnnxMl.NodeProto.newBuilder().setOpType("ReduceSum").addInput("x").addInput("axes")
                        .addOutput("s"))
                .build();
        OnnxMl.ModelProto m = OnnxMl.ModelProto.newBuilder().setIrVersion(7).setProducerName("server tests")
                .addOpsetImport(OnnxMl.OperatorSetIdProto.newBuilder().setDomain("").setVersion(13)).setGraph(g)
                .build();
        Files.createDirectories(file.getParent());
        Files.write(file, m.toByteArray());
        return file;
    }

    @Test
    void onnxIsConvertedOnLoadAndAnswersLikeTheConvertedModel(Vertx vertx) throws Exception {
        Path onnx = affineOnnx(dir.resolve("repo/affine/1/model.onnx"), 2f);
        float[] x = {0.5f, -1.25f, 3f, 2f, 1f, 1f, 1f, 1f};
        float[] expected;
        try (Model m = Model.of(Converter.convert(onnx, Converter.Options.defaults()).model());
                Session s = m.newSession()) {
            expected = s.run(Map.of("x", Tensor.of(x, 2, 4))).get("y").toFloatArray();
        }
        try (HedgeServer s = HedgeServer.start(ServerOptions.defaults().withModels(List.of(dir.resolve("repo")))
                .withBind("127.0.0.1", 0).withPollMs(0))) {
            Http http = new Http(vertx, s.port());
            JsonObject meta = http.get("/v2/models/affine").json();
            assertEquals("onnx", meta.getJsonObject("hedge").getString("format"));
            assertFalse(meta.getJsonObject("hedge").getJsonArray("conversion_passes").isEmpty());
            JsonArray data = new JsonArray();
            for (float v : x) {
                data.add(v);
            }
            JsonObject r = http.post("/v2/models/affine/infer", new JsonObject().put("inputs", new JsonArray().add(
                    new JsonObject().put("name", "x").put("shape", new JsonArray().add(2).add(4))
                            .put("datatype", "FP32").put("data", data)))).json();
            JsonArray y = r.getJsonArray("outputs").getJsonObject(0).getJsonArray("data");
            for (int i = 0; i < expected.length; i++) {
                assertEquals(Float.floatToIntBits(expected[i]), Float.floatToIntBits(y.getNumber(i).floatValue()),
                        "element " + i);
                assertEquals(TestModels.affineY(java.util.Arrays.copyOfRange(x, i / 4 * 4, i / 4 * 4 + 4), 2f)[i % 4],
                        y.getNumber(i).floatValue(), "reference, element " + i);
            }
            http.close();
        }
    }

    @Test
    void anOnnxFileTheConverterRejectsIsReportedNotServed(Vertx vertx) throws Exception {
        Files.createDirectories(dir.resolve("repo/broken/1"));
        Files.write(dir.resolve("repo/broken/1/model.onnx"), new byte[] {1, 2, 3, 4, 5});
        affineOnnx(dir.resolve("repo/affine/1/model.onnx"), 1f);
        try (HedgeServer s = HedgeServer.start(ServerOptions.defaults().withModels(List.of(dir.resolve("repo")))
                .withBind("127.0.0.1", 0).withPollMs(0))) {
            Http http = new Http(vertx, s.port());
            JsonArray index = http.post("/v2/repository/index", new JsonObject()).jsonArray();
            JsonObject broken = index.stream().map(o -> (JsonObject) o)
                    .filter(o -> o.getString("name").equals("broken")).findFirst().orElseThrow();
            assertEquals("UNAVAILABLE", broken.getString("state"));
            assertFalse(broken.getString("reason").isBlank());
            Http.Resp r = http.post("/v2/models/broken/infer", "{\"inputs\":[]}");
            assertEquals(503, r.status());
            assertTrue(r.error().contains("no ready version"), r.error());
            // Strict readiness: one model that cannot load keeps the server unready.
            assertEquals(400, http.get("/v2/health/ready").status());
            assertEquals(200, http.get("/v2/models/affine/ready").status());
            http.close();
        }
    }

    /** The real digits MLP, once the runtime has its kernels: the server's numbers are the in-process ones. */
    @Test
    void digitsMlpWhenSupported(Vertx vertx) throws Exception {
        Path onnx = Path.of(System.getProperty("hedge.shared", "../../shared"), "models/digits-mlp/model.onnx");
        Assumptions.assumeTrue(Files.isRegularFile(onnx), "real model " + onnx
                + " not available (set -Dhedge.shared); skipped");
        Converter.Result conv = Converter.convert(onnx, Converter.Options.defaults());
        float[] x = new float[64];
        for (int i = 0; i < 64; i++) {
            x[i] = (i * 7 % 17) / 16f;
        }
        float[] expected;
        try (Model m = Model.of(conv.model()); Session s = m.newSession()) {
            expected = s.run(Map.of("pixels", Tensor.of(x, 1, 64))).get("logits").toFloatArray();
        } catch (dev.hedge.runtime.UnsupportedModelException e) {
            Assumptions.abort("the runtime cannot run digits-mlp yet: " + e.getMessage());
            return;
        }
        try (HedgeServer s = HedgeServer.start(ServerOptions.defaults().withModels(List.of(onnx))
                .withBind("127.0.0.1", 0).withPollMs(0))) {
            Http http = new Http(vertx, s.port());
            JsonArray data = new JsonArray();
            for (float v : x) {
                data.add(v);
            }
            JsonObject r = http.post("/v2/models/digits-mlp/infer", new JsonObject().put("inputs", new JsonArray()
                    .add(new JsonObject().put("name", "pixels").put("shape", new JsonArray().add(1).add(64))
                            .put("datatype", "FP32").put("data", data)))).json();
            JsonArray y = r.getJsonArray("outputs").getJsonObject(0).getJsonArray("data");
            for (int i = 0; i < expected.length; i++) {
                assertEquals(Float.floatToIntBits(expected[i]), Float.floatToIntBits(y.getNumber(i).floatValue()));
            }
            http.close();
        }
    }
}
