package dev.hedge.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.hedge.converter.Converter;
import dev.hedge.io.Npy;
import dev.hedge.profiles.Profiles;
import dev.hedge.runtime.DType;
import dev.hedge.runtime.Model;
import dev.hedge.runtime.Session;
import dev.hedge.runtime.Tensor;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * The on-device compression path on the bundled digits-cnn: ONNX files in the repository are converted on load
 * with their convert.json (or the --compress default) for the server's device profile, checked against its
 * budget, and served with the compression report in their metadata.
 */
@ExtendWith(VertxExtension.class)
class OnLoadCompressionTest {

    static final Path EXAMPLE = Path.of(System.getProperty("hedge.repo", ".."), "examples", "digits-cnn");
    static final Path ONNX = EXAMPLE.resolve("model.onnx");
    static final int ROWS = 32;

    @TempDir
    Path dir;

    /** Rows {@code [from, from + n)} of an {@code [N, ...]} .npy file. */
    static Tensor rows(Path npy, int from, int n) throws Exception {
        Tensor all = Npy.read(npy);
        int[] shape = all.shape();
        shape[0] = n;
        int rowBytes = all.byteSize() / all.dim(0);
        Tensor t = Tensor.allocate(DType.FLOAT32, shape);
        t.data().put(0, all.data(), from * rowBytes, n * rowBytes);
        return t;
    }

    /** The float model's logits, converted the plain way and run in process. */
    static float[] fp32Logits(Tensor x) throws Exception {
        try (Model m = Model.of(Converter.convert(ONNX, Converter.Options.defaults()).model());
                Session s = m.newSession()) {
            return s.run(Map.of("pixels", x)).get("logits").toFloatArray();
        }
    }

    static float[] serverLogits(Http http, String model, Tensor x) {
        JsonArray data = new JsonArray();
        for (float v : x.toFloatArray()) {
            data.add(v);
        }
        JsonArray shape = new JsonArray();
        Arrays.stream(x.shape()).forEach(shape::add);
        Http.Resp r = http.post("/v2/models/" + model + "/infer", new JsonObject().put("inputs", new JsonArray()
                .add(new JsonObject().put("name", "pixels").put("shape", shape).put("datatype", "FP32")
                        .put("data", data))));
        assertEquals(200, r.status(), r.text());
        JsonArray y = r.json().getJsonArray("outputs").getJsonObject(0).getJsonArray("data");
        float[] out = new float[y.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = y.getNumber(i).floatValue();
        }
        return out;
    }

    static int argmax(float[] v, int row) {
        int best = 0;
        for (int j = 1; j < 10; j++) {
            if (v[row * 10 + j] > v[row * 10 + best]) {
                best = j;
            }
        }
        return best;
    }

    private Path model(String name, int version) throws Exception {
        Path v = Files.createDirectories(dir.resolve("repo").resolve(name).resolve(Integer.toString(version)));
        Files.copy(ONNX, v.resolve("model.onnx"));
        return v;
    }

    private ServerOptions options(ConversionPolicy policy) {
        return ServerOptions.defaults().withModels(List.of(dir.resolve("repo"))).withBind("127.0.0.1", 0)
                .withPollMs(0).withConversion(policy);
    }

    private static ConversionPolicy profile(String name) {
        return ConversionPolicy.defaults().withProfile(Profiles.builtIn(name), name + " (test)");
    }

    /** The version's last load error from the model metadata, or null. */
    private static String lastError(JsonObject meta) {
        JsonObject st = meta.getJsonObject("hedge").getJsonArray("version_states").getJsonObject(0);
        return st.getString("last_load_error");
    }

