package dev.hedge.server;

import dev.hedge.runtime.RuntimeOptions;
import java.nio.file.Path;
import java.util.List;

/**
 * Everything {@code hedge serve} can be told. {@link #defaults()} gives the documented defaults; the
 * {@code with*} methods return modified copies.
 *
 * @param models          model files (.hedge, .onnx), model directories or repository directories
 * @param modelName       name for the model when exactly one model file or model directory is served (KServe
 *                        passes the InferenceService name); null: derived from the path
 * @param host            bind address; anything but loopback needs a token or {@code noAuth}
 * @param port            TCP port; 0 picks a free one
 * @param workers         inference threads (one Session per model per thread)
 * @param maxQueue        requests waiting for a worker before new ones get 503
 * @param maxBodyBytes    largest request body; larger ones get 413
 * @param timeoutMs       per-request deadline from arrival to response; 504 after it
 * @param batchMax        rows (dimension 0) per dynamic batch; 1 disables batching
 * @param batchDelayMs    how long the first request of a batch may wait for others
 * @param tokenFile       file holding the bearer token; null: none
 * @param noAuth          explicitly allow a non-loopback bind without a token
 * @param pollMs          repository scan period for hot reload; 0 disables it
 * @param maxArenaBytes   largest working memory one request's shapes may need; larger ones get 400
 * @param drainMs         how long shutdown waits for in-flight requests
 * @param runtime         backends and intra-op threads models run with
 * @param conversion      how .onnx files are converted on load: device profile, default compression, cache
 */
