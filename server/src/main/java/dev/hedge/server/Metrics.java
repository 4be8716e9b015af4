package dev.hedge.server;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.FileDescriptorMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import java.util.function.ToDoubleFunction;

/**
 * The server's Prometheus registry and its own meters. Tags carry only names the server chose (loaded model
 * names, versions, a fixed set of reasons), never text from a request, so the number of series is bounded.
 */
public final class Metrics implements AutoCloseable {

    /** Model tag for failures not tied to a loaded model (unknown model, malformed URL, auth). */
    static final String NO_MODEL = "";

    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final JvmGcMetrics gc = new JvmGcMetrics();
    private final Map<String, List<Meter>> versionGauges = new ConcurrentHashMap<>();
    private final Map<String, Timer> timers = new ConcurrentHashMap<>();
    private final Map<String, DistributionSummary> batchSizes = new ConcurrentHashMap<>();
    private final Map<String, Counter> counters = new ConcurrentHashMap<>();

    public Metrics() {
        new JvmMemoryMetrics().bindTo(registry);
        gc.bindTo(registry);
        new JvmThreadMetrics().bindTo(registry);
        new ClassLoaderMetrics().bindTo(registry);
        new ProcessorMetrics().bindTo(registry);
        new UptimeMetrics().bindTo(registry);
        new FileDescriptorMetrics().bindTo(registry);
    }

    public PrometheusMeterRegistry registry() {
        return registry;
    }

    public String scrape() {
        return registry.scrape();
    }

    <T> void gauge(String name, String description, T obj, ToDoubleFunction<T> fn) {
        Gauge.builder(name, obj, fn).description(description).strongReference(true).register(registry);
    }

    private Timer timer(String name, String description, String model, String version, String... extra) {
        String key = name + '|' + model + '|' + version + '|' + String.join("|", extra);
        return timers.computeIfAbsent(key, k -> Timer.builder(name).description(description)
                .tags(Tags.of("model", model, "version", version).and(extra))
                .publishPercentileHistogram()
                .minimumExpectedValue(Duration.ofNanos(100_000))
                .maximumExpectedValue(Duration.ofSeconds(60))
                .register(registry));
    }

    /** Arrival to response of one inference request; {@code code} is the HTTP status. */
    void request(String model, String version, int code, long nanos) {
        timer("hedge.inference.request", "Inference requests: arrival to response", model, version,
                "code", Integer.toString(code)).record(nanos, TimeUnit.NANOSECONDS);
    }

    /** Time a request waited for a worker (including the dynamic-batching wait). */
    void queueTime(String model, String version, long nanos) {
        timer("hedge.inference.queue", "Time from admission to the start of computation", model, version)
                .record(nanos, TimeUnit.NANOSECONDS);
    }

    /** Time of one model run (a whole batch) including input stacking and output encoding. */
    void computeTime(String model, String version, long nanos) {
        timer("hedge.inference.compute", "Model run time per batch, with input stacking and output encoding",
                model, version).record(nanos, TimeUnit.NANOSECONDS);
    }

    void batch(String model, String version, int requests) {
        batchSizes.computeIfAbsent(model + '|' + version, k -> DistributionSummary.builder("hedge.inference.batch.size")
                .description("Requests per model run (1 without dynamic batching)")
                .tags("model", model, "version", version)
                .serviceLevelObjectives(1, 2, 4, 8, 16, 32, 64, 128)
                .register(registry)).record(requests);
    }

    void failure(String model, String version, String reason) {
        counter("hedge.inference.failures", "Failed inference and API requests by reason", "model", model,
                "version", version, "reason", reason).increment();
    }

    void modelLoad(String model, String version, boolean ok, long nanos) {
        timer("hedge.model.load", "Model load (read or convert, verify, plan) time", model, version,
                "outcome", ok ? "success" : "failure").record(nanos, TimeUnit.NANOSECONDS);
        if (!ok) {
            counter("hedge.model.load.failures", "Model files that failed to load (the previous version keeps "
                    + "serving)", "model", model, "version", version).increment();
        }
    }

    private Counter counter(String name, String description, String... tags) {
        String key = name + '|' + String.join("|", tags);
        return counters.computeIfAbsent(key, k -> Counter.builder(name).description(description).tags(tags)
                .register(registry));
    }

    /** Size and readiness gauges of one model version; they read whatever instance is current. */
    void versionAdded(String model, int version, Supplier<LoadedModel> current) {
        String v = Integer.toString(version);
        Tags tags = Tags.of("model", model, "version", v);
        List<Meter> meters = new ArrayList<>();
        meters.add(Gauge.builder("hedge.model.weight.bytes", current, s -> bytes(s.get(), LoadedModel::weightBytes))
                .description("Bytes of the model's stored weights").tags(tags).strongReference(true)
                .register(registry));
        meters.add(Gauge.builder("hedge.model.arena.bytes", current, s -> bytes(s.get(), LoadedModel::arenaBytes))
                .description("Working-memory arena of one run at the default input shapes").tags(tags)
                .strongReference(true).register(registry));
        meters.add(Gauge.builder("hedge.model.file.bytes", current, s -> bytes(s.get(), LoadedModel::fileBytes))
                .description("Size of the model file").tags(tags).strongReference(true).register(registry));
        meters.add(Gauge.builder("hedge.model.ready", current, s -> s.get() != null ? 1 : 0)
                .description("1 while a loaded instance of this version serves requests").tags(tags)
                .strongReference(true).register(registry));
        List<Meter> old = versionGauges.put(model + '|' + v, meters);
        if (old != null) {
            old.forEach(registry::remove);
        }
    }

    void versionRemoved(String model, int version) {
        List<Meter> meters = versionGauges.remove(model + '|' + version);
        if (meters != null) {
            meters.forEach(registry::remove);
        }
    }

    private static double bytes(LoadedModel m, ToDoubleFunction<LoadedModel> f) {
        return m == null ? Double.NaN : f.applyAsDouble(m);
    }

    @Override
    public void close() {
        gc.close();
        registry.close();
    }
}
