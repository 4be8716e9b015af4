package dev.hedge.cli;

import dev.hedge.converter.CompressionOptions;
import dev.hedge.converter.CompressionRequest;
import dev.hedge.converter.Progress;
import dev.hedge.converter.data.DataSpec;
import dev.hedge.converter.data.ImageOptions;
import dev.hedge.ir.ValueInfo;
import dev.hedge.runtime.InvalidInputException;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import picocli.CommandLine.Option;

/** The compression options of {@code hedge convert}, and their translation to {@link CompressionOptions}. */
final class CompressionFlags {

    // ---- quantization
    @Option(names = "--quantize", paramLabel = "MODE", order = 10,
            description = "int8 (static, needs --calib), int8-dynamic, int8-weight, fp16, int4 or codebook.")
    String quantize;

    @Option(names = "--per-tensor", order = 11,
            description = "One int8 weight scale per tensor (default: per output channel).")
    boolean perTensor;

    @Option(names = "--calib-method", paramLabel = "M", order = 12, defaultValue = "minmax",
            description = "Activation range: minmax, percentile, entropy or mse (default: ${DEFAULT-VALUE}).")
    String calibMethod;

    @Option(names = "--percentile", paramLabel = "P", order = 13, defaultValue = "99.99",
            description = "Percentile for --calib-method percentile (default: ${DEFAULT-VALUE}).")
    double percentile;

    @Option(names = "--codebook-bits", paramLabel = "B", order = 14, defaultValue = "4",
            description = "Index bits of codebook layers, 2 to 8 (default: ${DEFAULT-VALUE}).")
    int codebookBits;

    @Option(names = "--int4-group", paramLabel = "G", order = 15, defaultValue = "32",
            description = "Weights per int4 scale along the reduction axis (default: ${DEFAULT-VALUE}).")
    int int4Group;

    @Option(names = "--smooth", negatable = true, defaultValue = "true", fallbackValue = "true", order = 17,
            description = "Static int8: migrate activation ranges between linear layers (SmoothQuant-style, folded "
                    + "into the weights) so one uint8 scale per tensor suits every channel (default: on).")
    boolean smooth;

    @Option(names = "--float-outputs", negatable = true, defaultValue = "true", fallbackValue = "true", order = 18,
            description = "Static int8: a layer whose output no int8 layer reads scales its int32 accumulators back "
                    + "to float instead of requantizing them (default: on; off with a full-integer --profile).")
    boolean floatOutputs;

    @Option(names = "--speed-check", negatable = true, defaultValue = "true", fallbackValue = "true", order = 19,
            description = "int8 / int8-dynamic: a layer whose int8 steps (with the quantize / dequantize steps it "
                    + "adds or removes) this host's planner estimates slower than its fp32 kernel (measured kernel "
                    + "costs, at the input shapes) keeps int8 weights with float compute; the report says which and "
                    + "why (default: on; off with --profile for another device, whose kernel costs are not measured "
                    + "here, with a full-integer --profile, and for layers set with --layer).")
    boolean speedCheck;

    @Option(names = "--int8-ops", paramLabel = "layers|all", order = 19, defaultValue = "all",
            description = "Static int8: 'all' also runs the ops between int8 layers on uint8 (residual Add / Mul, "
                    + "average and max pooling, Flatten / Reshape / Squeeze / Unsqueeze / Transpose) where their "
                    + "inputs are uint8 and an int8 layer or op reads the result; 'layers' quantizes Conv / MatMul "
                    + "/ Gemm only, everything between them in float (default: ${DEFAULT-VALUE}).")
    String int8Ops;

    @Option(names = "--layer", paramLabel = "NAME=PRECISION", order = 16,
            description = "Per-layer precision: fp32, fp16, int8, int8-dynamic, int8-weight, int4, codebook[:B]; "
                    + "NAME is a node name, a trailing * matches a prefix (repeatable).")
    List<String> layers = List.of();

    // ---- data
    @Option(names = "--calib", paramLabel = "[INPUT=]PATH", order = 20,
            description = "Calibration data: .npy [N,...], .pb, image, or a directory of them (repeatable, per input).")
    List<String> calib = List.of();

    @Option(names = "--calib-const", paramLabel = "INPUT=VALUE", order = 21,
            description = "An input with the same value in every sample, e.g. sr=16000 (repeatable; also used "
                    + "for --eval unless --eval-const is given).")
    List<String> calibConst = List.of();

    @Option(names = "--calib-limit", paramLabel = "N", order = 22, defaultValue = "0",
            description = "Use at most N calibration samples (0: all).")
    int calibLimit;

    @Option(names = "--eval", paramLabel = "[INPUT=]PATH", order = 23,
            description = "Evaluation data, as --calib (default: the calibration data).")
    List<String> eval = List.of();

    @Option(names = "--eval-const", paramLabel = "INPUT=VALUE", order = 24,
            description = "As --calib-const, for --eval.")
    List<String> evalConst = List.of();

    @Option(names = "--eval-limit", paramLabel = "N", order = 25, defaultValue = "0",
            description = "Use at most N evaluation samples (0: all).")
    int evalLimit;

