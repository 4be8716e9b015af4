package dev.hedge.bench;

import dev.hedge.converter.Converter;
import dev.hedge.plan.Plan;
import dev.hedge.runtime.InvalidInputException;
import dev.hedge.runtime.Model;
import dev.hedge.runtime.RuntimeOptions;
import dev.hedge.runtime.Session;
import dev.hedge.runtime.Tensor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * What {@code hedge bench} measures: load time, latency percentiles and throughput of one session, peak
 * RSS, planned arena and packed-weight bytes, optionally a per-op profile and ONNX Runtime on the same
 * inputs with the same thread count. With a peer on one thread, timed runs alternate between the two engines in
 * blocks, so that load from other processes on the machine affects both alike. With several threads each engine
 * runs all its timed runs in turn instead: ONNX Runtime's pool threads spin on after its runs and took the cores
 * from Hedge's runs in alternating blocks (resnet-style int8 at 2 threads: Hedge 6.1 ms median alternating, 4.7 ms
 * alone), while turning that spinning off slowed ONNX Runtime's MobileNetV2-style run by 65 %.
 */
public final class Bench {

    /** Timed runs per block when alternating with ONNX Runtime. */
    private static final int BLOCK = 5;

    private Bench() {
    }

    /**
     * @param backend a {@link Backends} name: {@code auto}, {@code java}, {@code openblas}, {@code native}...
     * @param compareOnnx the original ONNX model to run with ONNX Runtime, or null
     */
    public record Options(Path model, int threads, int warmup, int iterations, Map<String, Path> inputFiles,
            Map<String, int[]> inputShapes, Map<String, Double> inputFills, boolean profileOps, Path compareOnnx,
            String backend, long seed) {
        public Options {
            if (threads < 1 || warmup < 0 || iterations < 1) {
                throw new InvalidInputException("--threads and --iterations must be >= 1 and --warmup >= 0, got "
                        + threads + ", " + iterations + ", " + warmup);
            }
            inputFiles = Map.copyOf(inputFiles);
            inputShapes = Map.copyOf(inputShapes);
            inputFills = Map.copyOf(inputFills);
        }
    }

    /**
     * Mean time per run of one node over the profiled runs, and its share of the run. Nodes inside a
     * subgraph are counted on their own and within their If/Loop node, so shares can add up to over 100%.
     */
    public record OpTime(String node, String op, String backend, long callsPerRun, double msPerRun,
            double percent) {
    }

    /**
     * {@code hedgeCpu} and {@code onnxRuntimeCpu}: the CPU time of the calling thread per run, only with one
     * thread (both engines then compute on the calling thread). Unlike wall time it does not count time the
     * thread waited for a core, so on a loaded machine it is the steadier measure of the work done.
     */
    public record Result(String model, String backend, int threads, Map<String, int[]> inputShapes, double loadMs,
            Latency hedge, Latency hedgeCpu, long arenaBytes, long packedBytes, long peakRssBytes,
            Map<String, Integer> stepsByBackend, List<OpTime> ops, int profiledRuns, Latency onnxRuntime,
            Latency onnxRuntimeCpu, Double maxAbsDiff, String plan) {

        /** Hedge median over ONNX Runtime median (wall time), or null without a peer. */
        public Double ratio() {
            return onnxRuntime == null ? null : hedge.medianMs() / onnxRuntime.medianMs();
        }

        /** The same ratio in CPU time, or null without a peer or with more than one thread. */
        public Double cpuRatio() {
            return onnxRuntimeCpu == null || hedgeCpu == null ? null
                    : hedgeCpu.medianMs() / onnxRuntimeCpu.medianMs();
        }
    }

    /** Wall and calling-thread CPU times of repeated runs. */
    private static final class Samples {
        private static final java.lang.management.ThreadMXBean MX =
                java.lang.management.ManagementFactory.getThreadMXBean();
        final long[] wall;
        final long[] cpu;

