package dev.hedge.server;

import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.micrometer.Label;
import io.vertx.micrometer.MicrometerMetricsFactory;
import io.vertx.micrometer.MicrometerMetricsOptions;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code hedge serve}: the Open Inference Protocol (KServe v2) over HTTP/REST with the binary tensor data and
 * model repository extensions, Prometheus metrics at {@code /metrics} and a web page at {@code /}.
 *
 * <pre>{@code
 * try (HedgeServer s = HedgeServer.start(ServerOptions.defaults().withModels(List.of(Path.of("models"))))) {
 *     System.out.println(s.baseUrl());
 *     s.awaitShutdown();
 * }
 * }</pre>
 */
public final class HedgeServer implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(HedgeServer.class);
    private static final String HEADER_LENGTH = "Inference-Header-Content-Length";
    private static final int MAX_EVENT_CLIENTS = 16;
    /** Paths answered without a token: probes and the static page (which sends the token with its API calls). */
    private static final Set<String> OPEN_PATHS = Set.of("/v2/health/live", "/v2/health/ready", "/",
            "/favicon.ico");

    private final ServerOptions options;
    private final Metrics metrics;
    private final ModelRepository repository;
    private final InferenceExecutor executor;
    private final Vertx vertx;
    private final HttpServer http;
    private final byte[] token;
    private final String version;
    private final LatencyWindow window = new LatencyWindow();
    private final Set<HttpServerResponse> eventClients = ConcurrentHashMap.newKeySet();
    private final AtomicInteger inflight = new AtomicInteger();
    private final AtomicLong reservedBytes = new AtomicLong();
    private final long byteBudget;
    private final long rollTimer;
    private final byte[] page;
    private volatile boolean draining;
    private volatile boolean closed;

    private HedgeServer(ServerOptions o) throws Exception {
        this.options = o;
        this.token = readToken(o);
        this.version = readVersion();
        this.page = resource("index.html");
        // Request bodies held at once (being read or queued): enough for every worker and queue slot, within
        // a quarter of the heap, and never less than four maximal requests.
        this.byteBudget = Math.max(4 * o.maxBodyBytes(), Math.min(o.maxBodyBytes() * (o.workers() + o.maxQueue()),
                Runtime.getRuntime().maxMemory() / 4));
        this.metrics = new Metrics();
        this.repository = new ModelRepository(ModelRepository.sources(o.models(), o.modelName()), metrics,
                o.pollMs(), o.runtime(), o.conversion(), version);
        try {
            repository.start();
            this.executor = new InferenceExecutor(o, metrics);
        } catch (Exception | Error e) {
            repository.close();
            metrics.close();
            throw e;
        }
        metrics.gauge("hedge.inflight.requests", "HTTP requests being handled", inflight, AtomicInteger::get);
        MicrometerMetricsOptions mo = new MicrometerMetricsOptions().setEnabled(true)
                .setLabels(EnumSet.of(Label.HTTP_METHOD, Label.HTTP_CODE, Label.HTTP_ROUTE, Label.POOL_TYPE,
                        Label.POOL_NAME));
        // One event loop per core (Vert.x defaults to two): the loops only parse and answer, and under overload
        // fewer of them leave more CPU to the workers that compute.
        this.vertx = Vertx.builder().with(new VertxOptions().setMetricsOptions(mo)
                        .setEventLoopPoolSize(Runtime.getRuntime().availableProcessors()))
                .withMetrics(new MicrometerMetricsFactory(metrics.registry())).build();
        try {
            Router router = router();
            this.http = vertx.createHttpServer(new HttpServerOptions().setHost(o.host()).setPort(o.port())
                            .setMaxInitialLineLength(8192).setMaxHeaderSize(16384)
                            .setIdleTimeout(120).setIdleTimeoutUnit(TimeUnit.SECONDS))
                    .requestHandler(router);
            http.listen().await(30, TimeUnit.SECONDS);
        } catch (Exception e) {
            close();
            throw e;
        }
        this.rollTimer = vertx.setPeriodic(1000, id -> rollWindow());
        LOG.info("hedge serve listening on {} ({} workers, queue {}, batch max {} delay {} ms, auth {})",
                baseUrl(), o.workers(), o.maxQueue(), o.batchMax(), o.batchDelayMs(),
                token != null ? "bearer token" : "off");
    }

    /** Loads the models and starts listening; throws if the options are unsafe or the port is taken. */
    public static HedgeServer start(ServerOptions o) throws Exception {
        return new HedgeServer(o);
    }

    private static byte[] readToken(ServerOptions o) throws IOException {
        if (o.tokenFile() != null) {
            String t = Files.readString(o.tokenFile(), StandardCharsets.UTF_8).strip();
            if (t.isEmpty() || t.chars().anyMatch(c -> c <= 0x20 || c >= 0x7f)) {
                throw new IllegalArgumentException("--token-file " + o.tokenFile() + " must hold one token of "
                        + "printable ASCII characters without spaces");
            }
            if (t.length() < 16) {
                throw new IllegalArgumentException("--token-file " + o.tokenFile() + ": the token has " + t.length()
                        + " characters; use at least 16");
            }
            return t.getBytes(StandardCharsets.US_ASCII);
        }
        if (!isLoopback(o.host()) && !o.noAuth()) {
            throw new IllegalArgumentException("binding " + o.host() + " exposes the server beyond this machine: "
                    + "give --token-file FILE (clients then send 'Authorization: Bearer <token>'), or --no-auth "
                    + "if something in front of it (a KServe ingress, a firewall) already restricts access");
        }
        return null;
    }

    static boolean isLoopback(String host) {
        if (host.equals("localhost")) {
            return true;
        }
        try {
            return InetAddress.getByName(host).isLoopbackAddress();
        } catch (UnknownHostException e) {
            return false;
        }
    }

    private static String readVersion() throws IOException {
        Properties p = new Properties();
        try (InputStream in = HedgeServer.class.getResourceAsStream("version.properties")) {
            if (in != null) {
                p.load(in);
            }
        }
        return p.getProperty("version", "unknown");
    }

    private static byte[] resource(String name) throws IOException {
        try (InputStream in = HedgeServer.class.getResourceAsStream(name)) {
            if (in == null) {
                throw new IOException(name + " is missing from the server jar");
            }
            return in.readAllBytes();
        }
    }

    public int port() {
        return http.actualPort();
    }

    public String baseUrl() {
        String h = options.host().contains(":") ? "[" + options.host() + "]" : options.host();
        return "http://" + h + ":" + port();
    }

    public Metrics metrics() {
        return metrics;
    }

    public ModelRepository repository() {
        return repository;
    }

    // ---------------------------------------------------------------- routes

    private Router router() {
        Router r = Router.router(vertx);
        r.route().handler(this::admit);
        r.get("/v2/health/live").handler(ctx -> ctx.response().setStatusCode(200).end());
        r.get("/v2/health/ready").handler(ctx -> ctx.response()
                .setStatusCode(!draining && repository.allReady() ? 200 : 400).end());
        r.get("/v2").handler(this::serverMetadata);
        r.get("/v2/models/:name").handler(this::modelMetadata);
        r.get("/v2/models/:name/versions/:version").handler(this::modelMetadata);
        r.get("/v2/models/:name/ready").handler(this::modelReady);
        r.get("/v2/models/:name/versions/:version/ready").handler(this::modelReady);
        r.post("/v2/models/:name/infer").handler(this::readBody).handler(this::infer);
        r.post("/v2/models/:name/versions/:version/infer").handler(this::readBody).handler(this::infer);
        r.post("/v2/repository/index").handler(this::readBody).handler(this::index);
        r.post("/v2/repository/models/:name/load").handler(this::readBody).handler(ctx -> repositoryAction(ctx, true));
        r.post("/v2/repository/models/:name/unload").handler(this::readBody)
                .handler(ctx -> repositoryAction(ctx, false));
        r.get("/metrics").handler(ctx -> ctx.response()
                .putHeader(HttpHeaders.CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")
                .end(metrics.scrape()));
        r.get("/").handler(ctx -> ctx.response().putHeader(HttpHeaders.CONTENT_TYPE, "text/html; charset=utf-8")
                .putHeader("Content-Security-Policy", "default-src 'self'; script-src 'self' 'unsafe-inline'; "
                        + "style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:")
                .putHeader("X-Content-Type-Options", "nosniff")
                .end(Buffer.buffer(page)));
        r.get("/favicon.ico").handler(ctx -> ctx.response().setStatusCode(204).end());
        r.get("/ui/models").handler(this::uiModels);
        r.get("/ui/events").handler(this::uiEvents);
        r.route().failureHandler(this::failure);
        r.errorHandler(404, ctx -> sendError(ctx, ApiException.notFound("no route " + ctx.request().method() + " "
                + ModelNames.printable(ctx.request().path()))));
        r.errorHandler(405, ctx -> sendError(ctx, new ApiException(405, "method_not_allowed", "method "
                + ctx.request().method() + " is not allowed on " + ModelNames.printable(ctx.request().path()))));
        return r;
    }

    /** Counts the request, refuses it while draining, and checks the bearer token. */
    private void admit(RoutingContext ctx) {
        ctx.put("arrival", System.nanoTime());
        inflight.incrementAndGet();
        ctx.addEndHandler(ar -> inflight.decrementAndGet());
        String path = ctx.request().path();
        if (draining && !path.startsWith("/v2/health/")) {
            ctx.response().putHeader(HttpHeaders.RETRY_AFTER, "1");
            sendError(ctx, ApiException.unavailable("the server is shutting down"));
            return;
        }
        if (token != null && !OPEN_PATHS.contains(path) && !authorized(ctx.request().getHeader(
                HttpHeaders.AUTHORIZATION))) {
            ctx.response().putHeader("WWW-Authenticate", "Bearer realm=\"hedge\"");
            sendError(ctx, new ApiException(401, "unauthorized", "missing or wrong bearer token (send "
                    + "'Authorization: Bearer <token>')"));
            return;
        }
        ctx.next();
    }

    private boolean authorized(String header) {
        if (header == null || !header.regionMatches(true, 0, "Bearer ", 0, 7)) {
            return false;
        }
        byte[] given = header.substring(7).strip().getBytes(StandardCharsets.US_ASCII);
        return MessageDigest.isEqual(given, token);
    }

    /**
     * Reads the request body into memory, within --max-body-bytes (413 beyond it) and within the budget of
     * bodies held at once: a request whose declared (or, when chunked, maximal) size would pass the budget is
     * refused with 503 before its body is read.
     */
    private void readBody(RoutingContext ctx) {
        HttpServerRequest req = ctx.request();
        String encoding = req.getHeader(HttpHeaders.CONTENT_ENCODING);
        if (encoding != null && !encoding.equalsIgnoreCase("identity")) {
            // Decompressing would let a small body claim unbounded memory: bodies come uncompressed.
            sendError(ctx, new ApiException(415, "bad_request", "Content-Encoding '" + ModelNames.printable(encoding)
                    + "' is not accepted; send the body uncompressed"));
            return;
        }
        String cl = req.getHeader(HttpHeaders.CONTENT_LENGTH);
        long max = options.maxBodyBytes();
        long size = max;
        if (cl != null) {
            try {
                size = Long.parseLong(cl.trim());
            } catch (NumberFormatException e) {
                sendError(ctx, ApiException.badRequest("Content-Length '" + ModelNames.printable(cl)
                        + "' is not a number"));
                return;
            }
            if (size > max) {
                tooLarge(ctx, size);
                return;
            }
        }
        long reserved = size;
        if (reservedBytes.addAndGet(reserved) > byteBudget) {
            reservedBytes.addAndGet(-reserved);
            ctx.response().putHeader(HttpHeaders.RETRY_AFTER, "1");
            sendError(ctx, new ApiException(503, "overloaded", "too many request bodies in flight; retry shortly"));
            return;
        }
        ctx.addEndHandler(ar -> reservedBytes.addAndGet(-reserved));
        Buffer body = Buffer.buffer((int) Math.min(size, 1 << 16));
        boolean[] failed = {false};
        req.handler(chunk -> {
            if (failed[0]) {
                return;
            }
            if (body.length() + chunk.length() > max) {
                failed[0] = true;
                tooLarge(ctx, -1);
                return;
            }
            body.appendBuffer(chunk);
        });
        req.exceptionHandler(e -> failed[0] = true);
        req.endHandler(v -> {
            if (!failed[0]) {
                ctx.put("body", body);
                ctx.next();
            }
        });
        req.resume();
    }

    private void tooLarge(RoutingContext ctx, long size) {
        // The rest of the body is not read: the connection closes after the answer.
        ctx.response().putHeader(HttpHeaders.CONNECTION, "close");
        sendError(ctx, new ApiException(413, "too_large", "request body" + (size >= 0 ? " of " + size + " bytes"
                : "") + " exceeds the limit of " + options.maxBodyBytes() + " bytes (--max-body-bytes)"));
    }

    private static Buffer body(RoutingContext ctx) {
        Buffer b = ctx.get("body");
        return b == null ? Buffer.buffer() : b;
    }

    private void serverMetadata(RoutingContext ctx) {
        sendJson(ctx, 200, new JsonObject().put("name", "hedge").put("version", version)
                .put("extensions", new JsonArray().add("binary_tensor_data").add("model_repository")));
    }

    private void modelMetadata(RoutingContext ctx) {
        LoadedModel m = repository.resolve(ctx.pathParam("name"), ctx.pathParam("version"));
        ModelRepository.Entry e = repository.entry(m.name());
        JsonArray versions = new JsonArray();
        for (ModelRepository.Slot s : e.versions()) {
            if (s.current() != null) {
                versions.add(Integer.toString(s.version()));
            }
        }
        JsonObject meta = new JsonObject().put("name", m.name()).put("versions", versions).put("platform", "hedge")
                .put("inputs", tensors(m.model().inputs())).put("outputs", tensors(m.model().outputs()));
        meta.put("hedge", details(m, e));
        sendJson(ctx, 200, meta);
    }

    private static JsonArray tensors(List<dev.hedge.ir.ValueInfo> vs) {
        JsonArray a = new JsonArray();
        for (dev.hedge.ir.ValueInfo v : vs) {
            JsonArray shape = new JsonArray();
            if (v.dims() == null) {
                shape.add(-1);
            } else {
                v.dims().forEach(d -> shape.add(d.isFixed() ? d.value() : -1));
            }
            a.add(new JsonObject().put("name", v.name())
                    .put("datatype", v.dtype() == null ? "" : v.dtype().protocolName()).put("shape", shape));
        }
        return a;
    }

    /** Hedge's own model details: sizes, load figures, and the state and last error of every version. */
    private JsonObject details(LoadedModel m, ModelRepository.Entry e) {
        JsonArray states = new JsonArray();
        for (ModelRepository.Slot s : e.versions()) {
            JsonObject st = new JsonObject().put("version", Integer.toString(s.version())).put("state", s.state());
            if (s.error() != null) {
                st.put("last_load_error", s.error()).put("last_load_error_at", s.errorAt().toString());
            }
            states.add(st);
        }
        JsonObject d = new JsonObject().put("version", m.versionString()).put("format", m.format())
                .put("file", m.source().getFileName().toString()).put("file_bytes", m.fileBytes())
                .put("weight_bytes", m.weightBytes()).put("arena_bytes", m.arenaBytes())
                .put("load_ms", m.loadNanos() / 1e6).put("loaded_at", m.loadedAt().toString())
                .put("batchable", m.batchable()).put("version_states", states);
        JsonObject md = new JsonObject();
        m.model().metadata().forEach(md::put);
        d.put("metadata", md);
        JsonObject conversion = m.conversion();
        if (conversion != null) {
            JsonArray passes = (JsonArray) conversion.remove("passes");
            d.put("conversion", conversion);
            if (passes != null && !passes.isEmpty()) {
                d.put("conversion_passes", passes);
            }
        }
        return d;
    }

    private void modelReady(RoutingContext ctx) {
        String name = ctx.pathParam("name");
        String v = ctx.pathParam("version");
        ModelRepository.Entry e = repository.entry(name);
        boolean ready;
        if (e.unloaded()) {
            ready = false;
        } else if (v != null) {
            int n = ModelNames.checkVersion(v);
            ready = e.versions().stream().anyMatch(s -> s.version() == n && s.current() != null);
        } else {
            ready = e.latestReady() != null;
        }
        ctx.response().setStatusCode(ready ? 200 : 400).end();
    }

    private void infer(RoutingContext ctx) {
        long arrival = ctx.get("arrival");
        LoadedModel m = repository.resolve(ctx.pathParam("name"), ctx.pathParam("version"));
        ctx.put("model", m);
        ctx.addEndHandler(ar -> {
            long n = System.nanoTime() - arrival;
            int code = ctx.response().getStatusCode();
            metrics.request(m.name(), m.versionString(), code, n);
            window.record(m.name() + " v" + m.versionString(), n, code == 200);
        });
        // Under overload most requests are refused: refuse them before paying for parsing.
        if (executor.full()) {
            queueFull(ctx);
            return;
        }
        InferRequest parsed = RequestParser.parse(body(ctx).getBytes(),
                ctx.request().getHeader(HEADER_LENGTH));
        Binder.Bound bound = Binder.bind(m, parsed);
        InferenceExecutor.Task task = new InferenceExecutor.Task(m, bound);
        if (!executor.submit(task)) {
            queueFull(ctx);
            return;
        }
        Context context = vertx.getOrCreateContext();
        long left = options.timeoutMs() - TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - arrival);
        long timer = vertx.setTimer(Math.max(1, left), id -> task.result.completeExceptionally(
                new ApiException(504, "timeout", "no result within " + options.timeoutMs() + " ms (--timeout-ms)")));
        task.result.whenComplete((enc, err) -> context.runOnContext(v -> {
            vertx.cancelTimer(timer);
            if (err != null) {
                sendError(ctx, err instanceof ApiException a ? a
                        : new ApiException(500, "internal", "internal error: " + err));
                return;
            }
            HttpServerResponse resp = ctx.response();
            if (enc.jsonLength() >= 0) {
                resp.putHeader(HttpHeaders.CONTENT_TYPE, "application/octet-stream")
                        .putHeader(HEADER_LENGTH, Integer.toString(enc.jsonLength()));
            } else {
                resp.putHeader(HttpHeaders.CONTENT_TYPE, "application/json");
            }
            if (!resp.ended() && !resp.closed()) {
                resp.setStatusCode(200).end(Buffer.buffer(enc.body()));
            }
        }));
    }

    private void queueFull(RoutingContext ctx) {
        ctx.response().putHeader(HttpHeaders.RETRY_AFTER, "1");
        sendError(ctx, new ApiException(503, "queue_full", "the inference queue is full (" + options.maxQueue()
                + " waiting); retry shortly"));
    }

    private void index(RoutingContext ctx) {
        boolean readyOnly = false;
        Buffer b = body(ctx);
        if (b.length() > 0) {
            JsonObject req;
            try {
                req = new JsonObject(b);
            } catch (DecodeException | ClassCastException e) {
                throw ApiException.badRequest("malformed JSON: " + e.getMessage());
            }
            Object ready = req.getValue("ready");
            if (ready != null && !(ready instanceof Boolean)) {
                throw ApiException.badRequest("ready must be a boolean");
            }
            readyOnly = Boolean.TRUE.equals(ready);
        }
        JsonArray out = new JsonArray();
        for (ModelRepository.IndexEntry e : repository.index(readyOnly)) {
            JsonObject o = new JsonObject().put("name", e.name());
            if (e.version() != null) {
                o.put("version", e.version());
            }
            out.add(o.put("state", e.state()).put("reason", e.reason()));
        }
        sendJson(ctx, 200, out);
    }

    private void repositoryAction(RoutingContext ctx, boolean load) {
        String name = ModelNames.check(ctx.pathParam("name"));
        Buffer b = body(ctx);
        if (b.length() > 0) {
            try {
                new JsonObject(b);
            } catch (DecodeException | ClassCastException e) {
                throw ApiException.badRequest("malformed JSON: " + e.getMessage());
            }
        }
        Context context = vertx.getOrCreateContext();
        (load ? repository.load(name) : repository.unload(name)).whenComplete((v, err) -> context.runOnContext(x -> {
            if (err == null) {
                ctx.response().setStatusCode(200).end();
                return;
            }
            Throwable c = err instanceof java.util.concurrent.CompletionException && err.getCause() != null
                    ? err.getCause() : err;
            sendError(ctx, c instanceof ApiException a ? a
                    : new ApiException(500, "internal", ModelRepository.describe(c)));
        }));
    }

    // ---------------------------------------------------------------- web page data

    private void uiModels(RoutingContext ctx) {
        JsonArray models = new JsonArray();
        for (ModelRepository.Entry e : repository.entries()) {
            JsonArray versions = new JsonArray();
            for (ModelRepository.Slot s : e.versions()) {
                JsonObject v = new JsonObject().put("version", Integer.toString(s.version())).put("state", s.state())
                        .put("reason", s.reason());
                LoadedModel m = s.current();
                if (m != null) {
                    v.put("inputs", tensors(m.model().inputs())).put("outputs", tensors(m.model().outputs()))
                            .put("hedge", details(m, e));
                }
                versions.add(v);
            }
            models.add(new JsonObject().put("name", e.name()).put("unloaded", e.unloaded()).put("versions", versions));
        }
        sendJson(ctx, 200, new JsonObject().put("server", new JsonObject().put("version", version)
                .put("workers", options.workers()).put("max_queue", options.maxQueue())
                .put("batch_max", options.batchMax()).put("batch_delay_ms", options.batchDelayMs())
                .put("timeout_ms", options.timeoutMs()).put("auth", token != null)).put("models", models));
    }

    /** Server-sent events: the latency history, then one point per second. */
    private void uiEvents(RoutingContext ctx) {
        HttpServerResponse resp = ctx.response();
        if (eventClients.size() >= MAX_EVENT_CLIENTS) {
            sendError(ctx, new ApiException(503, "overloaded", "too many live charts open"));
            return;
        }
        resp.setChunked(true).putHeader(HttpHeaders.CONTENT_TYPE, "text/event-stream")
                .putHeader(HttpHeaders.CACHE_CONTROL, "no-cache");
        resp.write("event: history\ndata: " + window.history().encode() + "\n\n");
        eventClients.add(resp);
        resp.closeHandler(v -> eventClients.remove(resp));
        resp.endHandler(v -> eventClients.remove(resp));
    }

    private void rollWindow() {
        JsonObject point = window.roll(System.currentTimeMillis(), executor.depth());
        String msg = "data: " + point.encode() + "\n\n";
        for (HttpServerResponse r : eventClients) {
            // A client that does not read is dropped rather than buffered without bound.
            if (r.writeQueueFull()) {
                eventClients.remove(r);
                r.reset();
            } else {
                r.write(msg);
            }
        }
    }

    // ---------------------------------------------------------------- responses

    private void failure(RoutingContext ctx) {
        Throwable f = ctx.failure();
        ApiException e;
        if (f instanceof ApiException a) {
            e = a;
        } else if (f == null && ctx.statusCode() >= 400) {
            e = new ApiException(ctx.statusCode(), "bad_request", "request failed with status " + ctx.statusCode());
        } else {
            LOG.error("unexpected error on {} {}", ctx.request().method(), ctx.request().path(), f);
            e = new ApiException(500, "internal", "internal error: " + ModelRepository.describe(f));
        }
        sendError(ctx, e);
    }

    private void sendError(RoutingContext ctx, ApiException e) {
        LoadedModel m = ctx.get("model");
        metrics.failure(m == null ? Metrics.NO_MODEL : m.name(), m == null ? "" : m.versionString(), e.reason());
        HttpServerResponse resp = ctx.response();
        if (resp.ended() || resp.closed()) {
            return;
        }
        resp.setStatusCode(e.status()).putHeader(HttpHeaders.CONTENT_TYPE, "application/json")
                .end(Buffer.buffer(ResponseEncoder.error(e.getMessage())));
    }

    private static void sendJson(RoutingContext ctx, int status, Object json) {
        String s = json instanceof JsonObject o ? o.encode() : ((JsonArray) json).encode();
        ctx.response().setStatusCode(status).putHeader(HttpHeaders.CONTENT_TYPE, "application/json").end(s);
    }

    // ---------------------------------------------------------------- shutdown

    /**
     * Graceful stop: readiness turns false and new requests get 503, requests already admitted finish
     * (within the drain time), then the listener, workers and repository close.
     */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        draining = true;
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(options.drainMs());
        if (executor != null) {
            executor.shutdown(options.drainMs());
        }
        while (inflight.get() > eventClients.size() && System.nanoTime() < deadline) {
            try {
                Thread.sleep(10);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        if (vertx != null) {
            vertx.cancelTimer(rollTimer);
            eventClients.forEach(r -> r.end());
            // Admitted requests were drained above: connections still open are idle keep-alives.
            try {
                if (http != null) {
                    http.shutdown(200, TimeUnit.MILLISECONDS).await(10, TimeUnit.SECONDS);
                }
                vertx.close().await(10, TimeUnit.SECONDS);
            } catch (Exception e) {
                LOG.warn("closing the HTTP server: {}", e.toString());
            }
        }
        if (executor != null) {
            executor.close();
        }
        repository.close();
        metrics.close();
        LOG.info("hedge serve stopped");
    }

    /** Blocks until the JVM is asked to stop (SIGTERM, Ctrl-C), then shuts down gracefully. */
    public void awaitShutdown() throws InterruptedException {
        Thread hook = new Thread(this::close, "hedge-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        while (!closed) {
            Thread.sleep(200);
        }
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException shuttingDown) {
            // The hook is what closed it.
        }
    }

    Map<String, Object> state() {
        return Map.of("inflight", inflight.get(), "reserved", reservedBytes.get(), "queue", executor.depth());
    }
}
