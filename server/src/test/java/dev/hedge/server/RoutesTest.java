package dev.hedge.server;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.hedge.runtime.Model;
import dev.hedge.runtime.Session;
import dev.hedge.runtime.Tensor;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** Every route of the Open Inference Protocol and its extensions, and their error cases, on one server. */
@ExtendWith(VertxExtension.class)
class RoutesTest {

    @TempDir
    static Path repo;
    static HedgeServer server;
    static Http http;

    @BeforeAll
    static void start(Vertx vertx) throws Exception {
        TestModels.write(TestModels.affine(1f), repo.resolve("affine/1/model.hedge"));
        TestModels.write(TestModels.affine(3f), repo.resolve("affine/2/model.hedge"));
        TestModels.write(TestModels.protocolExample(), repo.resolve("mymodel/1/model.hedge"));
        server = HedgeServer.start(ServerOptions.defaults().withModels(List.of(repo)).withBind("127.0.0.1", 0)
                .withWorkers(2, 16).withMaxBodyBytes(64 * 1024).withPollMs(0));
        http = new Http(vertx, server.port());
    }

    @AfterAll
    static void stop() {
        http.close();
        server.close();
    }

    private static JsonObject affineRequest(String id, float[] x, int rows) {
        JsonObject in = new JsonObject().put("name", "x").put("shape", new JsonArray().add(rows).add(4))
                .put("datatype", "FP32").put("data", floats(x));
        JsonObject r = new JsonObject().put("inputs", new JsonArray().add(in));
        return id == null ? r : r.put("id", id);
    }

    private static JsonArray floats(float[] x) {
        JsonArray a = new JsonArray();
        for (float v : x) {
            a.add(v);
        }
        return a;
    }

    private static float[] data(JsonObject output) {
        JsonArray a = output.getJsonArray("data");
        float[] f = new float[a.size()];
        for (int i = 0; i < f.length; i++) {
            f[i] = a.getNumber(i).floatValue();
        }
        return f;
    }

    private static JsonObject output(JsonObject resp, String name) {
        for (Object o : resp.getJsonArray("outputs")) {
            JsonObject j = (JsonObject) o;
            if (j.getString("name").equals(name)) {
                return j;
            }
        }
        return null;
    }

    // ------------------------------------------------------------------ health and metadata

    @Test
    void healthRoutes() {
        Http.Resp live = http.get("/v2/health/live");
        assertEquals(200, live.status());
        assertEquals(0, live.body().length());
        assertEquals(200, http.get("/v2/health/ready").status());
    }

    @Test
    void serverMetadata() {
        JsonObject m = http.get("/v2").json();
        assertEquals("hedge", m.getString("name"));
        assertFalse(m.getString("version").isBlank());
        assertTrue(m.getJsonArray("extensions").contains("binary_tensor_data"));
        assertTrue(m.getJsonArray("extensions").contains("model_repository"));
    }

    @Test
    void modelMetadata() {
        Http.Resp r = http.get("/v2/models/affine");
        assertEquals(200, r.status());
        JsonObject m = r.json();
        assertEquals("affine", m.getString("name"));
        assertEquals(new JsonArray().add("1").add("2"), m.getJsonArray("versions"));
        assertEquals("hedge", m.getString("platform"));
        assertEquals(new JsonObject().put("name", "x").put("datatype", "FP32").put("shape", new JsonArray().add(-1)
                .add(4)), m.getJsonArray("inputs").getJsonObject(0));
        assertEquals(List.of("y", "s"), m.getJsonArray("outputs").stream()
                .map(o -> ((JsonObject) o).getString("name")).toList());
        JsonObject h = m.getJsonObject("hedge");
        assertEquals("2", h.getString("version"));
        assertEquals(4 * 4 + 4 * 4 + 8, h.getLong("weight_bytes"));
        assertTrue(h.getLong("file_bytes") > 0);
        assertTrue(h.getLong("arena_bytes") >= 0);
        assertTrue(h.getBoolean("batchable"));

        JsonObject v1 = http.get("/v2/models/affine/versions/1").json();
        assertEquals("1", v1.getJsonObject("hedge").getString("version"));
        JsonObject ex = http.get("/v2/models/mymodel").json();
        assertEquals(new JsonArray().add(2).add(2), ex.getJsonArray("inputs").getJsonObject(0).getJsonArray("shape"));
        assertEquals("UINT32", ex.getJsonArray("inputs").getJsonObject(0).getString("datatype"));
        assertEquals("BOOL", ex.getJsonArray("inputs").getJsonObject(1).getString("datatype"));
        assertFalse(ex.getJsonObject("hedge").getBoolean("batchable"));
    }

