package dev.hedge.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.hedge.ir.ModelDef;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.junit5.VertxExtension;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** Hot reload: atomic swaps, bad files, versions coming and going, and reloads under load with no failure. */
@ExtendWith(VertxExtension.class)
class ReloadTest {

    private static final String REQUEST = "{\"inputs\":[{\"name\":\"x\",\"shape\":[1,4],\"datatype\":\"FP32\","
            + "\"data\":[1,1,1,1]}]}";

    @TempDir
    Path repo;

    private HedgeServer start() throws Exception {
        return HedgeServer.start(ServerOptions.defaults().withModels(List.of(repo)).withBind("127.0.0.1", 0)
                .withWorkers(2, 256).withPollMs(50));
    }

    /** y[3] of the affine model for x = [1,1,1,1]: 1 * last + 0.4. */
    private static float y3(JsonObject resp) {
        return resp.getJsonArray("outputs").getJsonObject(0).getJsonArray("data").getNumber(3).floatValue();
    }

    private static void await(String what, BooleanSupplier cond) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
        while (!cond.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting for " + what);
            }
            Thread.sleep(20);
        }
    }

    /** Writes like a deployment tool that renames a finished file into place. */
    private static void replaceAtomically(ModelDef m, Path target) throws IOException {
        Path tmp = target.resolveSibling(".incoming.hedge");
        TestModels.write(m, tmp);
        Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    /** Writes like {@code cp} over the served file: truncate, then write in place. */
    private static void overwriteInPlace(byte[] bytes, Path target) throws IOException {
        Files.write(target, bytes);
    }

    private static byte[] bytesOf(ModelDef m, Path scratch) throws IOException {
        TestModels.write(m, scratch);
        byte[] b = Files.readAllBytes(scratch);
        Files.delete(scratch);
        return b;
    }

    @Test
    void changedFileIsSwappedIn(Vertx vertx) throws Exception {
        Path file = TestModels.write(TestModels.affine(1f), repo.resolve("affine/1/model.hedge"));
        try (HedgeServer s = start()) {
            Http http = new Http(vertx, s.port());
            assertEquals(1.4f, y3(http.post("/v2/models/affine/infer", REQUEST).json()), 1e-6f);
            String loadedAt = http.get("/v2/models/affine").json().getJsonObject("hedge").getString("loaded_at");
            replaceAtomically(TestModels.affine(5f), file);
            await("the new file to serve", () -> Math.abs(y3(http.post("/v2/models/affine/infer", REQUEST).json())
                    - 5.4f) < 1e-6f);
            assertNotEquals(loadedAt, http.get("/v2/models/affine").json().getJsonObject("hedge")
                    .getString("loaded_at"));
            overwriteInPlace(bytesOf(TestModels.affine(7f), repo.resolve(".scratch")), file);
            await("the in-place copy to serve", () -> Math.abs(y3(http.post("/v2/models/affine/infer", REQUEST)
                    .json()) - 7.4f) < 1e-6f);
            http.close();
        }
    }

    @Test
    void badFileLeavesTheOldVersionServingAndSaysWhy(Vertx vertx) throws Exception {
        Path file = TestModels.write(TestModels.affine(1f), repo.resolve("affine/1/model.hedge"));
        try (HedgeServer s = start()) {
            Http http = new Http(vertx, s.port());
            overwriteInPlace("this is not a model".getBytes(), file);
            await("the failure to be recorded", () -> http.post("/v2/repository/index", new JsonObject()).jsonArray()
                    .getJsonObject(0).getString("reason").contains("failed to load"));
            JsonObject row = http.post("/v2/repository/index", new JsonObject()).jsonArray().getJsonObject(0);
            assertEquals("READY", row.getString("state"));
            assertTrue(row.getString("reason").contains("still serving"), row.getString("reason"));
            JsonObject states = http.get("/v2/models/affine").json().getJsonObject("hedge")
                    .getJsonArray("version_states").getJsonObject(0);
            assertNotNull(states.getString("last_load_error"));
            assertEquals(1.4f, y3(http.post("/v2/models/affine/infer", REQUEST).json()), 1e-6f);
            assertTrue(ExecutionTest.metric(http.get("/metrics").text(),
                    "hedge_model_load_failures_total{model=\"affine\",version=\"1\"}") >= 1);
            assertEquals(200, http.get("/v2/health/ready").status());

            replaceAtomically(TestModels.affine(2f), file);
            await("recovery", () -> Math.abs(y3(http.post("/v2/models/affine/infer", REQUEST).json()) - 2.4f) < 1e-6f);
            assertNull(http.get("/v2/models/affine").json().getJsonObject("hedge").getJsonArray("version_states")
                    .getJsonObject(0).getString("last_load_error"));
            http.close();
        }
    }

    @Test
    void versionsAndModelsComeAndGo(Vertx vertx) throws Exception {
        TestModels.write(TestModels.affine(1f), repo.resolve("affine/1/model.hedge"));
        try (HedgeServer s = start()) {
            Http http = new Http(vertx, s.port());
            TestModels.write(TestModels.affine(3f), repo.resolve("affine/2/model.hedge"));
            await("version 2", () -> "2".equals(http.post("/v2/models/affine/infer", REQUEST).json()
                    .getString("model_version")));
            assertEquals(new JsonArray().add("1").add("2"), http.get("/v2/models/affine").json()
                    .getJsonArray("versions"));
            TestModels.write(TestModels.protocolExample(), repo.resolve("mymodel/1/model.hedge"));
            await("a new model", () -> http.get("/v2/models/mymodel/ready").status() == 200);

            Files.delete(repo.resolve("affine/2/model.hedge"));
            Files.delete(repo.resolve("affine/2"));
            await("version 2 to go", () -> http.get("/v2/models/affine/versions/2").status() == 404);
            assertEquals("1", http.post("/v2/models/affine/infer", REQUEST).json().getString("model_version"));
            http.close();
        }
    }

    /** A model appearing while serving is LOADING until its file settles, and the server stays ready. */
    @Test
    void aNewModelDoesNotMakeTheServerUnready(Vertx vertx) throws Exception {
        TestModels.write(TestModels.affine(1f), repo.resolve("affine/1/model.hedge"));
        try (HedgeServer s = HedgeServer.start(ServerOptions.defaults().withModels(List.of(repo))
                .withBind("127.0.0.1", 0).withPollMs(1000))) {
            Http http = new Http(vertx, s.port());
            TestModels.write(TestModels.protocolExample(), repo.resolve("mymodel/1/model.hedge"));
            await("the new model to be seen", () -> http.post("/v2/repository/index", new JsonObject()).jsonArray()
                    .stream().map(o -> (JsonObject) o).anyMatch(o -> o.getString("name").equals("mymodel")));
            JsonObject row = http.post("/v2/repository/index", new JsonObject()).jsonArray().stream()
                    .map(o -> (JsonObject) o).filter(o -> o.getString("name").equals("mymodel")).findFirst()
                    .orElseThrow();
            // Seen on one scan, loaded on the next (a second later) if the file stayed the same.
            assertEquals("LOADING", row.getString("state"), row.toString());
            assertTrue(row.getString("reason").contains("stops changing"), row.toString());
            assertEquals(200, http.get("/v2/health/ready").status(), "ready while " + row);
            await("the new model to load", () -> http.get("/v2/models/mymodel/ready").status() == 200);
            assertEquals(200, http.get("/v2/health/ready").status());
            http.close();
        }
    }

    /**
     * Clients keep requests in flight while the model file is replaced (renamed into place, copied over in
     * place, and broken now and then) every 150 ms: every request must get 200 with one version's numbers.
     */
    @Test
    void reloadUnderLoadFailsNoRequest(Vertx vertx) throws Exception {
        Path file = TestModels.write(TestModels.affine(1f), repo.resolve("affine/1/model.hedge"));
        byte[] v5 = bytesOf(TestModels.affine(5f), repo.resolve(".scratch"));
        try (HedgeServer s = start()) {
            Http http = new Http(vertx, s.port());
            AtomicLong sent = new AtomicLong();
            Map<Integer, AtomicLong> byStatus = new ConcurrentHashMap<>();
            Map<Float, AtomicLong> byValue = new ConcurrentHashMap<>();
            long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(8);
            int clients = 8;
            Promise<Void>[] done = new Promise[clients];
            for (int c = 0; c < clients; c++) {
                done[c] = Promise.promise();
                loop(http, end, sent, byStatus, byValue, done[c]);
            }
            int swaps = 0;
            while (System.nanoTime() < end - TimeUnit.MILLISECONDS.toNanos(500)) {
                switch (swaps % 4) {
                    case 0 -> overwriteInPlace(v5, file);
                    case 1 -> replaceAtomically(TestModels.affine(1f), file);
                    case 2 -> overwriteInPlace("broken".getBytes(), file);
                    default -> replaceAtomically(TestModels.affine(1f), file);
                }
                swaps++;
                Thread.sleep(150);
            }
            for (Promise<Void> p : done) {
                p.future().await(30, TimeUnit.SECONDS);
            }
            String metrics = http.get("/metrics").text();
            double reloads = ExecutionTest.metric(metrics,
                    "hedge_model_load_seconds_count{model=\"affine\",outcome=\"success\",version=\"1\"}");
            double failedLoads = ExecutionTest.metric(metrics,
                    "hedge_model_load_failures_total{model=\"affine\",version=\"1\"}");
            long ok = byStatus.getOrDefault(200, new AtomicLong()).get();
            System.out.printf("reload under load: %d requests, %d x 200, %d failed, %d file swaps, %.0f reloads, "
                            + "%.0f bad files rejected, answers by y[3]: %s%n", sent.get(), ok, sent.get() - ok, swaps,
                    reloads, failedLoads, byValue);
            assertEquals(sent.get(), ok, "every request answered 200: " + byStatus);
            assertEquals(Map.of(1.4f, true, 5.4f, true), Map.of(1.4f, byValue.containsKey(1.4f),
                    5.4f, byValue.containsKey(5.4f)), "both versions served: " + byValue);
            assertEquals(2, byValue.size(), "no other numbers: " + byValue);
            assertTrue(reloads >= 4, "reloads " + reloads);
            assertTrue(failedLoads >= 1, "bad files seen " + failedLoads);
            http.close();
        }
    }

    private static void loop(Http http, long end, AtomicLong sent, Map<Integer, AtomicLong> byStatus,
            Map<Float, AtomicLong> byValue, Promise<Void> done) {
        if (System.nanoTime() > end) {
            done.complete();
            return;
        }
        sent.incrementAndGet();
        Future<HttpResponse<Buffer>> f = http.client().post("/v2/models/affine/infer")
                .putHeader("Content-Type", "application/json").sendBuffer(Buffer.buffer(REQUEST));
        f.onComplete(ar -> {
            int code = ar.succeeded() ? ar.result().statusCode() : -1;
            byStatus.computeIfAbsent(code, k -> new AtomicLong()).incrementAndGet();
            if (code == 200) {
                byValue.computeIfAbsent(y3(ar.result().bodyAsJsonObject()), k -> new AtomicLong()).incrementAndGet();
            }
            loop(http, end, sent, byStatus, byValue, done);
        });
    }
}
