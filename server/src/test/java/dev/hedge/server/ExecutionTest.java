package dev.hedge.server;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.hedge.runtime.Model;
import dev.hedge.runtime.Session;
import dev.hedge.runtime.Tensor;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.junit5.VertxExtension;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** The worker pool: queue limit, timeouts, dynamic batching, graceful shutdown; and bearer-token auth. */
@ExtendWith(VertxExtension.class)
class ExecutionTest {

    @TempDir
    Path dir;

    private static final String SLOW_REQUEST = "{\"inputs\":[{\"name\":\"x\",\"shape\":[1,1],\"datatype\":\"FP32\","
            + "\"data\":[0.5]}]}";

    private HedgeServer slowServer(int workers, int queue, long timeoutMs, int size) throws Exception {
        TestModels.write(TestModels.slow(size, 4), dir.resolve("slow.hedge"));
        return HedgeServer.start(ServerOptions.defaults().withModels(List.of(dir.resolve("slow.hedge")))
                .withBind("127.0.0.1", 0).withWorkers(workers, queue).withTimeoutMs(timeoutMs).withPollMs(0));
    }

    private static List<HttpResponse<Buffer>> all(List<Future<HttpResponse<Buffer>>> fs) throws Exception {
        List<HttpResponse<Buffer>> out = new ArrayList<>();
        for (Future<HttpResponse<Buffer>> f : fs) {
            out.add(f.await(60, TimeUnit.SECONDS));
        }
        return out;
    }

    private static Future<HttpResponse<Buffer>> post(Http http, String path, String body) {
        return http.client().post(path).putHeader("Content-Type", "application/json").sendBuffer(Buffer.buffer(body));
    }

    @Test
    void fullQueueAnswers503WithRetryAfter(Vertx vertx) throws Exception {
        try (HedgeServer s = slowServer(1, 1, 60_000, 1024)) {
            Http http = new Http(vertx, s.port());
            List<Future<HttpResponse<Buffer>>> fs = new ArrayList<>();
            for (int i = 0; i < 16; i++) {
                fs.add(post(http, "/v2/models/slow/infer", SLOW_REQUEST));
            }
            int ok = 0;
            int busy = 0;
            for (HttpResponse<Buffer> r : all(fs)) {
                if (r.statusCode() == 200) {
                    ok++;
                } else {
                    assertEquals(503, r.statusCode(), r.bodyAsString());
                    assertEquals("1", r.getHeader("Retry-After"));
                    assertTrue(r.bodyAsJsonObject().getString("error").contains("queue is full"));
                    busy++;
                }
            }
            // At most one runs and one waits: the others are refused at once. (Whether the second is admitted
            // depends on whether the worker has taken the first off the queue yet.)
            assertTrue(ok >= 1 && ok <= 2, "ok " + ok);
            assertTrue(busy >= 1, "busy " + busy);
            assertEquals(16, ok + busy);
            assertTrue(http.get("/metrics").text().contains("hedge_inference_failures_total{model=\"slow\","
                    + "reason=\"queue_full\",version=\"1\"}"));
            http.close();
        }
    }

    @Test
    void slowRequestTimesOutWith504(Vertx vertx) throws Exception {
        try (HedgeServer s = slowServer(1, 8, 5, 1024)) {
            Http http = new Http(vertx, s.port());
            Http.Resp r = http.post("/v2/models/slow/infer", SLOW_REQUEST);
            assertEquals(504, r.status(), r.text());
            assertTrue(r.error().contains("5 ms"), r.error());
            // The worker finishes the abandoned run and serves the next request normally (on a fresh deadline).
            assertEquals(200, http.get("/v2/health/ready").status());
            assertTrue(http.get("/metrics").text().contains("reason=\"timeout\""));
            http.close();
        }
    }

