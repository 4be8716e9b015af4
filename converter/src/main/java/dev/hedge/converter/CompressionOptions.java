package dev.hedge.converter;

import dev.hedge.converter.data.Dataset;
import dev.hedge.converter.prune.ChannelPruning;
import dev.hedge.converter.prune.MagnitudePruning;
import dev.hedge.converter.quantize.LayerPrecision;
import dev.hedge.converter.quantize.QuantOptions;
import dev.hedge.runtime.RuntimeOptions;

/**
 * What to do to a converted model after the clean-up passes, in pipeline order: structured pruning,
 * unstructured pruning, reconstruction, quantization, sparse encoding, evaluation, mixed precision.
 *
 * @param quant quantization settings (precision fp32 and no overrides: weights stay float32)
 * @param channels structured (channel) pruning, or null
 * @param prune unstructured pruning, or null
 * @param reconstruct least-squares refit of the compressed layers against the original: TRUE, FALSE, or null for
 *     the default (on when calibration data is given and something changes the weights)
 * @param obsMask reconstruction re-chooses the pruning mask by Optimal Brain Surgeon saliency
 * @param errorFeedback with calibration data, round quantized weights with error feedback (GPTQ) rather than to
 *     nearest
 * @param calibration calibration data (static int8 and reconstruction need it), or null
 * @param evaluation evaluation data, or null (the calibration data is then used, and the report says so)
 * @param targetAgreement automatic mixed precision: raise layers until top-1 agreement reaches this (NaN: off)
 * @param maxAccuracyDrop automatic mixed precision: raise layers until the labelled accuracy drop, in
 *     percentage points, is at most this (NaN: off)
 * @param maxOutputError automatic mixed precision: raise layers until the largest absolute difference of the
 *     first output from the original's, over the evaluation data, is at most this (NaN: off); for models whose
 *     output is not a class score (a probability, a regression)
 * @param maxPrecision automatic mixed precision raises no layer beyond this step of the ladder (e.g.
 *     {@code int8-weight}: every weight stays int8), or null for no limit
 * @param runtime backends the models run on (ahead of the Java reference kernels) while calibrating and evaluating
 * @param speedCheck the backends and kernel costs of the target host: an int8 layer whose kernels would run
 *     slower there than its float form keeps float compute ({@code SpeedCheck}); null: off
 */