    @Test
    void modelReadiness() {
        assertEquals(200, http.get("/v2/models/affine/ready").status());
        assertEquals(200, http.get("/v2/models/affine/versions/1/ready").status());
        assertEquals(400, http.get("/v2/models/affine/versions/7/ready").status());
        Http.Resp unknown = http.get("/v2/models/nosuch/ready");
        assertEquals(404, unknown.status());
        assertTrue(unknown.error().contains("nosuch"));
    }

    @Test
    void metadataErrors() {
        Http.Resp r = http.get("/v2/models/nosuch");
        assertEquals(404, r.status());
        assertEquals("application/json", r.headers().get("Content-Type"));
        assertTrue(r.error().contains("'nosuch'"), r.error());
        assertEquals(404, http.get("/v2/models/affine/versions/9").status());
        Http.Resp bad = http.get("/v2/models/affine/versions/one");
        assertEquals(400, bad.status());
        assertTrue(bad.error().contains("version"), bad.error());
    }

    // ------------------------------------------------------------------ inference

    @Test
    void inferJsonOnLatestAndExplicitVersion() {
        float[] x = {1.5f, -2f, 3.25f, 0.1f, -1f, 4f, 0f, 2f};
        Http.Resp r = http.post("/v2/models/affine/infer", affineRequest("req-1", x, 2));
        assertEquals(200, r.status(), r.text());
        assertEquals("application/json", r.headers().get("Content-Type"));
        JsonObject j = r.json();
        assertEquals("affine", j.getString("model_name"));
        assertEquals("2", j.getString("model_version"));
        assertEquals("req-1", j.getString("id"));
        JsonObject y = output(j, "y");
        assertEquals("FP32", y.getString("datatype"));
        assertEquals(new JsonArray().add(2).add(4), y.getJsonArray("shape"));
        float[] expected = new float[8];
        for (int row = 0; row < 2; row++) {
            System.arraycopy(TestModels.affineY(java.util.Arrays.copyOfRange(x, row * 4, row * 4 + 4), 3f), 0,
                    expected, row * 4, 4);
        }
        assertArrayEquals(expected, data(y));
        assertArrayEquals(new float[] {1.5f - 2f + 3.25f + 0.1f, -1f + 4f + 0f + 2f}, data(output(j, "s")), 1e-6f);

        JsonObject v1 = http.post("/v2/models/affine/versions/1/infer", affineRequest(null, x, 2)).json();
        assertEquals("1", v1.getString("model_version"));
        assertNull(v1.getString("id"));
        assertEquals(TestModels.affineY(new float[] {1.5f, -2f, 3.25f, 0.1f}, 1f)[3], data(output(v1, "y"))[3]);
    }

    @Test
    void emptyBatchIsAnswered() {
        Http.Resp r = http.post("/v2/models/affine/infer", affineRequest(null, new float[0], 0));
        assertEquals(200, r.status(), r.text());
        assertEquals(new JsonArray().add(0).add(4), output(r.json(), "y").getJsonArray("shape"));
        assertEquals(new JsonArray(), output(r.json(), "y").getJsonArray("data"));
    }