    @Test
    void dynamicBatchingStacksRequestsAndSplitsTheAnswers(Vertx vertx) throws Exception {
        Path file = TestModels.write(TestModels.work(16), dir.resolve("work.hedge"));
        try (HedgeServer s = HedgeServer.start(ServerOptions.defaults().withModels(List.of(file))
                .withBind("127.0.0.1", 0).withWorkers(1, 64).withBatching(8, 200).withPollMs(0));
                Model m = Model.load(file); Session session = m.newSession()) {
            Http http = new Http(vertx, s.port());
            int n = 16;
            List<float[]> inputs = new ArrayList<>();
            List<Future<HttpResponse<Buffer>>> fs = new ArrayList<>();
            java.util.Random rnd = new java.util.Random(11);
            for (int i = 0; i < n; i++) {
                int rows = 1 + (i % 2);
                float[] x = new float[rows * 64];
                for (int j = 0; j < x.length; j++) {
                    x[j] = (float) rnd.nextGaussian();
                }
                inputs.add(x);
                JsonArray data = new JsonArray();
                for (float v : x) {
                    data.add(v);
                }
                fs.add(post(http, "/v2/models/work/infer", new JsonObject().put("id", "r" + i).put("inputs",
                        new JsonArray().add(new JsonObject().put("name", "x").put("datatype", "FP32")
                                .put("shape", new JsonArray().add(rows).add(64)).put("data", data))).encode()));
            }
            List<HttpResponse<Buffer>> rs = all(fs);
            for (int i = 0; i < n; i++) {
                HttpResponse<Buffer> r = rs.get(i);
                assertEquals(200, r.statusCode(), r.bodyAsString());
                JsonObject j = r.bodyAsJsonObject();
                assertEquals("r" + i, j.getString("id"));
                float[] x = inputs.get(i);
                float[] expected = session.run(Map.of("x", Tensor.of(x, x.length / 64, 64))).get("y").toFloatArray();
                JsonArray got = j.getJsonArray("outputs").getJsonObject(0).getJsonArray("data");
                assertEquals(new JsonArray().add(x.length / 64).add(16),
                        j.getJsonArray("outputs").getJsonObject(0).getJsonArray("shape"));
                float[] g = new float[got.size()];
                for (int k = 0; k < g.length; k++) {
                    g[k] = got.getNumber(k).floatValue();
                }
                assertArrayEquals(expected, g, 1e-6f, "request " + i);
            }
            String metrics = http.get("/metrics").text();
            double batches = metric(metrics, "hedge_inference_batch_size_count{model=\"work\",version=\"1\"}");
            double requests = metric(metrics, "hedge_inference_batch_size_sum{model=\"work\",version=\"1\"}");
            assertEquals(n, requests);
            assertTrue(batches < n, "requests were batched: " + batches + " runs for " + n + " requests");
            assertTrue(metric(metrics, "hedge_inference_batch_size_max{model=\"work\",version=\"1\"}") > 1);
            http.close();
        }
    }

    static double metric(String text, String series) {
        Matcher m = Pattern.compile("^" + Pattern.quote(series) + " (\\S+)$", Pattern.MULTILINE).matcher(text);
        assertTrue(m.find(), "no series " + series);
        return Double.parseDouble(m.group(1));
    }

