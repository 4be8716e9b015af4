package dev.hedge.converter;

import dev.hedge.converter.data.Dataset;
import dev.hedge.converter.quantize.QuantOptions;
import dev.hedge.runtime.RuntimeOptions;

/**
 * What to do to a converted model after the clean-up passes.
 *
 * @param quant quantization settings (precision fp32 and no overrides: weights untouched)
 * @param calibration calibration data (static int8 needs it), or null
 * @param evaluation evaluation data, or null (the calibration data is then used, and the report says so)
 * @param targetAgreement automatic mixed precision: raise layers until top-1 agreement reaches this (NaN: off)
 * @param maxAccuracyDrop automatic mixed precision: raise layers until the labelled accuracy drop, in
 *     percentage points, is at most this (NaN: off)
 * @param runtime backends the models run on (ahead of the Java reference kernels) while calibrating and evaluating
 */
public record CompressionOptions(QuantOptions quant, Dataset calibration, Dataset evaluation, double targetAgreement,
        double maxAccuracyDrop, RuntimeOptions runtime, Progress progress) {

    public CompressionOptions {
        runtime = runtime == null ? RuntimeOptions.defaults() : runtime;
        progress = progress == null ? Progress.NONE : progress;
    }

    public static CompressionOptions of(QuantOptions quant) {
        return new CompressionOptions(quant, null, null, Double.NaN, Double.NaN, null, null);
    }

    public CompressionOptions withCalibration(Dataset d) {
        return new CompressionOptions(quant, d, evaluation, targetAgreement, maxAccuracyDrop, runtime, progress);
    }

    public CompressionOptions withEvaluation(Dataset d) {
        return new CompressionOptions(quant, calibration, d, targetAgreement, maxAccuracyDrop, runtime, progress);
    }

    public CompressionOptions withTargets(double agreement, double drop) {
        return new CompressionOptions(quant, calibration, evaluation, agreement, drop, runtime, progress);
    }

    public CompressionOptions withRuntime(RuntimeOptions r) {
        return new CompressionOptions(quant, calibration, evaluation, targetAgreement, maxAccuracyDrop, r, progress);
    }

    public CompressionOptions withProgress(Progress p) {
        return new CompressionOptions(quant, calibration, evaluation, targetAgreement, maxAccuracyDrop, runtime, p);
    }

    /** Whether automatic mixed precision is on. */
    public boolean mixedPrecision() {
        return !Double.isNaN(targetAgreement) || !Double.isNaN(maxAccuracyDrop);
    }
}