    @Test
    void convertJsonAskingForStaticInt8IsServedWithInt8Weights(Vertx vertx) throws Exception {
        Path v = model("digits", 1);
        Files.createDirectories(v.resolve("data"));
        Npy.write(rows(EXAMPLE.resolve("calib.npy"), 0, 64), v.resolve("data/calib64.npy"));
        Files.writeString(v.resolve("convert.json"), "{\"quantize\": \"int8\", \"calib\": \"data/calib64.npy\"}");
        Tensor x = rows(EXAMPLE.resolve("test_x.npy"), 0, ROWS);
        float[] fp32 = fp32Logits(x);
        try (HedgeServer s = HedgeServer.start(options(profile("x86-64-generic")))) {
            Http http = new Http(vertx, s.port());
            JsonObject meta = http.get("/v2/models/digits").json();
            JsonObject h = meta.getJsonObject("hedge");
            assertNull(lastError(meta), meta.encodePrettily());
            assertEquals("onnx", h.getString("format"));
            JsonObject conv = h.getJsonObject("conversion");
            assertEquals("int8", conv.getString("precision"), conv.encodePrettily());
            assertEquals("convert.json", conv.getString("compression_chosen_by"));
            assertEquals("x86-64-generic", conv.getString("profile"));
            assertEquals("off", conv.getString("cache"));
            assertTrue(h.getJsonArray("conversion_passes").size() > 0);
            JsonObject check = conv.getJsonObject("target_check");
            assertTrue(check.getLong("weights_bytes") <= check.getLong("weights_budget"), check.encode());

            // The per-layer report, as the web page reads it: every Conv and the Gemm stored in int8.
            JsonObject report = new JsonObject(h.getJsonObject("metadata").getString("conversion.report"));
            assertEquals("off", report.getJsonObject("settings").getString("speed_check"), report.encode());
            JsonArray layers = report.getJsonArray("layers");
            assertEquals(4, layers.size(), layers.encodePrettily());
            for (Object o : layers) {
                JsonObject l = (JsonObject) o;
                assertEquals("int8", l.getString("precision"), l.encode());
                assertTrue(l.getLong("bytes_after") * 2 < l.getLong("bytes_before"), l.encode());
            }
            JsonObject totals = report.getJsonObject("totals");
            assertTrue(totals.getLong("bytes_after") * 3 < totals.getLong("bytes_before"), totals.encode());
            assertEquals(64, report.getJsonObject("evaluation").getNumber("samples").intValue(), report.encode());
            JsonObject page = http.get("/ui/models").json();
            assertTrue(page.encode().contains("conversion.report"), "the page data carries the report");

            // The served weights really are int8.
            LoadedModel served = s.repository().resolve("digits", null);
            long int8Weights = served.model().graph().initializers().values().stream()
                    .filter(t -> t.dtype() == DType.INT8 || t.dtype() == DType.UINT8).count();
            assertTrue(int8Weights >= 4, "int8 initializers: " + int8Weights);

            // Answers: close to the float model's, but not its bits (the int8 model is what answers).
            float[] got = serverLogits(http, "digits", x);
            double maxAbs = 0;
            double maxDiff = 0;
            int agree = 0;
            boolean identical = true;
            for (int i = 0; i < fp32.length; i++) {
                maxAbs = Math.max(maxAbs, Math.abs(fp32[i]));
                maxDiff = Math.max(maxDiff, Math.abs(fp32[i] - got[i]));
                identical &= Float.floatToIntBits(fp32[i]) == Float.floatToIntBits(got[i]);
            }
            for (int r = 0; r < ROWS; r++) {
                agree += argmax(fp32, r) == argmax(got, r) ? 1 : 0;
            }
            System.out.printf("static int8 on load: max |logit| %.3f, max |int8 - fp32| %.4f, top-1 agreement %d/%d, "
                    + "weights %d bytes, load %.0f ms%n", maxAbs, maxDiff, agree, ROWS, h.getLong("weight_bytes"),
                    h.getDouble("load_ms"));
            assertTrue(maxDiff <= 0.05 * maxAbs, "max |int8 - fp32| " + maxDiff + " vs max |logit| " + maxAbs);
            assertTrue(agree >= ROWS - 1, "top-1 agreement " + agree + "/" + ROWS);
            assertTrue(!identical, "int8 answers equal the fp32 ones bit for bit: nothing was quantized");
            http.close();
        }
    }