    @Test
    void gracefulShutdownFinishesAdmittedRequests(Vertx vertx) throws Exception {
        TestModels.write(TestModels.slow(1024, 4), dir.resolve("slow.hedge"));
        HedgeServer s = HedgeServer.start(ServerOptions.defaults().withModels(List.of(dir.resolve("slow.hedge")))
                .withBind("127.0.0.1", 0).withWorkers(1, 8).withPollMs(0).withDrainMs(30_000));
        Http http = new Http(vertx, s.port());
        List<Future<HttpResponse<Buffer>>> fs = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            fs.add(post(http, "/v2/models/slow/infer", SLOW_REQUEST));
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (s.metrics().registry().find("hedge.queue.depth").gauge().value() + busy(s) < 3
                && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
        s.close();
        for (HttpResponse<Buffer> r : all(fs)) {
            assertEquals(200, r.statusCode(), r.bodyAsString());
        }
        http.close();
    }

    private static double busy(HedgeServer s) {
        return s.metrics().registry().find("hedge.workers.busy").gauge().value();
    }

    @Test
    void bearerTokenIsRequiredWhenConfigured(Vertx vertx) throws Exception {
        Path tokenFile = Files.writeString(dir.resolve("token"), "s3cret-token-0123456789\n");
        TestModels.write(TestModels.affine(1f), dir.resolve("affine.hedge"));
        try (HedgeServer s = HedgeServer.start(ServerOptions.defaults().withModels(List.of(dir.resolve("affine.hedge")))
                .withBind("127.0.0.1", 0).withAuth(tokenFile, false).withPollMs(0))) {
            Http anon = new Http(vertx, s.port());
            assertEquals(200, anon.get("/v2/health/live").status());
            assertEquals(200, anon.get("/v2/health/ready").status());
            assertEquals(200, anon.get("/").status());
            for (String path : List.of("/v2", "/v2/models/affine", "/metrics", "/ui/models")) {
                Http.Resp r = anon.get(path);
                assertEquals(401, r.status(), path);
                assertEquals("Bearer realm=\"hedge\"", r.headers().get("WWW-Authenticate"));
            }
            assertEquals(401, anon.post("/v2/models/affine/infer", "{}").status());
            assertEquals(401, new Http(vertx, s.port()).withToken("wrong").get("/v2").status());
            Http authed = new Http(vertx, s.port()).withToken("s3cret-token-0123456789");
            assertEquals(200, authed.get("/v2").status());
            assertEquals(200, authed.post("/v2/models/affine/infer", "{\"inputs\":[{\"name\":\"x\",\"shape\":[1,4],"
                    + "\"datatype\":\"FP32\",\"data\":[1,2,3,4]}]}").status());
            assertTrue(authed.get("/metrics").text().contains("reason=\"unauthorized\""));
            anon.close();
            authed.close();
        }
    }

    @Test
    void bindingBeyondLoopbackNeedsATokenOrAnExplicitOptOut() throws Exception {
        TestModels.write(TestModels.affine(1f), dir.resolve("affine.hedge"));
        ServerOptions o = ServerOptions.defaults().withModels(List.of(dir.resolve("affine.hedge")))
                .withBind("0.0.0.0", 0).withPollMs(0);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> HedgeServer.start(o));
        assertTrue(e.getMessage().contains("--token-file"), e.getMessage());
        assertTrue(HedgeServer.isLoopback("127.0.0.1"));
        assertTrue(HedgeServer.isLoopback("::1"));
        assertTrue(HedgeServer.isLoopback("localhost"));
        assertTrue(!HedgeServer.isLoopback("0.0.0.0"));
        Path weak = Files.writeString(dir.resolve("weak"), "short");
        IllegalArgumentException w = assertThrows(IllegalArgumentException.class,
                () -> HedgeServer.start(o.withBind("127.0.0.1", 0).withAuth(weak, false)));
        assertTrue(w.getMessage().contains("at least 16"), w.getMessage());
    }

    @Test
    void liveChartEventsStream(Vertx vertx) throws Exception {
        TestModels.write(TestModels.affine(1f), dir.resolve("affine.hedge"));
        try (HedgeServer s = HedgeServer.start(ServerOptions.defaults().withModels(List.of(dir.resolve("affine.hedge")))
                .withBind("127.0.0.1", 0).withPollMs(0))) {
            Http http = new Http(vertx, s.port());
            for (int i = 0; i < 5; i++) {
                http.post("/v2/models/affine/infer", "{\"inputs\":[{\"name\":\"x\",\"shape\":[1,4],"
                        + "\"datatype\":\"FP32\",\"data\":[1,2,3,4]}]}");
            }
            StringBuilder got = new StringBuilder();
            io.vertx.core.http.HttpClient c = vertx.createHttpClient();
            java.util.concurrent.CountDownLatch two = new java.util.concurrent.CountDownLatch(1);
            io.vertx.core.http.HttpClientResponse resp = c.request(io.vertx.core.http.HttpMethod.GET, s.port(),
                    "127.0.0.1", "/ui/events").compose(req -> req.send()).map(r -> {
                        r.handler(b -> {
                            synchronized (got) {
                                got.append(b.toString(StandardCharsets.UTF_8));
                                if (got.toString().contains("\"affine v1\"")) {
                                    two.countDown();
                                }
                            }
                        });
                        return r;
                    }).await(10, TimeUnit.SECONDS);
            assertEquals("text/event-stream", resp.getHeader("Content-Type"));
            assertTrue(two.await(5, TimeUnit.SECONDS), "a point with the model's latency: " + got);
            synchronized (got) {
                assertTrue(got.toString().startsWith("event: history\ndata: ["), got.toString());
            }
            c.close();
            http.close();
        }
    }
}
