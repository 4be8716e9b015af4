package dev.hedge.converter;

import dev.hedge.converter.data.DataLoader;
import dev.hedge.converter.data.DataSpec;
import dev.hedge.converter.data.Dataset;
import dev.hedge.converter.data.ImageOptions;
import dev.hedge.converter.prune.ChannelPruning;
import dev.hedge.converter.prune.MagnitudePruning;
import dev.hedge.converter.quantize.CalibrationMethod;
import dev.hedge.converter.quantize.LayerPrecision;
import dev.hedge.converter.quantize.QuantOptions;
import dev.hedge.ir.ValueInfo;
import dev.hedge.runtime.InvalidInputException;
import dev.hedge.runtime.RuntimeOptions;
import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.UnaryOperator;

/**
 * The options of {@code hedge convert}, as values, and the rules that turn them into {@link CompressionOptions}.
 * Each front end (the CLI's flags, a served model's {@code convert.json}) fills one from its own syntax and calls
 * {@link #build}, so the rules between options (one pruning mode, labels need evaluation data...) live here once.
 * Fields are named after the options; null or empty means the option was not given.
 */
public final class CompressionRequest {

    public String quantize;
    public boolean perTensor;
    public String calibMethod = "minmax";
    public double percentile = 99.99;
    public int codebookBits = 4;
    public int int4Group = 32;
    public boolean smooth = true;
    /** Static int8 layers that only float consumers read keep their accumulators in float (off: full-integer). */
    public boolean floatOutputs = true;
    /** Static int8: {@code layers} (Conv / MatMul / Gemm only) or {@code all} (also the ops between them). */
    public String int8Ops = "all";
    /**
     * int8 layers whose kernels the default backends of this host would run slower than float keep float compute
     * ({@link CompressionOptions#speedCheck()}); ignored without float outputs (full-integer targets). On by
     * default. It moves one layer at a time, so a block of int8 layers slower than float only as a whole stays
     * int8, and it does not look inside Loop bodies.
     */
    public boolean speedCheck = true;
    /** Per-layer precision overrides: layer name to precision name. */
    public Map<String, String> layers = Map.of();

    public List<String> calib = List.of();
    public Map<String, String> calibConsts = Map.of();
    public int calibLimit;
    public List<String> eval = List.of();
    /** Constant inputs for the evaluation data; null: those of the calibration data. */
    public Map<String, String> evalConsts;
    public int evalLimit;
    public Path labels;
    public Map<String, String> carry = Map.of();
    public Long seed;
    public ImageOptions image;

    public Double sparsity;
    public Double pruneThreshold;
    public int[] pruneNm;
    public boolean pruneGlobal;
    public int[] pruneBlock;
    public Map<String, Double> pruneLayer = Map.of();
    public Set<String> pruneSkip = Set.of();
    public boolean pruneAllLayers;
    public Double pruneChannels;

    /** Null: the pipeline decides (on when pruning with calibration data). */
    public Boolean reconstruct;
    public boolean obsMask;
    public boolean gptq = true;
    public Double targetAgreement;
    public Double maxAccuracyDrop;
    public Double maxOutputError;
    /** The highest precision automatic mixed precision may raise a layer to (a precision name), or null. */
    public String maxPrecision;

    /**
     * The compression options, with the calibration and evaluation data loaded for the model's inputs.
     *
     * @param spell how the front end writes an option in messages, from its long name ({@code sparsity} to
     *     {@code --sparsity} or {@code 'sparsity'})
     * @param dataError wraps a problem with the data of an option ({@code calib} or {@code eval})
     */
    public CompressionOptions build(List<ValueInfo> inputs, Progress progress, UnaryOperator<String> spell,
            DataErrors dataError) throws IOException {
        try {
            return options(inputs, progress, spell, dataError);
        } catch (IllegalArgumentException e) {
            throw new InvalidInputException(e.getMessage());
        }
    }

    /** Rewrites a data loading failure of one option. */
    public interface DataErrors {
        InvalidInputException of(String option, InvalidInputException e);
    }