        Samples(int n, boolean withCpu) {
            wall = new long[n];
            cpu = withCpu && MX.isCurrentThreadCpuTimeSupported() ? new long[n] : null;
        }

        void time(int i, Runnable r) {
            long c0 = cpu != null ? MX.getCurrentThreadCpuTime() : 0;
            long t0 = System.nanoTime();
            r.run();
            wall[i] = System.nanoTime() - t0;
            if (cpu != null) {
                cpu[i] = MX.getCurrentThreadCpuTime() - c0;
            }
        }

        Latency cpuLatency() {
            return cpu == null ? null : Latency.of(cpu);
        }
    }

    public static Result run(Options o) throws IOException {
        return run(o, Backends.options(o.backend() == null ? "auto" : o.backend(), o.threads()));
    }

    /** As {@link #run(Options)} on the given backends and threads (the options' backend name is then unused). */
    public static Result run(Options o, RuntimeOptions ro) throws IOException {
        if (!Files.isRegularFile(o.model())) {
            throw new NoSuchFileException(o.model().toString());
        }
        if (o.compareOnnx() != null) {
            if (!Files.isRegularFile(o.compareOnnx())) {
                throw new NoSuchFileException(o.compareOnnx().toString());
            }
            if (!onnxRuntimeAvailable()) {
                throw new IllegalStateException("--compare-onnxruntime needs ONNX Runtime on the class path "
                        + "(com.microsoft.onnxruntime:onnxruntime:1.29.0, optional and not bundled), e.g. java -cp "
                        + "hedge.jar:onnxruntime-1.29.0.jar dev.hedge.cli.HedgeCli bench ...");
            }
        }
        String backend = Backends.describe(ro);
        long t0 = System.nanoTime();
        Model model;
        boolean onnx = o.model().getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".onnx");
        if (onnx) {
            Converter.Result r = Converter.convert(o.model(), new Converter.Options(true, o.inputShapes()));
            model = Model.of(r.model(), ro);
        } else {
            model = Model.load(o.model(), ro);
        }
        try (model) {
            Map<String, Tensor> inputs = Inputs.make(model.inputs(), o.inputFiles(), o.inputShapes(), o.inputFills(),
                    o.seed());
            Map<String, int[]> shapes = new LinkedHashMap<>();
            inputs.forEach((k, v) -> shapes.put(k, v.shape()));
            Plan plan = model.plan(new ArrayList<>(shapes.values()));
            double loadMs = (System.nanoTime() - t0) / 1e6;
            Map<String, Integer> byBackend = new TreeMap<>();
            Map<String, String> backendOf = new HashMap<>();
            for (Plan.StepInfo s : plan.describe()) {
                byBackend.merge(s.backend(), 1, Integer::sum);
                backendOf.put(s.node(), s.backend());
            }
            try (Session session = model.newSession()) {
                for (int i = 0; i < o.warmup(); i++) {
                    session.run(inputs);
                }
                long rss = peakRssBytes();
                boolean cpu = model.threads() == 1;
                Samples hedge = new Samples(o.iterations(), cpu);
                Runnable runHedge = () -> session.run(inputs);
                Samples theirs = null;
                Double diff = null;
                if (o.compareOnnx() == null) {
                    for (int i = 0; i < o.iterations(); i++) {
                        hedge.time(i, runHedge);
                    }
                } else {
                    try (OrtPeer peer = OrtPeer.open(o.compareOnnx(), o.threads(), inputs)) {
                        for (int i = 0; i < o.warmup(); i++) {
                            peer.run();
                        }
                        theirs = new Samples(o.iterations(), cpu);
                        Runnable runOrt = peer::run;
                        // one block per engine with several threads (see the class comment)
                        int block = o.threads() == 1 ? BLOCK : o.iterations();
                        for (int i = 0; i < o.iterations(); i += block) {
                            int end = Math.min(o.iterations(), i + block);
                            for (int j = i; j < end; j++) {
                                hedge.time(j, runHedge);
                            }
                            for (int j = i; j < end; j++) {
                                theirs.time(j, runOrt);
                            }
                        }
                        diff = maxAbsDiff(session, inputs, model.outputs().get(0).name(), peer);
                    }
                }
                List<OpTime> ops = List.of();
                int profiled = 0;
                if (o.profileOps()) {
                    profiled = Math.max(10, o.iterations() / 5);
                    ops = profile(session, inputs, profiled, backendOf);
                }
                return new Result(o.model().toString(), backend, model.threads(), shapes, loadMs,
                        Latency.of(hedge.wall), hedge.cpuLatency(), plan.totalArenaBytes(), plan.packedBytes(), rss,
                        byBackend, ops, profiled, theirs == null ? null : Latency.of(theirs.wall),
                        theirs == null ? null : theirs.cpuLatency(), diff, plan.explain());
            }
        }
    }

    static boolean onnxRuntimeAvailable() {
        try {
            Class.forName("ai.onnxruntime.OrtEnvironment", false, Bench.class.getClassLoader());
            return true;
        } catch (ClassNotFoundException | LinkageError e) {
            return false;
        }
    }

    private static long timed(Session s, Map<String, Tensor> inputs) {
        long t = System.nanoTime();
        s.run(inputs);
        return System.nanoTime() - t;
    }

    private static Double maxAbsDiff(Session s, Map<String, Tensor> inputs, String output, OrtPeer peer) {
        Tensor mine = s.run(inputs).get(output);
        float[] theirs = peer.output(output);
        if (theirs == null || mine == null || mine.dtype() != dev.hedge.runtime.DType.FLOAT32
                || theirs.length != mine.elementCount()) {
            return null;
        }
        double d = 0;
        for (int i = 0; i < theirs.length; i++) {
            d = Math.max(d, Math.abs(theirs[i] - mine.getFloat(i)));
        }
        return d;
    }

    private static List<OpTime> profile(Session s, Map<String, Tensor> inputs, int runs,
            Map<String, String> backendOf) {
        Map<String, long[]> acc = new LinkedHashMap<>();
        Map<String, String> opOf = new HashMap<>();
        boolean[] counting = {false};
        s.setStepListener((step, node, op, nanos) -> {
            if (!counting[0]) {
                return;
            }
            long[] a = acc.computeIfAbsent(node, k -> new long[2]);
            a[0]++;
            a[1] += nanos;
            opOf.putIfAbsent(node, op);
        });
        long total = 0;
        try {
            // as many untimed runs first: a listener makes the JIT recompile the run loop, and the first runs
            // after that counted several times the model's latency on models of microseconds
            for (int i = 0; i < runs; i++) {
                s.run(inputs);
            }
            counting[0] = true;
            for (int i = 0; i < runs; i++) {
                total += timed(s, inputs);
            }
        } finally {
            s.setStepListener(null);
        }
        List<OpTime> l = new ArrayList<>();
        for (Map.Entry<String, long[]> e : acc.entrySet()) {
            double ms = e.getValue()[1] / 1e6 / runs;
            l.add(new OpTime(e.getKey(), opOf.get(e.getKey()), backendOf.getOrDefault(e.getKey(), "subgraph"),
                    e.getValue()[0] / runs, ms, 100.0 * e.getValue()[1] / total));
        }
        l.sort((a, b) -> Double.compare(b.msPerRun(), a.msPerRun()));
        return l;
    }

    /** Peak resident set size of this process (VmHWM), or -1 where /proc is not available. */
    static long peakRssBytes() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("VmHWM:")) {
                    String[] p = line.substring(6).trim().split("\\s+");
                    return Long.parseLong(p[0]) * 1024;
                }
            }
        } catch (IOException | RuntimeException e) {
            // not Linux
        }
        return -1;
    }
}
