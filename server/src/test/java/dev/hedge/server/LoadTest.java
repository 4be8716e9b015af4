package dev.hedge.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.distribution.CountAtBucket;
import io.micrometer.core.instrument.distribution.HistogramSnapshot;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Bounded loopback load test: measures the server's saturation throughput with a closed loop, then offers
 * twice that rate open-loop for 30 seconds. Every request must be answered 200 (with a well-formed result) or
 * 503 (with Retry-After and a JSON error): none lost, none malformed; the queue never exceeds its bound and
 * the heap returns to where it was.
 */
class LoadTest {

    private static final String REQUEST = "{\"inputs\":[{\"name\":\"x\",\"shape\":[1,1],\"datatype\":\"FP32\","
            + "\"data\":[0.5]}]}";
    private static final int WORKERS = 2;
    private static final int MAX_QUEUE = 32;
    private static final long OVERLOAD_SECONDS = Long.getLong("hedge.load.seconds", 30);

    @TempDir
    Path dir;

    private static final class Tally {
        final AtomicLong sent = new AtomicLong();
        final AtomicLong ok = new AtomicLong();
        final AtomicLong busy = new AtomicLong();
        final AtomicLong malformed = new AtomicLong();
        final AtomicLong errors = new AtomicLong();
        final AtomicInteger outstanding = new AtomicInteger();
        final long[] latencies;
        final AtomicInteger nLat = new AtomicInteger();
        volatile String firstProblem;

        Tally(int capacity) {
            latencies = new long[capacity];
        }

        void problem(String p) {
            if (firstProblem == null) {
                firstProblem = p;
            }
        }
    }

    private static void send(WebClient client, Tally t, Runnable then) {
        long t0 = System.nanoTime();
        t.sent.incrementAndGet();
        t.outstanding.incrementAndGet();
        client.post("/v2/models/slow/infer").putHeader("Content-Type", "application/json")
                .sendBuffer(Buffer.buffer(REQUEST)).onComplete(ar -> {
                    long n = System.nanoTime() - t0;
                    int i = t.nLat.getAndIncrement();
                    if (i < t.latencies.length) {
                        t.latencies[i] = n;
                    }
                    if (ar.failed()) {
                        t.errors.incrementAndGet();
                        t.problem("client error: " + ar.cause());
                    } else {
                        classify(ar.result(), t);
                    }
                    t.outstanding.decrementAndGet();
                    if (then != null) {
                        then.run();
                    }
                });
    }

    private static void classify(HttpResponse<Buffer> r, Tally t) {
        try {
            if (r.statusCode() == 200) {
                JsonObject j = r.bodyAsJsonObject();
                JsonObject out = j.getJsonArray("outputs").getJsonObject(0);
                if (out.getString("name").equals("y") && out.getJsonArray("data").size() == 1
                        && out.getJsonArray("data").getNumber(0).floatValue() > 0) {
                    t.ok.incrementAndGet();
                    return;
                }
            } else if (r.statusCode() == 503 && "1".equals(r.getHeader("Retry-After"))
                    && r.bodyAsJsonObject().getString("error") != null) {
                t.busy.incrementAndGet();
                return;
            }
            t.problem("status " + r.statusCode() + ": " + r.bodyAsString());
        } catch (RuntimeException e) {
            t.problem("unparseable " + r.statusCode() + ": " + e);
        }
        t.malformed.incrementAndGet();
    }

    private static long heapAfterGc() throws InterruptedException {
        for (int i = 0; i < 3; i++) {
            System.gc();
            Thread.sleep(100);
        }
        return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    }