    /** The quantization part alone (precision names, calibration method, ranges checked). */
    public QuantOptions quantOptions() {
        LayerPrecision base = quantize == null ? LayerPrecision.FP32 : LayerPrecision.parse(quantize, codebookBits);
        Map<String, LayerPrecision> overrides = new LinkedHashMap<>();
        layers.forEach((k, v) -> overrides.put(k, LayerPrecision.parse(v, codebookBits)));
        return new QuantOptions(base, perTensor, CalibrationMethod.parse(calibMethod), percentile, int4Group,
                overrides, seed == null ? 0 : seed, smooth, floatOutputs, QuantOptions.Int8Ops.parse(int8Ops));
    }

    private CompressionOptions options(List<ValueInfo> inputs, Progress progress, UnaryOperator<String> spell,
            DataErrors dataError) throws IOException {
        if (!List.of("layers", "all").contains(int8Ops)) {
            throw new InvalidInputException(spell.apply("int8-ops") + " '" + int8Ops + "': give layers or all");
        }
        CompressionOptions o = CompressionOptions.of(quantOptions()).withProgress(progress)
                .withReconstruct(reconstruct, obsMask).withErrorFeedback(gptq)
                .withTargets(nan(targetAgreement), nan(maxAccuracyDrop)).withMaxOutputError(nan(maxOutputError));
        if (speedCheck && floatOutputs) {
            // the host's default backends and measured costs: what Model.load will plan with here
            o = o.withSpeedCheck(RuntimeOptions.defaults());
        }
        if (maxPrecision != null) {
            if (!o.mixedPrecision()) {
                throw new InvalidInputException(spell.apply("max-precision") + " limits automatic mixed precision: "
                        + "give " + spell.apply("target-agreement") + ", " + spell.apply("max-accuracy-drop") + " or "
                        + spell.apply("max-output-error") + " too");
            }
            o = o.withMaxPrecision(LayerPrecision.parse(maxPrecision, codebookBits));
        }
        if (!calib.isEmpty()) {
            o = o.withCalibration(load("calib", new DataSpec(calib, calibConsts, carry, null, calibLimit, seed, image),
                    inputs, dataError));
        }
        if (!eval.isEmpty()) {
            o = o.withEvaluation(load("eval", new DataSpec(eval, evalConsts == null ? calibConsts : evalConsts, carry,
                    labels, evalLimit, seed, image), inputs, dataError));
        } else if (labels != null) {
            throw new InvalidInputException(spell.apply("labels") + " label the " + spell.apply("eval")
                    + " samples; give " + spell.apply("eval"));
        }
        int modes = (sparsity != null ? 1 : 0) + (pruneThreshold != null ? 1 : 0) + (pruneNm != null ? 1 : 0);
        if (modes > 1) {
            throw new InvalidInputException("give one of " + spell.apply("sparsity") + ", "
                    + spell.apply("prune-threshold") + ", " + spell.apply("prune-nm"));
        }
        if (modes == 1) {
            MagnitudePruning.Options p;
            if (sparsity != null) {
                p = MagnitudePruning.Options.sparsity(sparsity).withGlobal(pruneGlobal);
            } else if (pruneThreshold != null) {
                p = MagnitudePruning.Options.threshold(pruneThreshold);
            } else {
                p = MagnitudePruning.Options.nOfM(pruneNm[0], pruneNm[1]);
            }
            if (pruneBlock != null) {
                p = p.withBlock(pruneBlock[0], pruneBlock[1]);
            }
            p = p.withOverrides(pruneLayer).withSkip(new LinkedHashSet<>(pruneSkip))
                    .withSkipFirstLast(!pruneAllLayers);
            o = o.withPrune(p);
        } else if (pruneBlock != null || pruneGlobal || !pruneLayer.isEmpty()) {
            throw new InvalidInputException(spell.apply("prune-block") + ", " + spell.apply("prune-global") + " and "
                    + spell.apply("prune-layer") + " need " + spell.apply("sparsity") + ", "
                    + spell.apply("prune-threshold") + " or " + spell.apply("prune-nm"));
        }
        if (pruneChannels != null) {
            o = o.withChannels(ChannelPruning.Options.of(pruneChannels));
        }
        return o;
    }

    private static Dataset load(String option, DataSpec spec, List<ValueInfo> inputs, DataErrors dataError)
            throws IOException {
        try {
            return DataLoader.load(spec, inputs);
        } catch (InvalidInputException e) {
            throw dataError.of(option, e);
        }
    }

    private static double nan(Double v) {
        return v == null ? Double.NaN : v;
    }
}