    @Option(names = "--labels", paramLabel = "FILE.npy", order = 26,
            description = "Integer labels of the evaluation samples, for labelled accuracy.")
    Path labels;

    @Option(names = "--carry", paramLabel = "INPUT=OUTPUT", order = 27,
            description = "Feed an output back as an input on the next sample (streaming state, e.g. state=stateN); "
                    + "the input starts from its constant, or zeros (repeatable).")
    List<String> carry = List.of();

    @Option(names = "--seed", paramLabel = "S", order = 28,
            description = "Shuffle the samples (before --calib-limit / --eval-limit) with this seed; also seeds "
                    + "k-means.")
    Long seed;

    @Option(names = "--image-size", paramLabel = "H[,W]", order = 29, description = "Resize images to this size.")
    String imageSize;

    @Option(names = "--mean", paramLabel = "M[,M,M]", order = 30,
            description = "Subtracted from pixel/255, per channel.")
    String mean;

    @Option(names = "--std", paramLabel = "S[,S,S]", order = 31,
            description = "Divides (pixel/255 - mean), per channel.")
    String std;

    @Option(names = "--layout", paramLabel = "nchw|nhwc", order = 32, defaultValue = "nchw",
            description = "Image tensor layout (default: ${DEFAULT-VALUE}).")
    String layout;

    @Option(names = "--channel-order", paramLabel = "rgb|bgr", order = 33, defaultValue = "rgb",
            description = "Image channel order (default: ${DEFAULT-VALUE}).")
    String channelOrder;

    // ---- pruning and reconstruction
    @Option(names = "--sparsity", paramLabel = "S", order = 40,
            description = "Unstructured magnitude pruning to this fraction of zeros per layer (e.g. 0.7).")
    Double sparsity;

    @Option(names = "--prune-threshold", paramLabel = "T", order = 41, description = "Prune weights with |w| < T.")
    Double pruneThreshold;

    @Option(names = "--prune-nm", paramLabel = "N:M", order = 42,
            description = "Keep the N largest of every M consecutive weights (e.g. 2:4).")
    String pruneNm;

    @Option(names = "--prune-global", order = 43,
            description = "--sparsity over all layers at once (one magnitude order).")
    boolean pruneGlobal;

    @Option(names = "--prune-block", paramLabel = "RxC", order = 44,
            description = "Prune whole RxC blocks (e.g. 1x8), so block-CSR stores them compactly.")
    String pruneBlock;

    @Option(names = "--prune-layer", paramLabel = "NAME=VALUE", order = 45,
            description = "Per-layer sparsity (or threshold) override (repeatable).")
    List<String> pruneLayer = List.of();

    @Option(names = "--prune-skip", paramLabel = "NAME", order = 46,
            description = "Never prune this layer (repeatable).")
    List<String> pruneSkip = List.of();

    @Option(names = "--prune-all-layers", order = 47,
            description = "Prune the first and last layer too (skipped by default).")
    boolean pruneAll;

    @Option(names = "--prune-channels", paramLabel = "R", order = 48,
            description = "Structured pruning: remove this fraction of each layer's output channels (L1 norm).")
    Double pruneChannels;

    @Option(names = "--reconstruct", negatable = true, order = 49,
            description = "Refit compressed layers by least squares against the original (default: on with --calib "
                    + "when pruning; --reconstruct also refits quantized layers when nothing is pruned).")
    Boolean reconstruct;

    @Option(names = "--gptq", negatable = true, defaultValue = "true", fallbackValue = "true", order = 51,
            description = "With --calib, round quantized weights with error feedback from the layer inputs' "
                    + "statistics (GPTQ) instead of to nearest (default: on).")
    boolean gptq;

    @Option(names = "--obs-mask", order = 50,
            description = "Reconstruction re-chooses the pruning mask by Optimal Brain Surgeon saliency.")
    boolean obsMask;

    // ---- accuracy targets and report
    @Option(names = "--target-agreement", paramLabel = "A", order = 60,
            description = "Automatic mixed precision: raise the worst layers until top-1 agreement >= A (e.g. 0.99).")
    Double targetAgreement;

    @Option(names = "--max-accuracy-drop", paramLabel = "PT", order = 61,
            description = "Automatic mixed precision: raise the worst layers until the labelled accuracy drop <= PT "
                    + "percentage points.")
    Double maxAccuracyDrop;

    @Option(names = "--max-output-error", paramLabel = "E", order = 62,
            description = "Automatic mixed precision: raise the worst layers until the first output differs from the "
                    + "original's by at most E everywhere on the evaluation data (for probabilities, regressions).")
    Double maxOutputError;

    @Option(names = "--max-precision", paramLabel = "P", order = 63,
            description = "Automatic mixed precision raises no layer beyond P on its ladder (codebook/int4, int8, "
                    + "int8-weight, fp16, fp32), e.g. int8-weight: every weight stays int8.")
    String maxPrecision;

    @Option(names = "--report", paramLabel = "FILE.json", order = 64,
            description = "Write the compression report as JSON.")
    Path report;

