package dev.hedge.cli;

import dev.hedge.converter.Converter;
import dev.hedge.format.HedgeWriter;
import dev.hedge.io.Npy;
import dev.hedge.runtime.DType;
import dev.hedge.runtime.Model;
import dev.hedge.runtime.RuntimeOptions;
import dev.hedge.runtime.Session;
import dev.hedge.runtime.Tensor;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Arrays;
import java.util.Comparator;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "demo", mixinStandardHelpOptions = true,
        description = {"Convert the bundled example model (a small CNN for 8x8 handwritten digits, "
                + "examples/digits-cnn), load the .hedge file, run its held-out test split and print accuracy, "
                + "file sizes and timings."})
final class DemoCommand implements Callable<Integer> {

    /** Where the build puts the example (see cli/pom.xml), relative to this class. */
    static final String RESOURCES = "examples/digits-cnn/";
    /** PyTorch fp32 on the same split (examples/digits-cnn/README.md). */
    static final int REFERENCE_CORRECT = 444;

    @Spec
    CommandSpec spec;

    @Option(names = {"-o", "--output-dir"}, paramLabel = "DIR",
            description = "Keep the example and the converted model here (default: a temporary directory, "
                    + "deleted afterwards).")
    Path outputDir;

    @Mixin
    BackendOptions backends = new BackendOptions();

