package dev.hedge.server;

import dev.hedge.profiles.DeviceProfile;
import dev.hedge.profiles.Profiles;
import dev.hedge.profiles.host.ProfileSelector;
import dev.hedge.runtime.RuntimeOptions;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.function.Supplier;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code hedge serve}: options, start-up summary and the wait for SIGTERM. The {@code hedge} CLI's subclass
 * supplies the bundled example model for when no model is given.
 */
@Command(name = "serve", mixinStandardHelpOptions = true,
        description = {"Serve models over HTTP with the Open Inference Protocol (KServe v2 REST, as Triton and "
                + "OpenVINO Model Server clients speak it), Prometheus metrics at /metrics and a web page at /.",
                "MODEL_OR_DIR: a .hedge or .onnx file (ONNX is converted on load), a model directory with version "
                        + "subdirectories (name/1/model.hedge) or a repository directory of such models. Files are "
                        + "watched: a changed file is swapped in atomically, a bad one leaves the old version "
                        + "serving."})
public class ServeCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Parameters(arity = "0..*", paramLabel = "MODEL_OR_DIR",
            description = "Models to serve (default: the bundled example model).")
    List<Path> models = new ArrayList<>();

    @Option(names = "--host", paramLabel = "ADDR", defaultValue = ServerOptions.DEFAULT_HOST,
            description = "Address to bind (default: ${DEFAULT-VALUE}). Anything but loopback needs --token-file or "
                    + "--no-auth.")
    String host;

    @Option(names = "--port", paramLabel = "PORT", defaultValue = "8080",
            description = "TCP port; 0 picks a free one (default: ${DEFAULT-VALUE}).")
    int port;

    @Option(names = "--workers", paramLabel = "N", description = "Inference threads (default: the number of cores).")
    Integer workers;

    @Option(names = "--max-queue", paramLabel = "N", defaultValue = "64",
            description = "Requests that may wait for a worker; more get 503 with Retry-After (default: "
                    + "${DEFAULT-VALUE}).")
    int maxQueue;

    @Option(names = "--max-body-bytes", paramLabel = "N", defaultValue = "16777216",
            description = "Largest request body; larger ones get 413 (default: ${DEFAULT-VALUE}).")
    long maxBodyBytes;

    @Option(names = "--timeout-ms", paramLabel = "MS", defaultValue = "10000",
            description = "Per-request deadline; 504 after it (default: ${DEFAULT-VALUE}).")
    long timeoutMs;

    @Option(names = "--batch-max", paramLabel = "N", defaultValue = "1",
            description = "Dynamic batching: rows stacked along dimension 0 per run, for models whose inputs and "
                    + "outputs have a dynamic first dimension; 1 turns batching off (default: ${DEFAULT-VALUE}).")
    int batchMax;

    @Option(names = "--batch-delay-ms", paramLabel = "T", defaultValue = "0",
            description = "How long a request may wait for others to share its batch (default: ${DEFAULT-VALUE}).")
    long batchDelayMs;

    @Option(names = "--token-file", paramLabel = "F",
            description = "File holding the bearer token clients must send ('Authorization: Bearer <token>'); "
                    + "health probes and the page itself stay open.")
    Path tokenFile;

    @Option(names = "--no-auth", description = "Allow binding beyond loopback without a token (when something in "
            + "front, such as a KServe ingress, already controls access).")
    boolean noAuth;

    @Option(names = "--model-name", paramLabel = "NAME",
            description = "Name for the model when one model file or model directory is served (KServe passes the "
                    + "InferenceService name); default: from the path.")
    String modelName;

    @Option(names = "--poll-ms", paramLabel = "MS", defaultValue = "1000",
            description = "How often the model files are checked for changes; 0 turns hot reload off (default: "
                    + "${DEFAULT-VALUE}).")
    long pollMs;

    @Option(names = "--max-arena-bytes", paramLabel = "N", defaultValue = "268435456",
            description = "Largest working memory one request's shapes may need; larger ones get 400 (default: "
                    + "${DEFAULT-VALUE}).")
    long maxArenaBytes;

    @Option(names = "--backend", paramLabel = "NAME", defaultValue = "auto",
            description = "Backends the models run on: auto (the device profile's that are available here, in its "
                    + "order; without a profile every one available), java (the reference backend alone, for "
                    + "comparison), or names joined by '+' such as native+openblas (default: ${DEFAULT-VALUE}).")
    String backend;

    @Option(names = "--threads", paramLabel = "N",
            description = "Intra-op threads per model (default: the profile's threads, or every core, shared out "
                    + "among the workers, at least 1).")
    Integer threads;

    @Option(names = "--profile", paramLabel = "NAME|FILE", defaultValue = "auto",
            description = "Device profile ONNX models are converted for (see 'hedge profiles'): its precisions and "
                    + "memory budget are checked, and with --backend auto its backend order and threads are used. "
                    + "auto: the one 'hedge profiles detect' picks for this host; none: no profile (default: "
                    + "${DEFAULT-VALUE}).")
    String profile;

    @Option(names = "--compress", paramLabel = "MODE", defaultValue = ConversionPolicy.AUTO,
            description = "Compression of ONNX models with no convert.json next to them: auto (static int8 when "
                    + "a calib/ directory of calibration samples sits next to the model and the profile takes int8; "
                    + "otherwise none), none, or a 'hedge convert --quantize' mode such as int8-dynamic, applied "
                    + "where the profile takes its weights (default: ${DEFAULT-VALUE}).")
    String compress;

    @Option(names = "--cache-dir", paramLabel = "DIR",
            description = "Where converted ONNX models are kept, so that a restart does not convert them again; "
                    + "'none' turns the cache off (default: $XDG_CACHE_HOME/hedge/serve, or without that variable "
                    + "~/.cache/hedge/serve).")
    String cacheDir;

    @Option(names = "--drain-ms", paramLabel = "MS", defaultValue = "10000",
            description = "On SIGTERM, how long admitted requests may take to finish (default: ${DEFAULT-VALUE}).")
    long drainMs;

    private final Supplier<Path> defaultModel;
    private volatile HedgeServer running;

    /** @param defaultModel the model served when none is given (null: a model must be given) */
    public ServeCommand(Supplier<Path> defaultModel) {
        this.defaultModel = defaultModel;
    }

    public ServeCommand() {
        this(null);
    }

    /** The options as given (after parsing), for {@link HedgeServer#start}. */
    public ServerOptions options() {
        List<Path> paths = models;
        if (paths.isEmpty()) {
            if (defaultModel == null) {
                throw new CommandLine.ParameterException(spec.commandLine(), "give a model file or directory");
            }
            paths = List.of(defaultModel.get());
        }
        int w = workers != null ? workers : Math.max(1, Runtime.getRuntime().availableProcessors());
        if (threads != null && threads < 1) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--threads must be >= 1, got " + threads);
        }
        try {
            ConversionPolicy conversion = new ConversionPolicy(null, null, compress, cacheDirectory());
            conversion = resolveProfile(conversion);
            return new ServerOptions(paths, modelName, host, port, w, maxQueue, maxBodyBytes, timeoutMs,
                    batchMax, batchDelayMs, tokenFile, noAuth, pollMs, maxArenaBytes, drainMs,
                    runtimeOptions(backend, threads, Math.max(1, w), conversion.profile()), conversion);
        } catch (IllegalArgumentException | dev.hedge.runtime.InvalidInputException e) {
            throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage());
        }
    }

    /** {@code --profile}: auto detects this host's profile once, as {@code hedge profiles detect} does. */
    private ConversionPolicy resolveProfile(ConversionPolicy c) {
        String p = profile == null ? "auto" : profile.trim();
        if (p.equals("none")) {
            return c.withProfile(null, "no device profile (--profile none)");
        }
        if (!p.equals("auto")) {
            DeviceProfile d = Profiles.resolve(p);
            return c.withProfile(d, d.name() + " (--profile " + p + ")");
        }
        ProfileSelector.Selection s = ProfileSelector.host();
        return s.picked() == null ? c.withProfile(null, "no device profile (" + s.why() + ")")
                : c.withProfile(s.picked(), s.picked().name() + " (detected for this host)");
    }

    private Path cacheDirectory() {
        if (cacheDir != null) {
            return cacheDir.trim().equals("none") ? null : Path.of(cacheDir);
        }
        String xdg = System.getenv("XDG_CACHE_HOME");
        Path base = xdg != null && !xdg.isBlank() ? Path.of(xdg) : Path.of(System.getProperty("user.home"), ".cache");
        return base.resolve("hedge").resolve("serve");
    }

    /**
     * The backends and intra-op threads for {@code --backend} and {@code --threads} (null: not given). With
     * {@code auto} and a device profile: the profile's backends that are available here, in its order;
     * otherwise {@link RuntimeOptions#forBackends}. Without {@code --threads} the profile's threads (every
     * core) are shared out among the workers.
     */
    private static RuntimeOptions runtimeOptions(String backendName, Integer threadCount, int workerCount,
            DeviceProfile profile) {
        int cores = Runtime.getRuntime().availableProcessors();
        int profileThreads = profile == null || profile.threads() == 0 ? cores : profile.threads();
        int t = threadCount != null ? threadCount : Math.max(1, profileThreads / workerCount);
        RuntimeOptions o = "auto".equals(backendName) && profile != null
                ? RuntimeOptions.defaults().withBackendOrder(profile.backends())
                : RuntimeOptions.forBackends(backendName);
        return o.withThreads(t);
    }

    @Override
    public Integer call() throws Exception {
        ServerOptions o = options();
        PrintWriter out = spec.commandLine().getOut();
        HedgeServer server;
        try {
            server = HedgeServer.start(o);
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage());
        }
        try {
            Map<String, String> failed = server.repository().failures();
            boolean onlyFiles = o.models().stream().allMatch(p -> p.toFile().isFile());
            if (onlyFiles && !failed.isEmpty()) {
                // A model named on the command line that cannot load is an error, not a degraded start.
                Map.Entry<String, String> f = failed.entrySet().iterator().next();
                throw new dev.hedge.runtime.InvalidInputException("model " + f.getKey() + " failed to load: "
                        + f.getValue());
            }
            out.println(summary(server, o));
            out.flush();
            running = server;
            server.awaitShutdown();
        } finally {
            server.close();
        }
        return 0;
    }

    /** The server while {@link #call} runs it (tests stop it through this). */
    HedgeServer running() {
        return running;
    }

    static String summary(HedgeServer server, ServerOptions o) {
        StringBuilder b = new StringBuilder();
        b.append("hedge serve: ").append(server.baseUrl()).append("  (web page /, metrics /metrics, protocol /v2)\n");
        for (ModelRepository.Entry e : server.repository().entries()) {
            if (e.versions().isEmpty()) {
                b.append(String.format(Locale.ROOT, "  %-24s UNAVAILABLE  %s%n", e.name(),
                        ModelNames.printable(String.valueOf(e.problem))));
            }
            for (ModelRepository.Slot s : e.versions()) {
                LoadedModel m = s.current();
                String what = m == null ? s.reason() : String.format(Locale.ROOT, "%s, %,d bytes, loaded in %.0f ms",
                        m.format(), m.fileBytes(), m.loadNanos() / 1e6);
                b.append(String.format(Locale.ROOT, "  %-24s %-11s  %s%n", e.name() + " v" + s.version(), s.state(),
                        what));
            }
        }
        b.append("  ").append(OnnxConversion.describePolicy(o.conversion())).append('\n');
        b.append("  backends ").append(o.runtime().describe()).append(", ").append(o.runtime().threads())
                .append(o.runtime().threads() == 1 ? " thread" : " threads").append(" per model\n");
        for (String u : o.runtime().unavailable()) {
            b.append("  not used: ").append(u).append('\n');
        }
        b.append(String.format(Locale.ROOT,
                "  %d workers, queue %d, timeout %d ms, batching %s, auth %s, hot reload %s",
                o.workers(), o.maxQueue(), o.timeoutMs(), o.batchMax() > 1 ? "max " + o.batchMax() + " / "
                        + o.batchDelayMs() + " ms" : "off", o.tokenFile() != null ? "bearer token" : "off",
                o.pollMs() > 0 ? "every " + o.pollMs() + " ms" : "off"));
        return b.toString();
    }

    /** Runs {@code serve} alone (the {@code hedge} CLI is the usual way). */
    public static void main(String[] args) {
        System.exit(new CommandLine(new ServeCommand()).execute(args));
    }
}