    @Option(names = "--progress", negatable = true, order = 65,
            description = "Progress on stderr (default: when stderr is a terminal).")
    Boolean progress;

    /** Whether any compression was asked for. */
    boolean requested() {
        return quantize != null || !layers.isEmpty() || sparsity != null || pruneThreshold != null || pruneNm != null
                || pruneChannels != null || targetAgreement != null || maxAccuracyDrop != null || maxOutputError != null
                || report != null || !calib.isEmpty() || !eval.isEmpty() || labels != null
                // given alone these are mistakes, which the pipeline reports rather than the plain conversion ignoring them
                || pruneBlock != null || pruneGlobal || !pruneLayer.isEmpty() || !pruneSkip.isEmpty()
                || pruneAll || maxPrecision != null;
    }

    CompressionOptions options(List<ValueInfo> inputs, Progress progressSink) throws IOException {
        return request().build(inputs, progressSink, name -> "--" + name, (option, e) -> e);
    }

    private CompressionRequest request() {
        CompressionRequest r = new CompressionRequest();
        r.quantize = quantize;
        r.perTensor = perTensor;
        r.calibMethod = calibMethod;
        r.percentile = percentile;
        r.codebookBits = codebookBits;
        r.int4Group = int4Group;
        r.smooth = smooth;
        r.layers = DataSpec.parsePairs(layers, "--layer");
        r.calib = calib;
        r.calibConsts = DataSpec.parsePairs(calibConst, "--calib-const");
        r.calibLimit = calibLimit;
        r.eval = eval;
        r.evalConsts = evalConst.isEmpty() ? null : DataSpec.parsePairs(evalConst, "--eval-const");
        r.evalLimit = evalLimit;
        r.labels = labels;
        r.carry = DataSpec.parsePairs(carry, "--carry");
        r.seed = seed;
        r.image = images();
        r.sparsity = sparsity;
        r.pruneThreshold = pruneThreshold;
        r.pruneNm = pruneNm == null ? null : pair(pruneNm, ":", "--prune-nm");
        r.pruneGlobal = pruneGlobal;
        r.pruneBlock = pruneBlock == null ? null : pair(pruneBlock.toLowerCase(Locale.ROOT), "x", "--prune-block");
        Map<String, Double> ov = new LinkedHashMap<>();
        DataSpec.parsePairs(pruneLayer, "--prune-layer").forEach((k, v) -> ov.put(k, number(v, "--prune-layer")));
        r.pruneLayer = ov;
        r.pruneSkip = new LinkedHashSet<>(pruneSkip);
        r.pruneAllLayers = pruneAll;
        r.pruneChannels = pruneChannels;
        r.reconstruct = reconstruct;
        r.obsMask = obsMask;
        r.gptq = gptq;
        r.targetAgreement = targetAgreement;
        r.maxAccuracyDrop = maxAccuracyDrop;
        r.maxOutputError = maxOutputError;
        r.maxPrecision = maxPrecision;
        r.floatOutputs = floatOutputs;
        r.speedCheck = speedCheck;
        r.int8Ops = int8Ops;
        return r;
    }

    private ImageOptions images() {
        int h = 0;
        int w = 0;
        if (imageSize != null) {
            String[] p = imageSize.split(",");
            h = (int) number(p[0], "--image-size");
            w = p.length > 1 ? (int) number(p[1], "--image-size") : h;
        }
        return new ImageOptions(h, w, floats(mean, "--mean"), floats(std, "--std"), ImageOptions.parseLayout(layout),
                ImageOptions.parseChannelOrder(channelOrder));
    }

    private static float[] floats(String s, String what) {
        if (s == null) {
            return null;
        }
        String[] p = s.split(",");
        float[] v = new float[p.length];
        for (int i = 0; i < p.length; i++) {
            v[i] = (float) number(p[i], what);
        }
        return v;
    }

    private static double number(String s, String what) {
        try {
            return Double.parseDouble(s.trim());
        } catch (NumberFormatException e) {
            throw new InvalidInputException(what + ": '" + s + "' is not a number");
        }
    }

    private static int[] pair(String s, String sep, String what) {
        String[] p = s.split(sep);
        if (p.length != 2) {
            throw new InvalidInputException(what + " '" + s + "' is not A" + sep + "B");
        }
        return new int[] {(int) number(p[0], what), (int) number(p[1], what)};
    }

    /** Progress lines on stderr, at most one per phase every half second, when enabled. */
    Progress progress(PrintWriter err) {
        boolean on = progress != null ? progress : System.console() != null;
        if (!on) {
            return Progress.NONE;
        }
        return new Progress() {
            private String phase = "";
            private long last;

            @Override
            public void update(String p, int done, int total) {
                long now = System.nanoTime();
                if (p.equals(phase) && done < total && now - last < 500_000_000L) {
                    return;
                }
                phase = p;
                last = now;
                err.printf(Locale.ROOT, "%s: %d/%d%n", p, done, total);
                err.flush();
            }
        };
    }
}