    @Test
    void aBadConvertJsonIsRejectedAndTheOldVersionKeepsServing(Vertx vertx) throws Exception {
        Path v = model("digits", 1);
        Path json = v.resolve("convert.json");
        Files.writeString(json, "{\"quantize\": \"int8-dynamic\"}");
        Tensor x = rows(EXAMPLE.resolve("test_x.npy"), 0, 4);
        try (HedgeServer s = HedgeServer.start(options(profile("x86-64-generic")).withPollMs(100))) {
            Http http = new Http(vertx, s.port());
            assertEquals("int8-dynamic", http.get("/v2/models/digits").json().getJsonObject("hedge")
                    .getJsonObject("conversion").getString("precision"));
            float[] before = serverLogits(http, "digits", x);

            // Hot reload notices a changed convert.json alone.
            Files.writeString(json, "{\"quantize\": \"int9\"}");
            String err = null;
            for (long end = System.nanoTime() + 20_000_000_000L; err == null && System.nanoTime() < end; ) {
                Thread.sleep(50);
                err = lastError(http.get("/v2/models/digits").json());
            }
            assertNotNull(err, "the changed convert.json was not picked up");
            assertTrue(err.contains(json.toString()) && err.contains("key 'quantize'")
                    && err.contains("unknown precision 'int9'"), err);

            Map<String, String> bad = new java.util.LinkedHashMap<>();
            bad.put("{\"quantize\": \"int8-dynamic\",\n  , }", "not valid JSON at line 2, column 3");
            bad.put("{\"quantise\": \"int8\"}", "unknown key 'quantise'; the keys are hedge convert's options");
            bad.put("{\"sparsity\": \"half\"}", "key 'sparsity' must be a number, got \"half\"");
            bad.put("{\"calib-method\": \"median\"}", "key 'calib-method'");
            bad.put("{\"quantize\": \"int8\"}", "static int8 needs calibration data");
            bad.put("{\"quantize\": \"int8-dynamic\", \"max-precision\": \"int8-weight\"}",
                    "'max-precision' limits automatic mixed precision");
            bad.put("{\"quantize\": \"int8-dynamic\", \"calib\": \"nowhere.npy\"}", "convert.json: key 'calib': data " + v.resolve("nowhere.npy")
                    + " does not exist");
            bad.put("{\"quantize\": \"int8-dynamic\", \"int8-ops\": \"some\"}",
                    "key 'int8-ops': 'some': give layers or all");
            bad.put("{\"output\": \"x.hedge\"}", "key 'output' does not apply when the server converts");
            bad.put("[1, 2]", "expected a JSON object of hedge convert options");
            for (Map.Entry<String, String> b : bad.entrySet()) {
                Files.writeString(json, b.getKey());
                Http.Resp r = http.post("/v2/repository/models/digits/load", new JsonObject());
                assertEquals(200, r.status(), "the old instance still serves: " + r.text());
                JsonObject meta = http.get("/v2/models/digits").json();
                String e = lastError(meta);
                assertNotNull(e, b.getKey());
                assertTrue(e.contains(b.getValue()), b.getKey() + " -> " + e);
                assertEquals("int8-dynamic", meta.getJsonObject("hedge").getJsonObject("conversion")
                        .getString("precision"));
                float[] now = serverLogits(http, "digits", x);
                for (int i = 0; i < before.length; i++) {
                    assertEquals(Float.floatToIntBits(before[i]), Float.floatToIntBits(now[i]), "logit " + i);
                }
            }
            JsonObject row = http.post("/v2/repository/index", new JsonObject()).jsonArray().getJsonObject(0);
            assertEquals("READY", row.getString("state"));
            assertTrue(row.getString("reason").contains("still serving"), row.encode());
            String metrics = http.get("/metrics").text();
            double failures = metrics.lines().filter(l -> l.startsWith("hedge_model_load_failures_total{")
                    && l.contains("model=\"digits\"")).mapToDouble(l -> Double.parseDouble(l.substring(
                    l.lastIndexOf(' ') + 1))).sum();
            assertTrue(failures >= 1 + bad.size(), "load failures counted: " + failures);

            Files.writeString(json, "{\"quantize\": \"fp16\"}");
            assertEquals(200, http.post("/v2/repository/models/digits/load", new JsonObject()).status());
            JsonObject meta = http.get("/v2/models/digits").json();
            assertNull(lastError(meta));
            assertEquals("fp16", meta.getJsonObject("hedge").getJsonObject("conversion").getString("precision"));
            http.close();
        }
    }

