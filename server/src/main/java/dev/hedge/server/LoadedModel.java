package dev.hedge.server;

import dev.hedge.ir.Dim;
import dev.hedge.ir.ValueInfo;
import dev.hedge.runtime.Model;
import dev.hedge.runtime.Session;
import dev.hedge.runtime.Tensor;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedDeque;

/**
 * One loaded version of a model: immutable apart from its pool of sessions. A request holds the instance it
 * was routed to until it is answered, so a hot reload (which installs a new instance) never disturbs it.
 */
public final class LoadedModel {

    private final String name;
    private final int version;
    private final Path source;
    private final String format;
    private final Model model;
    private final long fileBytes;
    private final long weightBytes;
    private final long arenaBytes;
    private final long loadNanos;
    private final Instant loadedAt;
    private final JsonObject conversion;
    private final boolean batchable;
    // Sessions are not thread-safe: each is used by one worker at a time and returned after the run.
    private final ConcurrentLinkedDeque<Session> sessions = new ConcurrentLinkedDeque<>();

    LoadedModel(String name, int version, Path source, String format, Model model, long fileBytes, long arenaBytes,
            long loadNanos, JsonObject conversion) {
        this.name = name;
        this.version = version;
        this.source = source;
        this.format = format;
        this.model = model;
        this.fileBytes = fileBytes;
        this.weightBytes = model.graph().initializers().values().stream().mapToLong(Tensor::byteSize).sum();
        this.arenaBytes = arenaBytes;
        this.loadNanos = loadNanos;
        this.loadedAt = Instant.now();
        this.conversion = conversion == null ? null : conversion.copy();
        this.batchable = leadingDimDynamic(model.inputs()) && leadingDimDynamic(model.outputs());
    }

    private static boolean leadingDimDynamic(List<ValueInfo> values) {
        for (ValueInfo v : values) {
            List<Dim> dims = v.dims();
            if (dims == null || dims.isEmpty() || dims.get(0).isFixed()) {
                return false;
            }
        }
        return !values.isEmpty();
    }

    public String name() {
        return name;
    }

    public int version() {
        return version;
    }

    public String versionString() {
        return Integer.toString(version);
    }

    public Path source() {
        return source;
    }

    /** "hedge" for .hedge files, "onnx" for ONNX files converted on load. */
    public String format() {
        return format;
    }

    public Model model() {
        return model;
    }

    public long fileBytes() {
        return fileBytes;
    }

    /** Bytes of the stored constants (encoded size for compressed ones). */
    public long weightBytes() {
        return weightBytes;
    }

    /** Working memory of one run at the default shapes (dynamic dimensions = 1), or -1 if unknown. */
    public long arenaBytes() {
        return arenaBytes;
    }

    public long loadNanos() {
        return loadNanos;
    }

    public Instant loadedAt() {
        return loadedAt;
    }

    /**
     * For models converted from ONNX on load: the profile, precision and why, the profile check's figures, the
     * cache outcome, the conversion time and what each pass did; null for .hedge files.
     */
    public JsonObject conversion() {
        return conversion == null ? null : conversion.copy();
    }

    /** Whether requests may be stacked along dimension 0: every input and output has a dynamic leading dim. */
    public boolean batchable() {
        return batchable;
    }

    Session borrowSession() {
        Session s = sessions.pollFirst();
        return s != null ? s : model.newSession();
    }

    void returnSession(Session s) {
        sessions.offerFirst(s);
    }
}