    /** The numbers are those of running the model in-process (bit for bit, through the JSON text). */
    @Test
    void inferMatchesInProcessRun() throws Exception {
        float[] x = new float[4 * 5];
        java.util.Random rnd = new java.util.Random(3);
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) rnd.nextGaussian() * 3;
        }
        float[] expected;
        try (Model m = Model.load(repo.resolve("affine/2/model.hedge")); Session s = m.newSession()) {
            expected = s.run(Map.of("x", Tensor.of(x, 5, 4))).get("y").toFloatArray();
        }
        JsonObject j = http.post("/v2/models/affine/infer", affineRequest(null, x, 5)).json();
        float[] got = data(output(j, "y"));
        for (int i = 0; i < got.length; i++) {
            assertEquals(Float.floatToIntBits(expected[i]), Float.floatToIntBits(got[i]), "element " + i);
        }
    }

    /** The request of the protocol's "Inference Request Examples", with input1's data filled to its shape. */
    @Test
    void protocolExampleRequest() {
        String body = """
                {
                  "id" : "42",
                  "inputs" : [
                    {
                      "name" : "input0",
                      "shape" : [ 2, 2 ],
                      "datatype" : "UINT32",
                      "data" : [ 1, 2, 3, 4 ]
                    },
                    {
                      "name" : "input1",
                      "shape" : [ 3 ],
                      "datatype" : "BOOL",
                      "data" : [ true, false, true ]
                    }
                  ],
                  "outputs" : [
                    {
                      "name" : "output0"
                    }
                  ]
                }""";
        Http.Resp r = http.post("/v2/models/mymodel/infer", body);
        assertEquals(200, r.status(), r.text());
        JsonObject j = r.json();
        assertEquals("42", j.getString("id"));
        JsonObject out = j.getJsonArray("outputs").getJsonObject(0);
        assertEquals("output0", out.getString("name"));
        assertEquals(new JsonArray().add(3).add(2), out.getJsonArray("shape"));
        assertEquals("FP32", out.getString("datatype"));
        assertArrayEquals(new float[] {5, 7, 4, 6, 5, 7}, data(out));

        // As published, input1 has shape [3] but one value: the count is checked, and the error names the field.
        Http.Resp published = http.post("/v2/models/mymodel/infer", body.replace("[ true, false, true ]", "[ true ]"));
        assertEquals(400, published.status());
        assertTrue(published.error().contains("inputs[1] ('input1').data"), published.error());
        assertTrue(published.error().contains("3 elements, got 1"), published.error());
    }

    @Test
    void nestedDataIsAccepted() {
        String body = "{\"inputs\":[{\"name\":\"input0\",\"shape\":[2,2],\"datatype\":\"UINT32\","
                + "\"data\":[[1,2],[3,4]]},"
                + "{\"name\":\"input1\",\"shape\":[3],\"datatype\":\"BOOL\",\"data\":[true,false,true]}]}";
        Http.Resp r = http.post("/v2/models/mymodel/infer", body);
        assertEquals(200, r.status(), r.text());
        assertArrayEquals(new float[] {5, 7, 4, 6, 5, 7}, data(r.json().getJsonArray("outputs").getJsonObject(0)));
        Http.Resp ragged = http.post("/v2/models/mymodel/infer", body.replace("[[1,2],[3,4]]", "[[1,2,3],[4]]"));
        assertEquals(400, ragged.status());
        assertTrue(ragged.error().contains("inputs[0] ('input0').data"), ragged.error());
    }

    /** The binary tensor data extension's example: binary inputs, binary output. */
    @Test
    void binaryExtensionExample() {
        String json = """
                {
                  "model_name" : "mymodel",
                  "inputs" : [
                    {
                      "name" : "input0",
                      "shape" : [ 2, 2 ],
                      "datatype" : "UINT32",
                      "parameters" : {
                        "binary_data_size" : 16
                      }
                    },
                    {
                      "name" : "input1",
                      "shape" : [ 3 ],
                      "datatype" : "BOOL",
                      "parameters" : {
                        "binary_data_size" : 3
                      }
                    }
                  ],
                  "outputs" : [
                    {
                      "name" : "output0",
                      "parameters" : {
                        "binary_data" : true
                      }
                    }
                  ]
                }""";
        byte[] head = json.getBytes(StandardCharsets.UTF_8);
        ByteBuffer bin = ByteBuffer.allocate(19).order(ByteOrder.LITTLE_ENDIAN);
        bin.putInt(1).putInt(2).putInt(3).putInt(4).put((byte) 1).put((byte) 0).put((byte) 1);
        Buffer body = Buffer.buffer(head).appendBytes(bin.array());
        Http.Resp r = http.send(HttpMethod.POST, "/v2/models/mymodel/infer", Map.of("Content-Type",
                "application/octet-stream", "Inference-Header-Content-Length", Integer.toString(head.length)), body);
        assertEquals(200, r.status(), r.text());
        assertEquals("application/octet-stream", r.headers().get("Content-Type"));
        int jsonLen = Integer.parseInt(r.headers().get("Inference-Header-Content-Length"));
        JsonObject j = r.body().getBuffer(0, jsonLen).toJsonObject();
        JsonObject out = j.getJsonArray("outputs").getJsonObject(0);
        assertEquals(24, out.getJsonObject("parameters").getInteger("binary_data_size"));
        assertNull(out.getValue("data"));
        assertEquals(jsonLen + 24, r.body().length());
        ByteBuffer values = ByteBuffer.wrap(r.body().getBytes(jsonLen, jsonLen + 24)).order(ByteOrder.LITTLE_ENDIAN);
        float[] f = new float[6];
        for (int i = 0; i < 6; i++) {
            f[i] = values.getFloat(i * 4);
        }
        assertArrayEquals(new float[] {5, 7, 4, 6, 5, 7}, f);
    }

    @Test
    void binaryDataOutputParameterAndOutputSelection() {
        JsonObject req = affineRequest(null, new float[] {1, 2, 3, 4}, 1)
                .put("parameters", new JsonObject().put("binary_data_output", true))
                .put("outputs", new JsonArray().add(new JsonObject().put("name", "s"))
                        .add(new JsonObject().put("name", "y").put("parameters",
                                new JsonObject().put("binary_data", false))));
        Http.Resp r = http.post("/v2/models/affine/infer", req);
        assertEquals(200, r.status(), r.text());
        int jsonLen = Integer.parseInt(r.headers().get("Inference-Header-Content-Length"));
        JsonObject j = r.body().getBuffer(0, jsonLen).toJsonObject();
        JsonArray outs = j.getJsonArray("outputs");
        assertEquals(2, outs.size());
        assertEquals("s", outs.getJsonObject(0).getString("name"));
        assertEquals(4, outs.getJsonObject(0).getJsonObject("parameters").getInteger("binary_data_size"));
        assertEquals(10f, ByteBuffer.wrap(r.body().getBytes(jsonLen, jsonLen + 4)).order(ByteOrder.LITTLE_ENDIAN)
                .getFloat(0), 1e-6f);
        assertArrayEquals(TestModels.affineY(new float[] {1, 2, 3, 4}, 3f), data(outs.getJsonObject(1)));

        JsonObject only = http.post("/v2/models/affine/infer", affineRequest(null, new float[] {1, 2, 3, 4}, 1)
                .put("outputs", new JsonArray().add(new JsonObject().put("name", "s")))).json();
        assertEquals(1, only.getJsonArray("outputs").size());
    }

    // ------------------------------------------------------------------ inference errors

    private static void assertError(Http.Resp r, int status, String... fragments) {
        String text = r.text().length() > 300 ? r.text().substring(0, 300) + "..." : r.text();
        assertEquals(status, r.status(), text);
        assertEquals("application/json", r.headers().get("Content-Type"));
        String e = r.error();
        assertNotNull(e, text);
        for (String f : fragments) {
            assertTrue(e.contains(f), "'" + e + "' should mention '" + f + "'");
        }
    }

    @Test
    void unknownModelIs404() {
        assertError(http.post("/v2/models/nosuch/infer", affineRequest(null, new float[4], 1)), 404, "nosuch");
        assertError(http.post("/v2/models/affine/versions/5/infer", affineRequest(null, new float[4], 1)), 404,
                "no version 5");
    }

    @Test
    void wrongInputNameDatatypeShapeAndCount() {
        JsonObject r = affineRequest(null, new float[4], 1);
        r.getJsonArray("inputs").getJsonObject(0).put("name", "z");
        assertError(http.post("/v2/models/affine/infer", r), 400, "inputs[0].name", "'z'", "[x]");

        r = affineRequest(null, new float[4], 1);
        r.getJsonArray("inputs").getJsonObject(0).put("datatype", "INT64");
        assertError(http.post("/v2/models/affine/infer", r), 400, "inputs[0] ('x').datatype", "FP32", "INT64");

        r = affineRequest(null, new float[4], 1);
        r.getJsonArray("inputs").getJsonObject(0).put("datatype", "FP99");
        assertError(http.post("/v2/models/affine/infer", r), 400, "datatype", "FP99");

        r = affineRequest(null, new float[4], 1);
        r.getJsonArray("inputs").getJsonObject(0).put("shape", new JsonArray().add(4));
        assertError(http.post("/v2/models/affine/infer", r), 400, "inputs[0] ('x').shape", "rank 2");

        r = affineRequest(null, new float[5], 1);
        r.getJsonArray("inputs").getJsonObject(0).put("shape", new JsonArray().add(1).add(5));
        assertError(http.post("/v2/models/affine/infer", r), 400, "inputs[0] ('x').shape[1]", "[-1, 4]");

        r = affineRequest(null, new float[7], 2);
        assertError(http.post("/v2/models/affine/infer", r), 400, "inputs[0] ('x').data", "8 elements, got 7");

        r = affineRequest(null, new float[4], 1);
        r.getJsonArray("inputs").getJsonObject(0).put("shape", new JsonArray().add(-1).add(4));
        assertError(http.post("/v2/models/affine/infer", r), 400, "inputs[0].shape[0]", "non-negative");
    }

    @Test
    void missingDuplicateAndUnknownFields() {
        assertError(http.post("/v2/models/affine/infer", new JsonObject()), 400, "inputs is missing");
        assertError(http.post("/v2/models/affine/infer", new JsonObject().put("inputs", new JsonArray())), 400,
                "inputs is empty");
        JsonObject r = affineRequest(null, new float[4], 1);
        r.getJsonArray("inputs").add(r.getJsonArray("inputs").getJsonObject(0).copy());
        assertError(http.post("/v2/models/affine/infer", r), 400, "inputs[1].name", "twice");
        r = affineRequest(null, new float[4], 1);
        r.getJsonArray("inputs").getJsonObject(0).remove("data");
        assertError(http.post("/v2/models/affine/infer", r), 400, "inputs[0] ('x')", "data is missing");
        r = affineRequest(null, new float[4], 1);
        r.getJsonArray("inputs").getJsonObject(0).remove("datatype");
        assertError(http.post("/v2/models/affine/infer", r), 400, "datatype is missing");
        r = affineRequest(null, new float[4], 1).put("outputs", new JsonArray().add(new JsonObject().put("name", "q")));
        assertError(http.post("/v2/models/affine/infer", r), 400, "outputs[0].name", "'q'");
        r = affineRequest(null, new float[4], 1).put("id", 42);
        assertError(http.post("/v2/models/affine/infer", r), 400, "id must be a string");
        String missing = "{\"inputs\":[{\"name\":\"input0\",\"shape\":[2,2],\"datatype\":\"UINT32\","
                + "\"data\":[1,2,3,4]}]}";
        assertError(http.post("/v2/models/mymodel/infer", missing), 400, "needs input 'input1'");
    }

    @Test
    void valuesOfTheWrongKindOrRange() {
        String base = "{\"inputs\":[{\"name\":\"input0\",\"shape\":[2,2],\"datatype\":\"UINT32\",\"data\":DATA},"
                + "{\"name\":\"input1\",\"shape\":[3],\"datatype\":\"BOOL\",\"data\":[true,false,true]}]}";
        assertError(http.post("/v2/models/mymodel/infer", base.replace("DATA", "[1,2,3,-4]")), 400,
                "inputs[0] ('input0').data[3]", "out of range for UINT32");
        assertError(http.post("/v2/models/mymodel/infer", base.replace("DATA", "[1,2,3,4294967296]")), 400,
                "data[3]", "out of range");
        assertError(http.post("/v2/models/mymodel/infer", base.replace("DATA", "[1,2,3,4.5]")), 400,
                "data[3]", "not an integer");
        assertError(http.post("/v2/models/mymodel/infer", base.replace("DATA", "[1,2,3,\"4\"]")), 400,
                "data[3]", "string");
        assertError(http.post("/v2/models/mymodel/infer", base.replace("DATA", "[1,2,3,null]")), 400,
                "data[3]", "null");
        assertError(http.post("/v2/models/mymodel/infer", base.replace("DATA", "[1,2,3,4]")
                .replace("[true,false,true]", "[true,2,true]")), 400, "inputs[1] ('input1').data[1]", "BOOL");
        JsonObject bytes = affineRequest(null, new float[4], 1);
        bytes.getJsonArray("inputs").getJsonObject(0).put("datatype", "BYTES").put("data",
                new JsonArray().add("a").add("b").add("c").add("d"));
        assertError(http.post("/v2/models/affine/infer", bytes), 400, "inputs[0]", "string");
    }

    @Test
    void malformedBodies() {
        assertError(http.post("/v2/models/affine/infer", "{\"inputs\": [}"), 400, "malformed JSON", "line 1");
        assertError(http.post("/v2/models/affine/infer", "[1,2]"), 400, "must be a JSON object");
        assertError(http.post("/v2/models/affine/infer", ""), 400, "empty");
        assertError(http.post("/v2/models/affine/infer", "{\"inputs\":[]} {\"x\":1}"), 400, "after the JSON");
        assertError(http.post("/v2/models/affine/infer", "{\"x\":" + "[".repeat(5000)), 400, "limit");
        assertError(http.post("/v2/models/affine/infer", "{\"inputs\":[{\"name\":\"x\",\"shape\":[1,4],"
                + "\"datatype\":\"FP32\",\"data\":" + "[".repeat(40) + "1" + "]".repeat(40) + "}]}"), 400, "nested");
    }

    @Test
    void binaryFramingErrors() {
        String json = "{\"inputs\":[{\"name\":\"x\",\"shape\":[1,4],\"datatype\":\"FP32\","
                + "\"parameters\":{\"binary_data_size\":16}}]}";
        byte[] head = json.getBytes(StandardCharsets.UTF_8);
        Map<String, String> h = Map.of("Inference-Header-Content-Length", Integer.toString(head.length));
        assertError(http.send(HttpMethod.POST, "/v2/models/affine/infer", h,
                Buffer.buffer(head).appendBytes(new byte[12])), 400, "binary_data_size", "only 12 bytes");
        assertError(http.send(HttpMethod.POST, "/v2/models/affine/infer", h,
                Buffer.buffer(head).appendBytes(new byte[20])), 400, "4 bytes of binary data", "not claimed");
        assertError(http.send(HttpMethod.POST, "/v2/models/affine/infer",
                Map.of("Inference-Header-Content-Length", "abc"), Buffer.buffer(head)), 400,
                "Inference-Header-Content-Length");
        assertError(http.send(HttpMethod.POST, "/v2/models/affine/infer",
                Map.of("Inference-Header-Content-Length", "99999"), Buffer.buffer(head)), 400,
                "Inference-Header-Content-Length");
        String wrong = json.replace("16", "12").replace("[1,4]", "[1,4]");
        byte[] wh = wrong.getBytes(StandardCharsets.UTF_8);
        assertError(http.send(HttpMethod.POST, "/v2/models/affine/infer",
                Map.of("Inference-Header-Content-Length", Integer.toString(wh.length)),
                Buffer.buffer(wh).appendBytes(new byte[12])), 400, "binary_data_size", "takes 16 bytes, got 12");
    }

    @Test
    void compressedBodiesAreRefused() {
        assertError(http.send(HttpMethod.POST, "/v2/models/affine/infer", Map.of("Content-Encoding", "gzip"),
                Buffer.buffer(new byte[] {31, -117, 8, 0})), 415, "Content-Encoding 'gzip'");
    }

    @Test
    void bodyOverTheLimitIs413() {
        float[] big = new float[4 * 5000];
        Http.Resp r = http.post("/v2/models/affine/infer", affineRequest(null, big, 5000));
        assertError(r, 413, "limit of 65536 bytes");
        assertEquals(200, http.get("/v2/health/live").status());
    }

    /** Chunked, without Content-Length: the limit is enforced while reading, and the connection closed. */
    @Test
    void chunkedBodyOverTheLimitIs413() throws Exception {
        try (java.net.Socket sock = new java.net.Socket("127.0.0.1", http.port())) {
            sock.setSoTimeout(20_000);
            var out = sock.getOutputStream();
            out.write(("POST /v2/models/affine/infer HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json"
                    + "\r\nTransfer-Encoding: chunked\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            byte[] chunk = new byte[8192];
            java.util.Arrays.fill(chunk, (byte) ' ');
            try {
                for (int i = 0; i < 12; i++) {
                    out.write((Integer.toHexString(chunk.length) + "\r\n").getBytes(StandardCharsets.US_ASCII));
                    out.write(chunk);
                    out.write("\r\n".getBytes(StandardCharsets.US_ASCII));
                    out.flush();
                }
            } catch (java.io.IOException closedByServer) {
                // The server may close the connection before the client has sent everything.
            }
            String status = new java.io.BufferedReader(new java.io.InputStreamReader(sock.getInputStream(),
                    StandardCharsets.US_ASCII)).readLine();
            assertEquals("HTTP/1.1 413 Request Entity Too Large", status);
        }
        assertEquals(200, http.get("/v2/health/live").status());
    }

    @Test
    void modelNamesWithPathSeparatorsOrDotDotAreRejected() {
        assertError(http.post("/v2/models/..%2F..%2Fetc/infer", affineRequest(null, new float[4], 1)), 400,
                "path separator");
        assertError(http.post("/v2/models/a%2Fb/infer", affineRequest(null, new float[4], 1)), 400,
                "path separator");
        assertError(http.post("/v2/models/a%5Cb/infer", affineRequest(null, new float[4], 1)), 400,
                "path separator");
        assertError(http.post("/v2/repository/models/..%2Faffine/load", (JsonObject) null), 400, "path separator");
        assertError(http.get("/v2/models/a..b"), 400, "..");
        // Dot segments are resolved before routing (RFC 3986): this is the server metadata route, no model.
        assertEquals("hedge", http.get("/v2/models/%2E%2E").json().getString("name"));
    }

    @Test
    void unknownRoutesAndMethods() {
        assertError(http.get("/v2/nothing/here"), 404, "no route");
        assertError(http.send(HttpMethod.DELETE, "/v2/models/affine", Map.of(), null), 405, "DELETE");
        assertError(http.get("/v2/models/affine/infer"), 405, "GET");
    }

    // ------------------------------------------------------------------ repository extension

    @Test
    void repositoryIndexLoadUnload() {
        JsonArray index = http.post("/v2/repository/index", new JsonObject()).jsonArray();
        assertTrue(index.contains(new JsonObject().put("name", "affine").put("version", "1").put("state", "READY")
                .put("reason", "")), index.encode());
        assertTrue(index.contains(new JsonObject().put("name", "mymodel").put("version", "1").put("state", "READY")
                .put("reason", "")), index.encode());
        assertEquals(200, http.post("/v2/repository/index", (JsonObject) null).status());
        assertError(http.post("/v2/repository/index", new JsonObject().put("ready", "yes")), 400, "ready");

        try {
            assertEquals(200, http.post("/v2/repository/models/mymodel/unload", (JsonObject) null).status());
            JsonArray after = http.post("/v2/repository/index", new JsonObject()).jsonArray();
            assertTrue(after.contains(new JsonObject().put("name", "mymodel").put("state", "UNAVAILABLE")
                    .put("reason", "unloaded")), after.encode());
            JsonArray readyOnly = http.post("/v2/repository/index", new JsonObject().put("ready", true)).jsonArray();
            assertTrue(readyOnly.stream().noneMatch(o -> ((JsonObject) o).getString("name").equals("mymodel")));
            assertEquals(400, http.get("/v2/models/mymodel/ready").status());
            assertError(http.post("/v2/models/mymodel/infer", "{\"inputs\":[]}"), 503, "unloaded");
            // An unload asked for is not a failure: the server stays ready.
            assertEquals(200, http.get("/v2/health/ready").status());
        } finally {
            assertEquals(200, http.post("/v2/repository/models/mymodel/load", new JsonObject()).status());
        }
        assertEquals(200, http.get("/v2/models/mymodel/ready").status());
        assertEquals(200, http.get("/v2/health/ready").status());
        assertError(http.post("/v2/repository/models/nosuch/load", (JsonObject) null), 404, "nosuch");
        assertError(http.post("/v2/repository/models/nosuch/unload", (JsonObject) null), 404, "nosuch");
        assertError(http.post("/v2/repository/models/mymodel/load", "{bad"), 400, "malformed JSON");
    }

    // ------------------------------------------------------------------ metrics and page

    @Test
    void metricsShowPerModelHistograms() {
        for (int i = 0; i < 3; i++) {
            assertEquals(200, http.post("/v2/models/affine/versions/1/infer",
                    affineRequest(null, new float[4], 1)).status());
        }
        http.post("/v2/models/affine/versions/1/infer", "{");
        http.get("/v2/no-such-route-" + System.nanoTime());
        http.post("/v2/models/no-such-model-xyz/infer", "{}");
        Http.Resp r = http.get("/metrics");
        assertEquals(200, r.status());
        assertTrue(r.headers().get("Content-Type").startsWith("text/plain"));
        String m = r.text();
        for (String series : List.of(
                "hedge_inference_request_seconds_bucket{code=\"200\",model=\"affine\",version=\"1\",le=",
                "hedge_inference_queue_seconds_bucket{model=\"affine\",version=\"1\",le=",
                "hedge_inference_compute_seconds_bucket{model=\"affine\",version=\"1\",le=",
                "hedge_inference_batch_size_bucket{model=\"affine\",version=\"1\",le=\"1.0\"}",
                "hedge_inference_failures_total{model=\"affine\",reason=\"bad_request\",version=\"1\"}",
                "hedge_model_load_seconds_count{model=\"affine\",outcome=\"success\",version=\"1\"}",
                "hedge_model_weight_bytes{model=\"affine\",version=\"1\"} 40.0",
                "hedge_model_arena_bytes{model=\"affine\",version=\"1\"}",
                "hedge_model_ready{model=\"mymodel\",version=\"1\"}",
                "hedge_queue_depth", "hedge_inflight_requests",
                "jvm_memory_used_bytes", "jvm_gc_", "process_cpu_usage",
                "vertx_http_server_requests_total")) {
            assertTrue(m.contains(series), "missing " + series);
        }
        assertTrue(m.contains("route=\"/v2/models/:name/versions/:version/infer\""), "route label");
        assertFalse(m.contains("no-such"), "client-chosen paths and names must not become labels");
    }

    @Test
    void webPageAndItsData() {
        Http.Resp page = http.get("/");
        assertEquals(200, page.status());
        assertTrue(page.headers().get("Content-Type").startsWith("text/html"));
        assertTrue(page.text().contains("<canvas"), "latency chart");
        JsonObject ui = http.get("/ui/models").json();
        JsonArray models = ui.getJsonArray("models");
        assertEquals(List.of("affine", "mymodel"), models.stream().map(o -> ((JsonObject) o).getString("name"))
                .toList());
        JsonObject v2 = models.getJsonObject(0).getJsonArray("versions").getJsonObject(1);
        assertEquals("READY", v2.getString("state"));
        assertEquals("x", v2.getJsonArray("inputs").getJsonObject(0).getString("name"));
        assertEquals(40, v2.getJsonObject("hedge").getLong("weight_bytes"));
    }
}