    @Test
    void theProfileBudgetCheckFiresAndCompressionMakesTheModelFit(Vertx vertx) throws Exception {
        // x86-64-generic with a 40,000-byte weight budget: the float weights (about 78 kB) do not fit, int8 does.
        String generic;
        try (var in = Profiles.class.getResourceAsStream("x86-64-generic.json")) {
            generic = new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        }
        Path tiny = Files.writeString(dir.resolve("tiny-board.json"), generic
                .replace("\"x86-64-generic\"", "\"tiny-board\"").replace("\"weightsBytes\": 4294967296", "\"weightsBytes\": 40000"));
        ConversionPolicy policy = ConversionPolicy.defaults().withProfile(Profiles.resolve(tiny.toString()), "tiny");
        Path v = model("digits", 1);
        try (HedgeServer s = HedgeServer.start(options(policy.withCompress("none")))) {
            Http http = new Http(vertx, s.port());
            JsonObject row = http.post("/v2/repository/index", new JsonObject()).jsonArray().getJsonObject(0);
            assertEquals("UNAVAILABLE", row.getString("state"), row.encode());
            String reason = row.getString("reason");
            assertTrue(reason.contains("does not fit profile tiny-board") && reason.contains("memory.weightsBytes")
                    && reason.contains("over the 40,000-byte budget"), reason);
            assertEquals(503, http.post("/v2/models/digits/infer", "{\"inputs\":[]}").status());

            Files.writeString(v.resolve("convert.json"), "{\"quantize\": \"int8-dynamic\"}");
            assertEquals(200, http.post("/v2/repository/models/digits/load", new JsonObject()).status());
            JsonObject check = http.get("/v2/models/digits").json().getJsonObject("hedge").getJsonObject("conversion")
                    .getJsonObject("target_check");
            assertEquals(40000, check.getLong("weights_budget"));
            assertTrue(check.getLong("weights_bytes") <= 40000, check.encode());
            http.close();
        }
        // The --compress default reaches the same result without a convert.json.
        Files.delete(v.resolve("convert.json"));
        try (HedgeServer s = HedgeServer.start(options(policy.withCompress("int8-dynamic")))) {
            Http http = new Http(vertx, s.port());
            JsonObject conv = http.get("/v2/models/digits").json().getJsonObject("hedge").getJsonObject("conversion");
            assertEquals("int8-dynamic", conv.getString("precision"));
            assertEquals("--compress int8-dynamic", conv.getString("compression_chosen_by"));
            http.close();
        }
    }

    @Test
    void aRestartFindsTheConvertedModelInTheCache(Vertx vertx) throws Exception {
        Path v = model("digits", 1);
        Files.writeString(v.resolve("convert.json"), "{\"quantize\": \"int8-dynamic\"}");
        Path cache = dir.resolve("cache");
        ConversionPolicy policy = profile("x86-64-generic").withCacheDir(cache);
        Tensor x = rows(EXAMPLE.resolve("test_x.npy"), 0, 4);
        float[] first;
        try (HedgeServer s = HedgeServer.start(options(policy))) {
            Http http = new Http(vertx, s.port());
            assertEquals("miss", http.get("/v2/models/digits").json().getJsonObject("hedge")
                    .getJsonObject("conversion").getString("cache"));
            first = serverLogits(http, "digits", x);
            http.close();
        }
        List<String> files;
        try (Stream<Path> l = Files.list(cache)) {
            files = l.map(p -> p.getFileName().toString()).sorted().toList();
        }
        assertEquals(2, files.size(), "one entry and its sidecar, no temporary files: " + files);
        try (HedgeServer s = HedgeServer.start(options(policy))) {
            Http http = new Http(vertx, s.port());
            JsonObject conv = http.get("/v2/models/digits").json().getJsonObject("hedge").getJsonObject("conversion");
            assertEquals("hit", conv.getString("cache"));
            assertEquals("int8-dynamic", conv.getString("precision"));
            float[] again = serverLogits(http, "digits", x);
            for (int i = 0; i < first.length; i++) {
                assertEquals(Float.floatToIntBits(first[i]), Float.floatToIntBits(again[i]), "logit " + i);
            }
            http.close();
        }
        // A damaged entry is dropped and the model converted again.
        Path entry = cache.resolve(files.stream().filter(f -> f.endsWith(".hedge")).findFirst().orElseThrow());
        Files.write(entry, new byte[] {1, 2, 3, 4});
        try (HedgeServer s = HedgeServer.start(options(policy))) {
            Http http = new Http(vertx, s.port());
            JsonObject conv = http.get("/v2/models/digits").json().getJsonObject("hedge").getJsonObject("conversion");
            assertEquals("miss", conv.getString("cache"));
            float[] again = serverLogits(http, "digits", x);
            for (int i = 0; i < first.length; i++) {
                assertEquals(Float.floatToIntBits(first[i]), Float.floatToIntBits(again[i]), "logit " + i);
            }
            http.close();
        }
        assertTrue(Files.size(entry) > 4, "the entry was written again");
        // A cache that cannot be created costs the cache, not the model.
        Path blocked = Files.writeString(dir.resolve("not-a-dir"), "x").resolve("cache");
        try (HedgeServer s = HedgeServer.start(options(policy.withCacheDir(blocked)))) {
            Http http = new Http(vertx, s.port());
            JsonObject conv = http.get("/v2/models/digits").json().getJsonObject("hedge").getJsonObject("conversion");
            assertTrue(conv.getString("cache").startsWith("off (" + blocked + " cannot be created"), conv.encode());
            float[] again = serverLogits(http, "digits", x);
            for (int i = 0; i < first.length; i++) {
                assertEquals(Float.floatToIntBits(first[i]), Float.floatToIntBits(again[i]), "logit " + i);
            }
            http.close();
        }
        // Other options are another key: no stale hit.
        Files.writeString(v.resolve("convert.json"), "{\"quantize\": \"fp16\"}");
        try (HedgeServer s = HedgeServer.start(options(policy))) {
            Http http = new Http(vertx, s.port());
            JsonObject conv = http.get("/v2/models/digits").json().getJsonObject("hedge").getJsonObject("conversion");
            assertEquals("miss", conv.getString("cache"));
            assertEquals("fp16", conv.getString("precision"));
            http.close();
        }
    }