public record ServerOptions(List<Path> models, String modelName, String host, int port, int workers, int maxQueue,
        long maxBodyBytes, long timeoutMs, int batchMax, long batchDelayMs, Path tokenFile, boolean noAuth,
        long pollMs, long maxArenaBytes, long drainMs, RuntimeOptions runtime, ConversionPolicy conversion) {

    public static final String DEFAULT_HOST = "127.0.0.1";
    public static final int DEFAULT_PORT = 8080;

    public ServerOptions {
        models = List.copyOf(models);
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("--port must be 0..65535, got " + port);
        }
        if (workers < 1) {
            throw new IllegalArgumentException("--workers must be >= 1, got " + workers);
        }
        if (maxQueue < 1) {
            throw new IllegalArgumentException("--max-queue must be >= 1, got " + maxQueue);
        }
        if (maxBodyBytes < 1024) {
            throw new IllegalArgumentException("--max-body-bytes must be >= 1024, got " + maxBodyBytes);
        }
        if (timeoutMs < 1) {
            throw new IllegalArgumentException("--timeout-ms must be >= 1, got " + timeoutMs);
        }
        if (batchMax < 1) {
            throw new IllegalArgumentException("--batch-max must be >= 1, got " + batchMax);
        }
        if (batchDelayMs < 0) {
            throw new IllegalArgumentException("--batch-delay-ms must be >= 0, got " + batchDelayMs);
        }
        if (pollMs < 0) {
            throw new IllegalArgumentException("--poll-ms must be >= 0, got " + pollMs);
        }
        if (maxArenaBytes < 1) {
            throw new IllegalArgumentException("--max-arena-bytes must be >= 1, got " + maxArenaBytes);
        }
        if (drainMs < 0) {
            throw new IllegalArgumentException("--drain-ms must be >= 0, got " + drainMs);
        }
        if (runtime == null) {
            throw new IllegalArgumentException("runtime options are required");
        }
        conversion = conversion == null ? ConversionPolicy.defaults() : conversion;
    }

    public static ServerOptions defaults() {
        return new ServerOptions(List.of(), null, DEFAULT_HOST, DEFAULT_PORT,
                Math.max(1, Runtime.getRuntime().availableProcessors()), 64, 16L << 20, 10_000, 1, 0, null, false,
                1000, 256L << 20, 10_000, RuntimeOptions.defaults(), ConversionPolicy.defaults());
    }

    public ServerOptions withModels(List<Path> m) {
        return new ServerOptions(m, modelName, host, port, workers, maxQueue, maxBodyBytes, timeoutMs, batchMax,
                batchDelayMs, tokenFile, noAuth, pollMs, maxArenaBytes, drainMs, runtime, conversion);
    }

    public ServerOptions withModelName(String n) {
        return new ServerOptions(models, n, host, port, workers, maxQueue, maxBodyBytes, timeoutMs, batchMax,
                batchDelayMs, tokenFile, noAuth, pollMs, maxArenaBytes, drainMs, runtime, conversion);
    }

    public ServerOptions withBind(String h, int p) {
        return new ServerOptions(models, modelName, h, p, workers, maxQueue, maxBodyBytes, timeoutMs, batchMax,
                batchDelayMs, tokenFile, noAuth, pollMs, maxArenaBytes, drainMs, runtime, conversion);
    }

    public ServerOptions withWorkers(int w, int q) {
        return new ServerOptions(models, modelName, host, port, w, q, maxBodyBytes, timeoutMs, batchMax,
                batchDelayMs, tokenFile, noAuth, pollMs, maxArenaBytes, drainMs, runtime, conversion);
    }

    public ServerOptions withMaxBodyBytes(long b) {
        return new ServerOptions(models, modelName, host, port, workers, maxQueue, b, timeoutMs, batchMax,
                batchDelayMs, tokenFile, noAuth, pollMs, maxArenaBytes, drainMs, runtime, conversion);
    }

    public ServerOptions withTimeoutMs(long t) {
        return new ServerOptions(models, modelName, host, port, workers, maxQueue, maxBodyBytes, t, batchMax,
                batchDelayMs, tokenFile, noAuth, pollMs, maxArenaBytes, drainMs, runtime, conversion);
    }

    public ServerOptions withBatching(int max, long delayMs) {
        return new ServerOptions(models, modelName, host, port, workers, maxQueue, maxBodyBytes, timeoutMs, max,
                delayMs, tokenFile, noAuth, pollMs, maxArenaBytes, drainMs, runtime, conversion);
    }

    public ServerOptions withAuth(Path token, boolean disable) {
        return new ServerOptions(models, modelName, host, port, workers, maxQueue, maxBodyBytes, timeoutMs,
                batchMax, batchDelayMs, token, disable, pollMs, maxArenaBytes, drainMs, runtime, conversion);
    }

    public ServerOptions withPollMs(long p) {
        return new ServerOptions(models, modelName, host, port, workers, maxQueue, maxBodyBytes, timeoutMs,
                batchMax, batchDelayMs, tokenFile, noAuth, p, maxArenaBytes, drainMs, runtime, conversion);
    }

    public ServerOptions withMaxArenaBytes(long a) {
        return new ServerOptions(models, modelName, host, port, workers, maxQueue, maxBodyBytes, timeoutMs,
                batchMax, batchDelayMs, tokenFile, noAuth, pollMs, a, drainMs, runtime, conversion);
    }

    /** Backends and intra-op threads of every served model. */
    public ServerOptions withRuntime(RuntimeOptions r) {
        return new ServerOptions(models, modelName, host, port, workers, maxQueue, maxBodyBytes, timeoutMs,
                batchMax, batchDelayMs, tokenFile, noAuth, pollMs, maxArenaBytes, drainMs, r, conversion);
    }

    public ServerOptions withDrainMs(long d) {
        return new ServerOptions(models, modelName, host, port, workers, maxQueue, maxBodyBytes, timeoutMs,
                batchMax, batchDelayMs, tokenFile, noAuth, pollMs, maxArenaBytes, d, runtime, conversion);
    }

    /** How .onnx files are converted on load (device profile, default compression, cache). */
    public ServerOptions withConversion(ConversionPolicy c) {
        return new ServerOptions(models, modelName, host, port, workers, maxQueue, maxBodyBytes, timeoutMs,
                batchMax, batchDelayMs, tokenFile, noAuth, pollMs, maxArenaBytes, drainMs, runtime, c);
    }
}
