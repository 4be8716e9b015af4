package dev.hedge.cli;

import dev.hedge.converter.CompressionOptions;
import dev.hedge.converter.Compressor;
import dev.hedge.converter.Converter;
import dev.hedge.converter.Progress;
import dev.hedge.format.HedgeWriter;
import dev.hedge.ir.ModelDef;
import dev.hedge.profiles.DeviceProfile;
import dev.hedge.profiles.Profiles;
import dev.hedge.profiles.host.ProfileSelector;
import dev.hedge.profiles.fit.TargetCheck;
import dev.hedge.profiles.fit.TargetCompression;
import dev.hedge.runtime.InvalidInputException;
import dev.hedge.runtime.UnsupportedModelException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(name = "convert", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Convert an ONNX model to a .hedge file (import, optimisation passes, atomic write), and "
                + "optionally compress it: pruning, reconstruction, quantization, sparse encoding, evaluation and "
                + "automatic mixed precision, with a per-layer report stored in the file."})
final class ConvertCommand implements Callable<Integer> {

    /** Metadata key naming the device profile a model was converted for. */
    static final String META_PROFILE = "target.profile";
    /** Metadata key holding the target check: budgets, weight formats, and which node runs where and why. */
    static final String META_TARGET_REPORT = "target.report";

    /** Models at least this big get a progress bar (on a terminal): their conversion takes a noticeable time. */
    static final long PROGRESS_BAR_BYTES = 16L << 20;

    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "IN.onnx", description = "The ONNX model.")
    Path input;

    @Option(names = {"-o", "--output"}, paramLabel = "OUT.hedge",
            description = "Where to write the .hedge file (default: IN with the extension .hedge).")
    Path output;

    @Option(names = "--no-optimize", description = "Skip the graph optimisation passes (folding, fusion, elimination).")
    boolean noOptimize;

    @Option(names = "--input-shape", paramLabel = "NAME=DIMS",
            description = "Concrete shape for a dynamic input, e.g. images=1,3,224,224 (repeatable).")
    Map<String, String> inputShapes;

    @Option(names = "--profile", paramLabel = "NAME|FILE",
            description = "Convert for a device profile (see 'hedge profiles'): compression follows what the target "
                    + "accepts, weights and the planned arena are checked against its memory budget, and the report "
                    + "says which node runs on which backend and why.")
    String profile;

    @Option(names = "--allow-cpu-fallback",
            description = "With a profile that allows no CPU fallback (an NPU), let the nodes its accelerator "
                    + "cannot run stay on the CPU instead of failing.")
    boolean allowCpuFallback;

    @Mixin
    CompressionFlags compression = new CompressionFlags();

    @Override
    public Integer call() throws Exception {
        DeviceProfile device = profile == null ? null : Profiles.resolve(profile);
        TargetCheck.Report check = null;
        PrintWriter out = spec.commandLine().getOut();
        if (device != null) {
            shapeForTarget(device);
        }
        if (compression.requested()) {
            return compress(out, device);
        }
        Map<String, int[]> shapes = ModelFiles.parseShapes(spec.commandLine(), inputShapes);
        ModelFiles.requireFile(input, "an ONNX model");
        Path target = output != null ? output : defaultOutput(input);
        if (Files.isDirectory(target)) {
            throw new InvalidInputException("output " + target + " is a directory; give a file name");
        }
        long onnxBytes = Files.size(input);
        boolean showBar = onnxBytes >= PROGRESS_BAR_BYTES && System.console() != null;

        Converter.Result result;
        long written;
        long t0 = System.nanoTime();
        BarLine line = showBar ? new BarLine() : null;
        try (ProgressBar bar = line != null ? progressBar(line) : null) {
            progress(bar, 0, "importing and optimising");
            result = Converter.convert(input, new Converter.Options(!noOptimize, shapes));
            if (device != null) {
                progress(bar, 1, "checking against " + device.name());
                check = TargetCheck.check(result.model(), device, shapes, allowCpuFallback);
                if (check.ok()) {
                    result = new Converter.Result(result.model().withMetadata(META_PROFILE, device.name()),
                            result.passes(), result.nodesBefore(), result.nodesAfter());
                }
            }
            if (check != null && !check.ok()) {
                out.print(check.text());
                out.flush();
                throw doesNotFit("model", check);
            }
            progress(bar, 1, "writing " + target.getFileName());
            written = HedgeWriter.write(result.model(), target);
            progress(bar, 2, "done");
        } finally {
            if (line != null) {
                line.close();
            }
        }
        long nanos = System.nanoTime() - t0;

        printPasses(out, result);
        if (check != null) {
            out.print(check.text());
        }
        out.printf(Locale.ROOT, "wrote %s: %d nodes, %s; %.2fx the ONNX file's %,d bytes; %s%n", target,
                result.nodesAfter(), ModelFiles.bytes(written), (double) written / onnxBytes, onnxBytes,
                ModelFiles.millis(nanos));
        out.flush();
        return Errors.OK;
    }

    /**
     * Lets the profile decide what compression the user left open and refuses what the target cannot take: a
     * full-integer target (an NPU, a microcontroller) gets static int8, per tensor where it needs that.
     */
    private void shapeForTarget(DeviceProfile device) {
        TargetCompression.Settings s = TargetCompression.of(device).resolve(compression.quantize,
                compression.perTensor);
        compression.quantize = s.precision();
        compression.perTensor = s.perTensor();
        compression.floatOutputs &= s.floatOutputs();
        // the speed check weighs this host's measured kernel costs: they say nothing about another device
        compression.speedCheck &= ProfileSelector.isHost(device);
        if ("int8".equals(s.precision()) && compression.calib.isEmpty()) {
            throw new InvalidInputException("profile " + device.name() + " runs full-integer int8 models only: static "
                    + "int8 needs calibration data (--calib FILE.npy or a directory of samples)");
        }
    }

    /**
     * Conversion followed by the compression pipeline; prints the pass reports and the compression table. With a
     * device profile, the compressed model is checked against it before it replaces the output: what the target
     * cannot take (budgets, weight formats, nodes without a place to run) leaves nothing written.
     */
    private Integer compress(PrintWriter out, DeviceProfile device) throws Exception {
        Map<String, int[]> shapes = ModelFiles.parseShapes(spec.commandLine(), inputShapes);
        ModelFiles.requireFile(input, "an ONNX model");
        Path target = output != null ? output : defaultOutput(input);
        if (Files.isDirectory(target)) {
            throw new InvalidInputException("output " + target + " is a directory; give a file name");
        }
        long t0 = System.nanoTime();
        Converter.Result result = Converter.convert(input, new Converter.Options(!noOptimize, shapes));
        printPasses(out, result);
        ModelDef model = result.model();
        if (device != null) {
            model = model.withMetadata(META_PROFILE, device.name());
        }
        out.flush();
        Progress progress = compression.progress(spec.commandLine().getErr());
        CompressionOptions options = compression.options(model.graph().inputs(), progress);
        Path staged = device == null ? target
                : Files.createTempFile(target.toAbsolutePath().getParent(), "." + target.getFileName(), ".tmp");
        Compressor.Result r;
        try {
            r = Compressor.compress(model, options, staged);
            out.print(r.report().toTable());
            if (device != null) {
                TargetCheck.Report check = TargetCheck.check(r.model(), device, shapes, allowCpuFallback);
                out.print(check.text());
                if (!check.ok()) {
                    out.flush();
                    throw doesNotFit("compressed model", check);
                }
                HedgeWriter.write(r.model().withMetadata(META_TARGET_REPORT, check.text()), target); // atomic
            }
        } finally {
            if (staged != target) {
                Files.deleteIfExists(staged);
            }
        }
        if (compression.report != null) {
            Files.writeString(compression.report, r.report().toPrettyJson());
            out.printf(Locale.ROOT, "report written to %s%n", compression.report);
        }
        out.printf(Locale.ROOT, "wrote %s: %s (%.3fx the fp32 .hedge file); %s%n", target,
                ModelFiles.bytes(Files.size(target)), r.report().ratio(),
                ModelFiles.millis(System.nanoTime() - t0));
        out.flush();
        return Errors.OK;
    }

    /** The first violation, and how many more the printed check lists. */
    private static UnsupportedModelException doesNotFit(String what, TargetCheck.Report check) {
        int more = check.violations().size() - 1;
        return new UnsupportedModelException(what + " does not fit profile " + check.profile() + ": "
                + check.violations().get(0) + (more == 0 ? "" : " (and " + more + " more violation"
                + (more == 1 ? "" : "s") + ", listed above)") + "; nothing written");
    }

    private void printPasses(PrintWriter out, Converter.Result result) {
        out.printf(Locale.ROOT, "%s: %d nodes%n", input, result.nodesBefore());
        for (Converter.PassReport p : result.passes()) {
            out.printf(Locale.ROOT, "  %-28s %5d -> %5d nodes%s%n", p.pass(), p.nodesBefore(), p.nodesAfter(),
                    p.note() == null || p.note().isEmpty() ? "" : "  (" + p.note() + ")");
        }
    }

    static Path defaultOutput(Path in) {
        String name = in.getFileName().toString();
        int dot = name.lastIndexOf('.');
        return in.resolveSibling((dot > 0 ? name.substring(0, dot) : name) + ".hedge");
    }

    private static ProgressBar progressBar(BarLine line) {
        return new ProgressBarBuilder().setTaskName("convert").setInitialMax(2).setStyle(ProgressBarStyle.ASCII)
                .setConsumer(line).setUpdateIntervalMillis(250)
                .continuousUpdate().build();
    }

    /** Stage-level progress: the converter and writer report no finer progress than their own return. */
    private static void progress(ProgressBar bar, int stage, String what) {
        if (bar != null) {
            bar.stepTo(stage);
            bar.setExtraMessage(what);
        }
    }

    /** The bar's stderr line; progressbar 0.10 does not end it when closed before its first refresh. */
    private static final class BarLine extends ConsoleProgressBarConsumer {
        private boolean closed;

        BarLine() {
            super(System.err);
        }

        @Override
        public synchronized void close() {
            if (!closed) {
                closed = true;
                super.close();
            }
        }
    }
}