public record CompressionOptions(QuantOptions quant, ChannelPruning.Options channels, MagnitudePruning.Options prune,
        Boolean reconstruct, boolean obsMask, boolean errorFeedback, Dataset calibration, Dataset evaluation,
        double targetAgreement, double maxAccuracyDrop, double maxOutputError, LayerPrecision maxPrecision,
        RuntimeOptions runtime, Progress progress, RuntimeOptions speedCheck) {

    public CompressionOptions {
        runtime = runtime == null ? RuntimeOptions.reference() : runtime;
        progress = progress == null ? Progress.NONE : progress;
        if (!Double.isNaN(targetAgreement) && !(targetAgreement > 0 && targetAgreement <= 1)) {
            throw new IllegalArgumentException("target agreement " + targetAgreement + " is not in (0, 1]");
        }
        if (!Double.isNaN(maxAccuracyDrop) && !(maxAccuracyDrop >= 0)) {
            throw new IllegalArgumentException("max accuracy drop " + maxAccuracyDrop + " is not >= 0");
        }
        if (!Double.isNaN(maxOutputError) && !(maxOutputError >= 0)) {
            throw new IllegalArgumentException("max output error " + maxOutputError + " is not >= 0");
        }
    }

    public static CompressionOptions of(QuantOptions quant) {
        return new CompressionOptions(quant, null, null, null, false, true, null, null, Double.NaN, Double.NaN,
                Double.NaN, null, null, null, null);
    }

    public CompressionOptions withQuant(QuantOptions q) {
        return new CompressionOptions(q, channels, prune, reconstruct, obsMask, errorFeedback, calibration,
                evaluation, targetAgreement, maxAccuracyDrop, maxOutputError, maxPrecision, runtime, progress, speedCheck);
    }

    public CompressionOptions withChannels(ChannelPruning.Options c) {
        return new CompressionOptions(quant, c, prune, reconstruct, obsMask, errorFeedback, calibration, evaluation,
                targetAgreement, maxAccuracyDrop, maxOutputError, maxPrecision, runtime, progress, speedCheck);
    }

    public CompressionOptions withPrune(MagnitudePruning.Options p) {
        return new CompressionOptions(quant, channels, p, reconstruct, obsMask, errorFeedback, calibration,
                evaluation, targetAgreement, maxAccuracyDrop, maxOutputError, maxPrecision, runtime, progress, speedCheck);
    }

    public CompressionOptions withReconstruct(Boolean r, boolean obs) {
        return new CompressionOptions(quant, channels, prune, r, obs, errorFeedback, calibration, evaluation,
                targetAgreement, maxAccuracyDrop, maxOutputError, maxPrecision, runtime, progress, speedCheck);
    }

    public CompressionOptions withErrorFeedback(boolean on) {
        return new CompressionOptions(quant, channels, prune, reconstruct, obsMask, on, calibration, evaluation,
                targetAgreement, maxAccuracyDrop, maxOutputError, maxPrecision, runtime, progress, speedCheck);
    }

    public CompressionOptions withCalibration(Dataset d) {
        return new CompressionOptions(quant, channels, prune, reconstruct, obsMask, errorFeedback, d, evaluation,
                targetAgreement, maxAccuracyDrop, maxOutputError, maxPrecision, runtime, progress, speedCheck);
    }

    public CompressionOptions withEvaluation(Dataset d) {
        return new CompressionOptions(quant, channels, prune, reconstruct, obsMask, errorFeedback, calibration, d,
                targetAgreement, maxAccuracyDrop, maxOutputError, maxPrecision, runtime, progress, speedCheck);
    }

    public CompressionOptions withTargets(double agreement, double drop) {
        return new CompressionOptions(quant, channels, prune, reconstruct, obsMask, errorFeedback, calibration,
                evaluation, agreement, drop, maxOutputError, maxPrecision, runtime, progress, speedCheck);
    }

    public CompressionOptions withMaxOutputError(double e) {
        return new CompressionOptions(quant, channels, prune, reconstruct, obsMask, errorFeedback, calibration,
                evaluation, targetAgreement, maxAccuracyDrop, e, maxPrecision, runtime, progress, speedCheck);
    }

    public CompressionOptions withMaxPrecision(LayerPrecision p) {
        return new CompressionOptions(quant, channels, prune, reconstruct, obsMask, errorFeedback, calibration,
                evaluation, targetAgreement, maxAccuracyDrop, maxOutputError, p, runtime, progress, speedCheck);
    }

    public CompressionOptions withRuntime(RuntimeOptions r) {
        return new CompressionOptions(quant, channels, prune, reconstruct, obsMask, errorFeedback, calibration,
                evaluation, targetAgreement, maxAccuracyDrop, maxOutputError, maxPrecision, r, progress, speedCheck);
    }

    public CompressionOptions withProgress(Progress p) {
        return new CompressionOptions(quant, channels, prune, reconstruct, obsMask, errorFeedback, calibration,
                evaluation, targetAgreement, maxAccuracyDrop, maxOutputError, maxPrecision, runtime, p, speedCheck);
    }

    public CompressionOptions withSpeedCheck(RuntimeOptions host) {
        return new CompressionOptions(quant, channels, prune, reconstruct, obsMask, errorFeedback, calibration,
                evaluation, targetAgreement, maxAccuracyDrop, maxOutputError, maxPrecision, runtime, progress, host);
    }

    /** Whether automatic mixed precision is on. */
    public boolean mixedPrecision() {
        return !Double.isNaN(targetAgreement) || !Double.isNaN(maxAccuracyDrop) || !Double.isNaN(maxOutputError);
    }
}
