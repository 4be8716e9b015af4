package dev.hedge.server;

import dev.hedge.runtime.HedgeException;
import dev.hedge.runtime.RuntimeOptions;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The served models: model files, model directories ({@code name/1/model.hedge}, {@code name/2/model.onnx})
 * and repository directories holding several of those. Every change of state (start-up load, hot reload,
 * load and unload requests) runs on one thread, so they never race; requests read the current instance of a
 * version through a volatile field and keep the instance they got until they are answered.
 *
 * <p>Hot reload: each scan compares file size, modification time and identity. A changed file is loaded once
 * it has stayed the same for one scan (so a file being copied is not caught half-written); the new instance
 * replaces the old one only if it loads and plans, otherwise the old one keeps serving and the reason is kept
 * for the index, the model metadata, the log and the {@code hedge_model_load_failures_total} counter.
 */
public final class ModelRepository implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(ModelRepository.class);

    /** One row of the repository index (Triton's states: READY, UNAVAILABLE, LOADING). */
    public record IndexEntry(String name, String version, String state, String reason) {
    }

    sealed interface Source permits FileSource, ModelDirSource, RepoDirSource {
    }

    record FileSource(String name, Path file) implements Source {
    }

    record ModelDirSource(String name, Path dir) implements Source {
    }

    record RepoDirSource(Path dir) implements Source {
    }

    /** A model file's state, with what else decides an ONNX file's conversion (its options and data). */
    private record FileSig(long size, long mtimeNanos, Object key, List<Object> companions) {
        static FileSig of(Path p) throws IOException {
            BasicFileAttributes a = Files.readAttributes(p, BasicFileAttributes.class);
            return new FileSig(a.size(), a.lastModifiedTime().to(TimeUnit.NANOSECONDS), a.fileKey(),
                    ModelLoader.isOnnx(p) ? OnnxConversion.companions(p) : List.of());
        }
    }

    /** What a scan found for one model name: its version files, or why it has none. */
    private record Candidate(String name, Map<Integer, Path> versions, String problem) {
    }

    /** One version of a model. */
    public static final class Slot {
        final String name;
        final int version;
        volatile LoadedModel current;
        volatile Path file;
        volatile FileSig tried;
        volatile FileSig seen;
        volatile String error;
        volatile Instant errorAt;
        volatile boolean loading;

        Slot(String name, int version) {
            this.name = name;
            this.version = version;
        }

        public int version() {
            return version;
        }

        /** The instance serving now, or null. */
        public LoadedModel current() {
            return current;
        }

        /** Why the last load of this version's file failed, or null. */
        public String error() {
            return error;
        }

        public Instant errorAt() {
            return errorAt;
        }

        public String state() {
            return current != null ? "READY" : loading || tried == null ? "LOADING" : "UNAVAILABLE";
        }

        /** The reason shown in the index: the last failure, said relative to what still serves. */
        public String reason() {
            String e = error;
            if (e == null) {
                return current == null && tried == null ? "new file: loaded once it stops changing" : "";
            }
            LoadedModel c = current;
            return c == null ? e : "the new file failed to load; still serving the one loaded at " + c.loadedAt()
                    + ": " + e;
        }
    }

    /** One model name and its versions. */
    public static final class Entry {
        final String name;
        final ConcurrentSkipListMap<Integer, Slot> versions = new ConcurrentSkipListMap<>();
        volatile boolean unloaded;
        volatile String problem;

        Entry(String name) {
            this.name = name;
        }

        public String name() {
            return name;
        }

        public List<Slot> versions() {
            return List.copyOf(versions.values());
        }

        public boolean unloaded() {
            return unloaded;
        }

        /** The highest version with a serving instance, or null. */
        public Slot latestReady() {
            for (Slot s : versions.descendingMap().values()) {
                if (s.current != null) {
                    return s;
                }
            }
            return null;
        }
    }

    private final List<Source> sources;
    private final ModelLoader loader;
    private final Metrics metrics;
    private final long pollMs;
    private final Path snapshotDir;
    private final Map<String, Entry> entries = new ConcurrentHashMap<>();
    private final ScheduledExecutorService thread = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "hedge-model-repository");
        t.setDaemon(true);
        return t;
    });

    ModelRepository(List<Source> sources, Metrics metrics, long pollMs, RuntimeOptions runtime,
            ConversionPolicy conversion, String hedgeVersion) throws IOException {
        this.sources = List.copyOf(sources);
        this.metrics = metrics;
        this.pollMs = pollMs;
        this.snapshotDir = Files.createTempDirectory("hedge-serve-");
        this.loader = new ModelLoader(snapshotDir, runtime, conversion, hedgeVersion);
    }

    /**
     * Sorts command-line paths into sources. A file is one model (named after the file, or after its directory
     * when the file is called {@code model.*}); a directory with numeric subdirectories is one model with
     * versions; any other directory is a repository of models.
     */
    static List<Source> sources(List<Path> paths, String modelName) {
        List<Source> out = new ArrayList<>();
        Set<String> names = new HashSet<>();
        for (Path p : paths) {
            if (!Files.exists(p)) {
                throw new IllegalArgumentException(p + ": no such file or directory");
            }
            Source s;
            if (Files.isRegularFile(p)) {
                if (!ModelLoader.isModelFile(p)) {
                    throw new IllegalArgumentException(p + ": not a model file (expected .hedge or .onnx)");
                }
                s = new FileSource(nameFor(p, modelName, paths.size()), p);
            } else if (hasVersionDirs(p)) {
                s = new ModelDirSource(nameFor(p, modelName, paths.size()), p);
            } else {
                if (modelName != null) {
                    throw new IllegalArgumentException("--model-name applies to one model file or model directory; "
                            + p + " is a repository of models");
                }
                s = new RepoDirSource(p);
            }
            String n = s instanceof FileSource f ? f.name() : s instanceof ModelDirSource d ? d.name() : null;
            if (n != null && !names.add(n)) {
                throw new IllegalArgumentException("two models would be named '" + n + "'; serve one of them from a "
                        + "repository directory or rename it");
            }
            out.add(s);
        }
        return out;
    }

    private static String nameFor(Path p, String modelName, int count) {
        String n;
        if (modelName != null) {
            if (count != 1) {
                throw new IllegalArgumentException("--model-name needs exactly one model path, got " + count);
            }
            n = modelName;
        } else {
            String file = p.getFileName().toString();
            if (Files.isRegularFile(p)) {
                String stem = file.substring(0, file.lastIndexOf('.'));
                n = stem.equals("model") && p.toAbsolutePath().getParent().getFileName() != null
                        ? p.toAbsolutePath().getParent().getFileName().toString() : stem;
            } else {
                n = p.toAbsolutePath().normalize().getFileName().toString();
            }
        }
        if (!ModelNames.isValid(n)) {
            throw new IllegalArgumentException("model name '" + n + "' (from " + p + ") is not allowed: use letters, "
                    + "digits, '_', '-' and '.' (give --model-name)");
        }
        return n;
    }

    private static boolean hasVersionDirs(Path dir) {
        try (Stream<Path> s = Files.list(dir)) {
            return s.anyMatch(c -> Files.isDirectory(c) && ModelNames.isVersion(c.getFileName().toString()));
        } catch (IOException e) {
            return false;
        }
    }

    /** Loads everything once (in the caller's time), then watches for changes if polling is on. */
    void start() throws InterruptedException {
        run(() -> sync(true, false, null));
        if (pollMs > 0) {
            thread.scheduleWithFixedDelay(() -> {
                try {
                    sync(false, false, null);
                } catch (RuntimeException e) {
                    LOG.warn("model repository scan failed: {}", e.toString());
                }
            }, pollMs, pollMs, TimeUnit.MILLISECONDS);
        }
    }

    private void run(Runnable r) throws InterruptedException {
        try {
            thread.submit(r).get();
        } catch (ExecutionException e) {
            throw e.getCause() instanceof RuntimeException re ? re : new IllegalStateException(e.getCause());
        }
    }

    /** Loads or reloads a model from disk now (the repository extension's load). */
    CompletableFuture<Void> load(String name) {
        ModelNames.check(name);
        return CompletableFuture.runAsync(() -> {
            sync(false, true, name);
            Entry e = entries.get(name);
            if (e == null) {
                throw ApiException.notFound("no model '" + name + "' in the served paths");
            }
            if (e.latestReady() == null) {
                String why = e.versions.values().stream().map(s -> "version " + s.version + ": " + s.error)
                        .reduce((a, b) -> a + "; " + b).orElse(e.problem);
                throw new ApiException(400, "load_failed", "model '" + name + "' failed to load: " + why);
            }
        }, thread);
    }

    /** Stops serving a model until it is loaded again (the repository extension's unload). */
    CompletableFuture<Void> unload(String name) {
        ModelNames.check(name);
        return CompletableFuture.runAsync(() -> {
            Entry e = entries.get(name);
            if (e == null) {
                throw ApiException.notFound("model '" + name + "' is not in the repository");
            }
            e.unloaded = true;
            for (Slot s : List.copyOf(e.versions.values())) {
                remove(e, s);
            }
            LOG.info("model {} unloaded", name);
        }, thread);
    }

    private void sync(boolean initial, boolean force, String only) {
        Map<String, Candidate> found = scan();
        for (Candidate c : found.values()) {
            if (only != null && !only.equals(c.name)) {
                continue;
            }
            Entry e = entries.computeIfAbsent(c.name, Entry::new);
            e.problem = c.problem;
            if (force) {
                e.unloaded = false;
            } else if (e.unloaded) {
                continue;
            }
            for (Map.Entry<Integer, Path> v : c.versions.entrySet()) {
                Slot s = e.versions.computeIfAbsent(v.getKey(), k -> newSlot(c.name, k));
                FileSig sig;
                try {
                    sig = FileSig.of(v.getValue());
                } catch (IOException gone) {
                    continue;
                }
                boolean changed = !sig.equals(s.tried) || !v.getValue().equals(s.file);
                if (!changed && !force) {
                    continue;
                }
                if (!initial && !force && !sig.equals(s.seen)) {
                    s.seen = sig;
                    continue;
                }
                s.seen = sig;
                loadSlot(s, v.getValue(), sig);
            }
            for (Slot s : List.copyOf(e.versions.values())) {
                if (!c.versions.containsKey(s.version)) {
                    remove(e, s);
                }
            }
        }
        for (Entry e : List.copyOf(entries.values())) {
            if (!found.containsKey(e.name) && (only == null || only.equals(e.name))) {
                for (Slot s : List.copyOf(e.versions.values())) {
                    remove(e, s);
                }
                entries.remove(e.name);
                LOG.info("model {} is gone from disk", e.name);
            }
        }
    }

    private Slot newSlot(String name, int version) {
        Slot s = new Slot(name, version);
        metrics.versionAdded(name, version, () -> s.current);
        return s;
    }

    private void remove(Entry e, Slot s) {
        e.versions.remove(s.version);
        s.current = null;
        metrics.versionRemoved(e.name, s.version);
        LOG.info("model {} version {} removed; requests already routed to it finish on it", e.name, s.version);
    }

    private void loadSlot(Slot s, Path file, FileSig sig) {
        s.loading = true;
        long t0 = System.nanoTime();
        try {
            LoadedModel m = loader.load(s.name, s.version, file);
            LoadedModel old = s.current;
            s.current = m;
            s.error = null;
            s.errorAt = null;
            metrics.modelLoad(s.name, Integer.toString(s.version), true, System.nanoTime() - t0);
            LOG.info("model {} version {} {} from {} in {} ms ({} weight bytes, {} arena bytes)", s.name, s.version,
                    old == null ? "loaded" : "reloaded", file, (System.nanoTime() - t0) / 1_000_000,
                    m.weightBytes(), m.arenaBytes());
        } catch (Exception | StackOverflowError ex) {
            s.error = describe(ex);
            s.errorAt = Instant.now();
            metrics.modelLoad(s.name, Integer.toString(s.version), false, System.nanoTime() - t0);
            LOG.warn("model {} version {}: {} failed to load ({}): {}", s.name, s.version, file,
                    s.current != null ? "the previous instance keeps serving" : "not serving", s.error);
        } finally {
            s.tried = sig;
            s.file = file;
            s.loading = false;
        }
    }

    static String describe(Throwable ex) {
        String m = ex.getMessage();
        if (ex instanceof HedgeException && m != null) {
            return m;
        }
        return ex.getClass().getSimpleName() + (m == null ? "" : ": " + m);
    }

    private Map<String, Candidate> scan() {
        Map<String, Candidate> out = new TreeMap<>();
        for (Source src : sources) {
            if (src instanceof FileSource f) {
                out.put(f.name(), Files.isRegularFile(f.file()) ? new Candidate(f.name(), Map.of(1, f.file()), null)
                        : new Candidate(f.name(), Map.of(), f.file() + " does not exist"));
            } else if (src instanceof ModelDirSource d) {
                out.put(d.name(), scanModelDir(d.name(), d.dir()));
            } else if (src instanceof RepoDirSource r) {
                for (Path child : list(r.dir())) {
                    String fn = child.getFileName().toString();
                    if (Files.isDirectory(child) && ModelNames.isValid(fn)) {
                        out.putIfAbsent(fn, scanModelDir(fn, child));
                    } else if (Files.isRegularFile(child) && ModelLoader.isModelFile(child)) {
                        String stem = fn.substring(0, fn.lastIndexOf('.'));
                        if (ModelNames.isValid(stem) && !out.containsKey(stem)) {
                            out.put(stem, new Candidate(stem, Map.of(1, child), null));
                        }
                    }
                }
            }
        }
        return out;
    }

    /** Versions are numeric subdirectories; a model file directly in the directory is version 1. */
    private static Candidate scanModelDir(String name, Path dir) {
        Map<Integer, Path> versions = new TreeMap<>();
        for (Path child : list(dir)) {
            String fn = child.getFileName().toString();
            if (Files.isDirectory(child) && ModelNames.isVersion(fn)) {
                Path f = modelFileIn(child);
                if (f != null) {
                    versions.put(Integer.parseInt(fn), f);
                }
            }
        }
        if (versions.isEmpty()) {
            Path f = modelFileIn(dir);
            if (f != null) {
                versions.put(1, f);
            }
        }
        return new Candidate(name, versions, versions.isEmpty()
                ? "no model file (model.hedge or model.onnx) in " + dir + " or its version directories" : null);
    }

    /** model.hedge, else model.onnx, else the first other .hedge or .onnx file by name. */
    private static Path modelFileIn(Path dir) {
        List<Path> files = list(dir).stream().filter(Files::isRegularFile).filter(ModelLoader::isModelFile)
                .sorted(Comparator.comparing((Path p) -> rank(p.getFileName().toString()))
                        .thenComparing(p -> p.getFileName().toString()))
                .toList();
        return files.isEmpty() ? null : files.get(0);
    }

    private static int rank(String fileName) {
        String n = fileName.toLowerCase(Locale.ROOT);
        return n.equals("model.hedge") ? 0 : n.equals("model.onnx") ? 1 : n.endsWith(".hedge") ? 2 : 3;
    }

    /** Directory entries, without hidden files (writers use them for temporary files). */
    private static List<Path> list(Path dir) {
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> !p.getFileName().toString().startsWith(".")).sorted().toList();
        } catch (IOException e) {
            return List.of();
        }
    }

    /** The instance a request for {@code name} (and optionally a version) is answered by. */
    LoadedModel resolve(String name, String version) {
        ModelNames.check(name);
        Entry e = entries.get(name);
        if (e == null) {
            throw ApiException.notFound("model '" + name + "' is not served");
        }
        if (e.unloaded) {
            throw ApiException.unavailable("model '" + name + "' is unloaded; POST /v2/repository/models/" + name
                    + "/load loads it");
        }
        if (version != null) {
            int v = ModelNames.checkVersion(version);
            Slot s = e.versions.get(v);
            if (s == null) {
                throw ApiException.notFound("model '" + name + "' has no version " + v + "; its versions are "
                        + e.versions.keySet());
            }
            LoadedModel m = s.current;
            if (m == null) {
                throw ApiException.unavailable("version " + v + " of model '" + name + "' is not ready: "
                        + (s.error != null ? s.error : s.state().toLowerCase(Locale.ROOT)));
            }
            return m;
        }
        Slot s = e.latestReady();
        if (s == null || s.current == null) {
            throw ApiException.unavailable("model '" + name + "' has no ready version: " + reasons(e));
        }
        return s.current;
    }

    private static String reasons(Entry e) {
        if (e.versions.isEmpty()) {
            return Objects.requireNonNullElse(e.problem, "no versions");
        }
        StringBuilder b = new StringBuilder();
        for (Slot s : e.versions.values()) {
            b.append(b.length() > 0 ? "; " : "").append("version ").append(s.version).append(": ")
                    .append(s.error != null ? s.error : s.state().toLowerCase(Locale.ROOT));
        }
        return b.toString();
    }

    /** The entry for a name, or throws 404 (for metadata of models that are not ready). */
    Entry entry(String name) {
        ModelNames.check(name);
        Entry e = entries.get(name);
        if (e == null) {
            throw ApiException.notFound("model '" + name + "' is not served");
        }
        return e;
    }

    List<Entry> entries() {
        return entries.values().stream().sorted(Comparator.comparing(Entry::name)).toList();
    }

    List<IndexEntry> index(boolean readyOnly) {
        List<IndexEntry> out = new ArrayList<>();
        for (Entry e : entries()) {
            if (e.unloaded || e.versions.isEmpty()) {
                if (!readyOnly) {
                    out.add(new IndexEntry(e.name, null, "UNAVAILABLE",
                            e.unloaded ? "unloaded" : Objects.requireNonNullElse(e.problem, "no versions")));
                }
                continue;
            }
            for (Slot s : e.versions.values()) {
                if (!readyOnly || s.current != null) {
                    out.add(new IndexEntry(e.name, Integer.toString(s.version), s.state(), s.reason()));
                }
            }
        }
        return out;
    }

    /**
     * Ready when some model is ready and every model that has been loaded at least once (not unloaded on
     * request) has a ready version. Models that appear while serving count from their first load attempt on,
     * so adding one to the repository does not make a serving instance unready while its file is copied.
     */
    boolean allReady() {
        boolean any = false;
        for (Entry e : entries.values()) {
            if (e.unloaded) {
                continue;
            }
            if (e.latestReady() != null) {
                any = true;
            } else if (e.versions.values().stream().anyMatch(s -> s.tried != null)) {
                return false;
            }
        }
        return any;
    }

    /** Load failures of the start-up scan, by model, for callers that want to fail fast. */
    Map<String, String> failures() {
        Map<String, String> out = new LinkedHashMap<>();
        for (Entry e : entries()) {
            if (e.latestReady() == null) {
                out.put(e.name, reasons(e));
            }
        }
        return out;
    }

    @Override
    public void close() {
        thread.shutdownNow();
        try {
            thread.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        try (Stream<Path> s = Files.list(snapshotDir)) {
            for (Path p : s.toList()) {
                Files.deleteIfExists(p);
            }
            Files.deleteIfExists(snapshotDir);
        } catch (IOException ignored) {
            // Best effort: the snapshots were unlinked after mapping already.
        }
    }
}
