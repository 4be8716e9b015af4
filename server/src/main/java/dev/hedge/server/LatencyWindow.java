package dev.hedge.server;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Per-second latency figures per model for the web page's live chart: request count, errors, p50 and p99
 * over each second (from a bounded reservoir sample), and the last two minutes of them.
 */
final class LatencyWindow {

    private static final int RESERVOIR = 1024;
    private static final int HISTORY = 120;

    private static final class Bucket {
        final double[] samples = new double[RESERVOIR];
        long count;
        long errors;
    }

    private final Map<String, Bucket> current = new TreeMap<>();
    private final ArrayDeque<JsonObject> history = new ArrayDeque<>();

    synchronized void record(String model, long nanos, boolean ok) {
        Bucket b = current.computeIfAbsent(model, k -> new Bucket());
        double ms = nanos / 1e6;
        if (b.count < RESERVOIR) {
            b.samples[(int) b.count] = ms;
        } else {
            long j = ThreadLocalRandom.current().nextLong(b.count + 1);
            if (j < RESERVOIR) {
                b.samples[(int) j] = ms;
            }
        }
        b.count++;
        if (!ok) {
            b.errors++;
        }
    }

    /** Closes the current second: returns its point {t, queue, models: {name: {count, errors, p50, p99}}}. */
    synchronized JsonObject roll(long epochMillis, int queueDepth) {
        JsonObject models = new JsonObject();
        for (Map.Entry<String, Bucket> e : current.entrySet()) {
            Bucket b = e.getValue();
            int n = (int) Math.min(b.count, RESERVOIR);
            double[] s = Arrays.copyOf(b.samples, n);
            Arrays.sort(s);
            models.put(e.getKey(), new JsonObject().put("count", b.count).put("errors", b.errors)
                    .put("p50", n == 0 ? 0 : s[(int) Math.floor(0.50 * (n - 1))])
                    .put("p99", n == 0 ? 0 : s[(int) Math.floor(0.99 * (n - 1))]));
        }
        current.clear();
        JsonObject point = new JsonObject().put("t", epochMillis).put("queue", queueDepth).put("models", models);
        history.addLast(point);
        while (history.size() > HISTORY) {
            history.removeFirst();
        }
        return point;
    }

    synchronized JsonArray history() {
        return new JsonArray(history.stream().map(JsonObject::copy).toList());
    }
}