    @Test
    void twiceSaturationFor30Seconds() throws Exception {
        Path model = TestModels.write(TestModels.slow(128, 4), dir.resolve("slow.hedge"));
        // One client thread, as a client machine would have its own CPU: it should not outnumber the server's.
        Vertx vertx = Vertx.vertx(new io.vertx.core.VertxOptions().setEventLoopPoolSize(1));
        try (HedgeServer s = HedgeServer.start(ServerOptions.defaults().withModels(List.of(model))
                .withBind("127.0.0.1", 0).withWorkers(WORKERS, MAX_QUEUE).withTimeoutMs(10_000).withPollMs(0))) {
            WebClient client = WebClient.create(vertx, new WebClientOptions().setDefaultHost("127.0.0.1")
                    .setDefaultPort(s.port()).setKeepAlive(true), new PoolOptions().setHttp1MaxSize(256));

            // Saturation: a closed loop of 16 clients for 3 s (after 1 s of warm-up).
            Tally warm = new Tally(1 << 16);
            closedLoop(vertx, client, warm, 16, 1_000);
            Tally sat = new Tally(1 << 18);
            long t0 = System.nanoTime();
            closedLoop(vertx, client, sat, 16, 3_000);
            double saturation = sat.ok.get() / ((System.nanoTime() - t0) / 1e9);
            assertEquals(0, sat.malformed.get() + sat.errors.get(), sat.firstProblem);
            // Overload: open loop at twice the saturation rate.
            double rate = 2 * saturation;
            Tally t = new Tally((int) Math.min(50_000_000, rate * (OVERLOAD_SECONDS + 5)));
            long heapBefore = heapAfterGc();
            AtomicInteger maxDepth = new AtomicInteger();
            long start = System.nanoTime();
            long end = start + TimeUnit.SECONDS.toNanos(OVERLOAD_SECONDS);
            double[] due = {0};
            Promise<Void> finished = Promise.promise();
            vertx.setPeriodic(5, id -> {
                long now = System.nanoTime();
                if (now >= end) {
                    vertx.cancelTimer(id);
                    finished.complete();
                    return;
                }
                double target = rate * (now - start) / 1e9;
                while (due[0] < target) {
                    due[0]++;
                    send(client, t, null);
                }
                maxDepth.accumulateAndGet((int) s.metrics().registry().find("hedge.queue.depth").gauge().value(),
                        Math::max);
            });
            finished.future().await(OVERLOAD_SECONDS + 30, TimeUnit.SECONDS);
            long drainDeadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (t.outstanding.get() > 0 && System.nanoTime() < drainDeadline) {
                Thread.sleep(10);
            }
            double seconds = (System.nanoTime() - start) / 1e9;
            long heapAfter = heapAfterGc();

            long answered = t.ok.get() + t.busy.get() + t.malformed.get() + t.errors.get();
            long lost = t.sent.get() - answered;
            long[] lat = Arrays.copyOf(t.latencies, Math.min(t.nLat.get(), t.latencies.length));
            Arrays.sort(lat);
            System.out.printf("load test: saturation %.0f req/s (closed loop, 16 clients); offered %.0f req/s for "
                            + "%d s; system load average %.1f on %d cores%n", saturation, rate, OVERLOAD_SECONDS,
                    ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage(),
                    Runtime.getRuntime().availableProcessors());
            System.out.printf("load test: %d requests, %d x 200, %d x 503, %d malformed, %d client errors, lost %d; "
                            + "throughput %.0f x 200/s; client-observed latency p50 %.2f ms, p99 %.2f ms; max queue "
                            + "depth %d of %d; "
                            + "heap after GC %d MiB before, %d MiB after%n",
                    t.sent.get(), t.ok.get(), t.busy.get(), t.malformed.get(), t.errors.get(), lost,
                    t.ok.get() / seconds, pct(lat, 0.50), pct(lat, 0.99), maxDepth.get(), MAX_QUEUE,
                    heapBefore >> 20, heapAfter >> 20);
            Timer served = s.metrics().registry().find("hedge.inference.request").tags("code", "200").timer();
            System.out.printf("load test: server-side latency of the 200s (arrival to response, histogram bucket "
                    + "bounds): p50 <= %.2f ms, p99 <= %.2f ms%n", bucketQuantile(served, 0.50),
                    bucketQuantile(served, 0.99));

            assertEquals(0, lost, "lost requests");
            assertEquals(0, t.malformed.get() + t.errors.get(), "malformed or failed: " + t.firstProblem);
            assertTrue(t.busy.get() > 0, "at twice saturation some requests must be refused");
            // A floor, not a target: the machine is shared and the client runs in the same JVM.
            assertTrue(t.ok.get() > saturation * OVERLOAD_SECONDS * 0.1, "the server kept serving under overload");
            assertTrue(maxDepth.get() <= MAX_QUEUE, "queue depth " + maxDepth.get());
            assertTrue(heapAfter - heapBefore < 64L << 20, "heap grew by " + ((heapAfter - heapBefore) >> 20)
                    + " MiB");
            client.close();
        } finally {
            vertx.close().await(10, TimeUnit.SECONDS);
        }
    }

    /** The upper bound of the histogram bucket holding quantile {@code q}, in milliseconds. */
    private static double bucketQuantile(Timer timer, double q) {
        HistogramSnapshot h = timer.takeSnapshot();
        double rank = q * h.count();
        for (CountAtBucket b : h.histogramCounts()) {
            if (b.count() >= rank) {
                return b.bucket(TimeUnit.MILLISECONDS);
            }
        }
        return Double.POSITIVE_INFINITY;
    }

    private static double pct(long[] sorted, double p) {
        return sorted.length == 0 ? 0 : sorted[(int) Math.floor(p * (sorted.length - 1))] / 1e6;
    }

    private static void closedLoop(Vertx vertx, WebClient client, Tally t, int clients, long millis)
            throws Exception {
        long end = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
        CountDownLatch latch = new CountDownLatch(clients);
        for (int c = 0; c < clients; c++) {
            vertx.runOnContext(v -> next(client, t, end, latch));
        }
        assertTrue(latch.await(60, TimeUnit.SECONDS), "closed loop did not finish");
    }

    private static void next(WebClient client, Tally t, long end, CountDownLatch latch) {
        if (System.nanoTime() >= end) {
            latch.countDown();
            return;
        }
        send(client, t, () -> next(client, t, end, latch));
    }
}