    /**
     * What the demo measured; the test checks it directly. {@code steps}: steps per backend of the batch-1
     * plan, e.g. "openblas 2, java 6".
     */
    record Result(int correct, int total, long onnxBytes, long hedgeBytes, int nodesBefore, int nodesAfter,
            long convertNanos, long loadNanos, long firstRunNanos, long medianNanos, long p90Nanos,
            long batchNanos, int batchMismatches, String steps) {
    }

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        boolean temporary = outputDir == null;
        Path dir = temporary ? Files.createTempDirectory("hedge-demo") : Files.createDirectories(outputDir);
        try {
            BackendOptions.Resolved runtime = backends.resolve();
            Result r = run(dir, runtime.options());
            out.println("hedge demo: digits-cnn, a small CNN for 8x8 handwritten digits (examples/digits-cnn)");
            out.println("  backends  " + runtime.summary());
            for (String u : runtime.notes()) {
                out.println("            not used: " + u);
            }
            out.printf(Locale.ROOT, "  convert   model.onnx %,d bytes -> digits-cnn.hedge %,d bytes (%.2fx), %d -> %d nodes, %s%n",
                    r.onnxBytes(), r.hedgeBytes(),
                    (double) r.hedgeBytes() / r.onnxBytes(), r.nodesBefore(), r.nodesAfter(),
                    ModelFiles.millis(r.convertNanos()));
            out.printf(Locale.ROOT, "  load      %s; first run (plans batch 1) %s%n", ModelFiles.millis(r.loadNanos()),
                    ModelFiles.millis(r.firstRunNanos()));
            out.printf(Locale.ROOT, "  accuracy  %d/%d = %.2f%% on the held-out test split (PyTorch fp32: %d/%d = %.2f%%)%n",
                    r.correct(), r.total(), 100.0 * r.correct() / r.total(), REFERENCE_CORRECT, r.total(),
                    100.0 * REFERENCE_CORRECT / r.total());
            out.printf(Locale.ROOT, "  latency   batch 1 over %d samples: median %s, p90 %s%n", r.total(),
                    ModelFiles.millis(r.medianNanos()), ModelFiles.millis(r.p90Nanos()));
            out.println("  ran on    " + r.steps() + " (steps per backend, batch 1)");
            out.printf(Locale.ROOT, "  batch     all %d samples in one run: %s (%s)%n", r.total(),
                    ModelFiles.millis(r.batchNanos()), r.batchMismatches() == 0 ? "same predictions as batch 1"
                            : r.batchMismatches() + " predictions differ from batch 1");
            out.println("  files     " + dir + (temporary ? " (temporary, deleted)" : ""));
            out.flush();
            return Errors.OK;
        } finally {
            if (temporary) {
                deleteTree(dir);
            }
        }
    }

    /** {@link #run(Path, RuntimeOptions)} on the host's default backends. */
    static Result run(Path dir) throws IOException {
        return run(dir, BackendOptions.resolve("auto", null).options());
    }

    /** Extracts the example into {@code dir}, converts, loads and evaluates it on {@code runtime}. */
    static Result run(Path dir, RuntimeOptions runtime) throws IOException {
        Path onnx = extract("model.onnx", dir);
        Path xs = extract("test_x.npy", dir);
        Path ys = extract("test_y.npy", dir);
        Path hedge = dir.resolve("digits-cnn.hedge");

        long t0 = System.nanoTime();
        Converter.Result conv = Converter.convert(onnx, Converter.Options.defaults());
        long hedgeBytes = HedgeWriter.write(conv.model(), hedge);
        long convertNanos = System.nanoTime() - t0;

        Tensor x = Npy.read(xs);
        Tensor y = Npy.read(ys);
        int n = x.dim(0);
        if (x.dtype() != DType.FLOAT32 || x.rank() != 4 || y.dtype() != DType.INT64 || y.rank() != 1 || y.dim(0) != n) {
            throw new IllegalStateException("bundled test data has unexpected types: " + x + ", " + y);
        }
        int sampleBytes = x.byteSize() / n;
        int[] sampleShape = x.shape();
        sampleShape[0] = 1;

        long t1 = System.nanoTime();
        try (Model model = Model.load(hedge, runtime); Session session = model.newSession()) {
            long loadNanos = System.nanoTime() - t1;
            String in = model.inputs().get(0).name();
            String outName = model.outputs().get(0).name();

            int[] predicted = new int[n];
            long[] nanos = new long[n];
            long firstRun = 0;
            int correct = 0;
            for (int i = 0; i < n; i++) {
                Tensor sample = Tensor.wrap(DType.FLOAT32, sampleShape, x.data().slice(i * sampleBytes, sampleBytes));
                long s = System.nanoTime();
                Map<String, Tensor> result = session.run(Map.of(in, sample));
                nanos[i] = System.nanoTime() - s;
                predicted[i] = argmax(result.get(outName), 0);
                if (i == 0) {
                    firstRun = nanos[0];
                }
                if (predicted[i] == y.getLong(i)) {
                    correct++;
                }
            }
            // The first run plans the model for batch 1: it is reported apart, not as latency.
            long[] steady = Arrays.copyOfRange(nanos, 1, n);
            Arrays.sort(steady);

            long b = System.nanoTime();
            Tensor batchOut = session.run(Map.of(in, x)).get(outName);
            long batchNanos = System.nanoTime() - b;
            int mismatches = 0;
            for (int i = 0; i < n; i++) {
                if (argmax(batchOut, i) != predicted[i]) {
                    mismatches++;
                }
            }
            return new Result(correct, n, Files.size(onnx), hedgeBytes, conv.nodesBefore(), conv.nodesAfter(),
                    convertNanos, loadNanos, firstRun, percentile(steady, 0.5), percentile(steady, 0.9), batchNanos,
                    mismatches, ModelFiles.stepsByBackend(model.plan(java.util.List.of(sampleShape))));
        }
    }

    /** Nearest-rank percentile of sorted values. */
    static long percentile(long[] sorted, double q) {
        if (sorted.length == 0) {
            return 0;
        }
        int rank = (int) Math.ceil(q * sorted.length);
        return sorted[Math.max(0, rank - 1)];
    }

    /** Arg-max of row {@code row} of a [N, classes] tensor. */
    private static int argmax(Tensor logits, int row) {
        int classes = logits.dim(1);
        int best = 0;
        for (int c = 1; c < classes; c++) {
            if (logits.getFloat(row * classes + c) > logits.getFloat(row * classes + best)) {
                best = c;
            }
        }
        return best;
    }

    private static Path extract(String name, Path dir) throws IOException {
        try (InputStream in = DemoCommand.class.getResourceAsStream(RESOURCES + name)) {
            if (in == null) {
                throw new IllegalStateException("the bundled example file " + name + " is missing from the hedge jar");
            }
            Path target = dir.resolve(name);
            Files.copy(in, target, StandardCopyOption.REPLACE_EXISTING);
            return target;
        }
    }

    private static void deleteTree(Path dir) throws IOException {
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