    @Test
    void compressAutoUsesCalibrationDataNextToTheModel(Vertx vertx) throws Exception {
        Path v = model("digits", 1);
        Files.createDirectories(v.resolve("calib"));
        for (int i = 0; i < 16; i++) {
            Npy.write(rows(EXAMPLE.resolve("calib.npy"), i, 1), v.resolve(String.format("calib/%04d.npy", i)));
        }
        // A calib.npy alone is not a reason to compress (the examples have one next to every model).
        Files.copy(EXAMPLE.resolve("calib.npy"), model("plain", 1).resolve("calib.npy"));
        try (HedgeServer s = HedgeServer.start(options(profile("x86-64-generic")))) {
            Http http = new Http(vertx, s.port());
            JsonObject conv = http.get("/v2/models/digits").json().getJsonObject("hedge").getJsonObject("conversion");
            assertEquals("int8", conv.getString("precision"), conv.encodePrettily());
            assertEquals("--compress auto", conv.getString("compression_chosen_by"));
            assertTrue(conv.getJsonArray("notes").encode().contains("calibrated and evaluated on calib"),
                    conv.encode());
            // Without data, auto leaves the model as it is: the float model's bits.
            JsonObject plain = http.get("/v2/models/plain").json().getJsonObject("hedge").getJsonObject("conversion");
            assertEquals("fp32", plain.getString("precision"));
            Tensor x = rows(EXAMPLE.resolve("test_x.npy"), 0, 2);
            float[] expected = fp32Logits(x);
            float[] got = serverLogits(http, "plain", x);
            for (int i = 0; i < expected.length; i++) {
                assertEquals(Float.floatToIntBits(expected[i]), Float.floatToIntBits(got[i]), "logit " + i);
            }
            http.close();
        }
    }

    @Test
    void aFullIntegerProfileForcesPerTensorStaticInt8(Vertx vertx) throws Exception {
        model("nodata", 1);
        Path v = model("digits", 1);
        Files.createDirectories(v.resolve("calib"));
        for (int i = 0; i < 16; i++) {
            Npy.write(rows(EXAMPLE.resolve("calib.npy"), i, 1), v.resolve(String.format("calib/%04d.npy", i)));
        }
        // the server-wide default yields to what the target runs
        try (HedgeServer s = HedgeServer.start(options(profile("microcontroller").withCompress("int8-dynamic")))) {
            Http http = new Http(vertx, s.port());
            JsonObject conv = http.get("/v2/models/digits").json().getJsonObject("hedge").getJsonObject("conversion");
            assertEquals("int8", conv.getString("precision"), conv.encodePrettily());
            assertEquals(true, conv.getBoolean("per_tensor"));
            assertTrue(conv.getJsonArray("notes").encode().contains("runs full-integer models only"), conv.encode());
            LoadedModel served = s.repository().resolve("digits", null);
            long integerLayers = served.model().graph().nodes().stream()
                    .filter(n -> n.op() == dev.hedge.ops.Op.QLinearConv || n.op() == dev.hedge.ops.Op.QLinearMatMul)
                    .count();
            assertEquals(4, integerLayers, "every Conv and the Gemm run in int8");
            JsonObject row = http.post("/v2/repository/index", new JsonObject()).jsonArray().stream()
                    .map(o -> (JsonObject) o).filter(o -> o.getString("name").equals("nodata")).findFirst()
                    .orElseThrow();
            assertEquals("UNAVAILABLE", row.getString("state"));
            assertTrue(row.getString("reason").contains("static int8 (profile microcontroller runs full-integer models "
                    + "only) needs calibration data"), row.getString("reason"));
            Tensor x = rows(EXAMPLE.resolve("test_x.npy"), 0, 8);
            float[] fp32 = fp32Logits(x);
            float[] got = serverLogits(http, "digits", x);
            int agree = 0;
            for (int r = 0; r < 8; r++) {
                agree += argmax(fp32, r) == argmax(got, r) ? 1 : 0;
            }
            assertTrue(agree >= 7, "top-1 agreement " + agree + "/8");
            http.close();
        }
    }
}
