package dev.hedge.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.hedge.runtime.RuntimeOptions;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code hedge bench MODEL}: latency, throughput, memory and per-op profile, optionally against ONNX Runtime. */
@Command(name = "bench", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Measures a model (.hedge, or .onnx converted in memory): load time, latency min / median / "
                + "p90 / p99, throughput, peak RSS, planned arena and packed-weight bytes; optionally a per-op "
                + "profile and ONNX Runtime on the same inputs with the same thread count."})
public class BenchCommand implements Callable<Integer> {

    @Spec
    CommandLine.Model.CommandSpec spec;

    @Parameters(index = "0", paramLabel = "MODEL", description = "a .hedge or .onnx model")
    Path model;

    @Option(names = "--threads", paramLabel = "N", defaultValue = "1", description = "intra-op threads (default 1)")
    int threads;

    @Option(names = "--warmup", paramLabel = "N", defaultValue = "10", description = "untimed runs first (default 10)")
    int warmup;

    @Option(names = "--iterations", paramLabel = "N", defaultValue = "50", description = "timed runs (default 50)")
    int iterations;

    @Option(names = "--input", paramLabel = "NAME=FILE", description = "an input from a .npy or .pb (ONNX TensorProto) file")
    Map<String, Path> inputFiles = new LinkedHashMap<>();

    @Option(names = "--input-shape", paramLabel = "NAME=DIMS",
            description = "shape of a random input, e.g. x=1,3,224,224 (default: declared, dynamic dims 1)")
    Map<String, String> inputShapes = new LinkedHashMap<>();

    @Option(names = "--input-fill", paramLabel = "NAME=VALUE",
            description = "an input with every element VALUE (e.g. a sample rate), shaped as for random inputs")
    Map<String, Double> inputFills = new LinkedHashMap<>();

    @Option(names = "--backend", paramLabel = "NAME", defaultValue = "auto",
            description = "auto (every backend available here, in the host profile's order), java (the "
                    + "reference backend alone), or names joined by '+' such as native+openblas (default auto)")
    String backend;

    @Option(names = "--profile-ops", description = "time every node over extra runs and list the costliest")
    boolean profileOps;

    @Option(names = "--compare-onnxruntime", paramLabel = "ORIGINAL.onnx",
            description = "also run ONNX Runtime (if on the class path) on this model and print the latency ratio")
    Path compareOnnx;

    @Option(names = "--seed", paramLabel = "N", defaultValue = "1", description = "seed of random inputs")
    long seed;

    @Option(names = "--json", description = "print the result as JSON")
    boolean json;

    @Override
    public Integer call() throws Exception {
        Map<String, int[]> shapes = new LinkedHashMap<>();
        inputShapes.forEach((k, v) -> shapes.put(k, Inputs.parseShape(k, v)));
        Bench.Result r = Bench.run(new Bench.Options(model, threads, warmup, iterations, inputFiles, shapes,
                inputFills, profileOps, compareOnnx, backend, seed), runtimeOptions(backend, threads));
        PrintWriter out = spec.commandLine().getOut();
        if (json) {
            out.println(new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(toJson(r)));
        } else {
            print(r, out);
        }
        out.flush();
        return 0;
    }

    /**
     * The backends and threads for {@code --backend NAME} ({@link Backends#options}); the {@code hedge} CLI
     * gives {@code auto} its host device profile's order.
     */
    protected RuntimeOptions runtimeOptions(String backendName, int threadCount) {
        return Backends.options(backendName, threadCount);
    }

    static ObjectNode toJson(Bench.Result r) {
        ObjectMapper m = new ObjectMapper();
        ObjectNode o = m.createObjectNode();
        o.put("model", r.model());
        o.put("backend", r.backend());
        o.put("threads", r.threads());
        ObjectNode shapes = o.putObject("inputShapes");
        r.inputShapes().forEach((k, v) -> {
            ArrayNode a = shapes.putArray(k);
            for (int d : v) {
                a.add(d);
            }
        });
        o.put("loadMs", r.loadMs());
        o.set("latency", latency(m, r.hedge()));
        if (r.hedgeCpu() != null) {
            o.set("cpuLatency", latency(m, r.hedgeCpu()));
        }
        o.put("arenaBytes", r.arenaBytes());
        o.put("packedWeightBytes", r.packedBytes());
        o.put("peakRssBytes", r.peakRssBytes());
        ObjectNode sb = o.putObject("stepsByBackend");
        r.stepsByBackend().forEach(sb::put);
        if (r.onnxRuntime() != null) {
            ObjectNode p = o.putObject("onnxRuntime");
            p.set("latency", latency(m, r.onnxRuntime()));
            p.put("ratio", r.ratio());
            if (r.cpuRatio() != null) {
                p.set("cpuLatency", latency(m, r.onnxRuntimeCpu()));
                p.put("cpuRatio", r.cpuRatio());
            }
            if (r.maxAbsDiff() != null) {
                p.put("maxAbsDiff", r.maxAbsDiff());
            }
        }
        if (r.profiledRuns() > 0) {
            ObjectNode prof = o.putObject("profile");
            prof.put("runs", r.profiledRuns());
            ArrayNode ops = prof.putArray("ops");
            for (Bench.OpTime t : r.ops()) {
                ObjectNode n = ops.addObject();
                n.put("node", t.node());
                n.put("op", t.op());
                n.put("backend", t.backend());
                n.put("callsPerRun", t.callsPerRun());
                n.put("msPerRun", t.msPerRun());
                n.put("percent", t.percent());
            }
        }
        return o;
    }

    private static ObjectNode latency(ObjectMapper m, Latency l) {
        ObjectNode n = m.createObjectNode();
        n.put("iterations", l.iterations());
        n.put("minMs", l.minMs());
        n.put("medianMs", l.medianMs());
        n.put("p90Ms", l.p90Ms());
        n.put("p99Ms", l.p99Ms());
        n.put("meanMs", l.meanMs());
        n.put("runsPerSecond", l.runsPerSecond());
        return n;
    }

    static void print(Bench.Result r, PrintWriter out) {
        StringBuilder shapes = new StringBuilder();
        r.inputShapes().forEach((k, v) -> shapes.append(shapes.length() == 0 ? "" : ", ").append(k)
                .append(java.util.Arrays.toString(v)));
        out.printf(Locale.ROOT, "%s  (%s, %d thread%s, inputs %s; loaded and planned in %.0f ms)%n", r.model(),
                r.backend(), r.threads(), r.threads() == 1 ? "" : "s", shapes, r.loadMs());
        out.printf(Locale.ROOT, "hedge         %s%n", line(r.hedge()));
        if (r.hedgeCpu() != null) {
            out.printf(Locale.ROOT, "  cpu time    %s%n", line(r.hedgeCpu()));
        }
        if (r.onnxRuntime() != null) {
            out.printf(Locale.ROOT, "onnxruntime   %s%n", line(r.onnxRuntime()));
            if (r.onnxRuntimeCpu() != null) {
                out.printf(Locale.ROOT, "  cpu time    %s%n", line(r.onnxRuntimeCpu()));
            }
            out.printf(Locale.ROOT, "ratio         hedge / onnxruntime median latency = %.2f%s%s%n", r.ratio(),
                    r.cpuRatio() == null ? "" : String.format(Locale.ROOT, " (cpu time %.2f)", r.cpuRatio()),
                    r.maxAbsDiff() == null ? "" : String.format(Locale.ROOT, "; outputs differ by at most %.2g",
                            r.maxAbsDiff()));
        }
        out.printf(Locale.ROOT, "memory        arena %s, packed weights %s, peak RSS %s%n", mib(r.arenaBytes()),
                mib(r.packedBytes()), r.peakRssBytes() < 0 ? "n/a" : mib(r.peakRssBytes()));
        out.printf(Locale.ROOT, "steps         %s%n", r.stepsByBackend());
        if (r.profiledRuns() > 0) {
            out.printf(Locale.ROOT, "profile over %d runs (top 15 nodes):%n", r.profiledRuns());
            out.printf(Locale.ROOT, "  %8s %6s  %-20s %-9s %s%n", "ms/run", "%", "op", "backend", "node");
            r.ops().stream().limit(15).forEach(t -> out.printf(Locale.ROOT, "  %8.3f %6.1f  %-20s %-9s %s%n",
                    t.msPerRun(), t.percent(), t.op(), t.backend(), t.node()));
        }
    }

    private static String line(Latency l) {
        return String.format(Locale.ROOT, "median %.3f ms  min %.3f  p90 %.3f  p99 %.3f  (%d runs, %.1f runs/s)",
                l.medianMs(), l.minMs(), l.p90Ms(), l.p99Ms(), l.iterations(), l.runsPerSecond());
    }

    private static String mib(long bytes) {
        return String.format(Locale.ROOT, "%.2f MiB", bytes / 1048576.0);
    }

    /** Stand-alone entry point (the {@code hedge} CLI mounts this command as {@code hedge bench}). */
    public static void main(String[] args) {
        CommandLine cl = new CommandLine(new BenchCommand());
        cl.setExecutionExceptionHandler((e, cmd, parsed) -> {
            cmd.getErr().println("error: " + (e.getMessage() == null ? e.toString() : e.getMessage()));
            return 1;
        });
        System.exit(cl.execute(args));
    }
}
