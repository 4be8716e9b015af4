package dev.hedge.converter.quantize;

import java.util.Locale;

/** How an activation's quantization range is chosen from its calibration statistics. */
public enum CalibrationMethod {
    /** The observed minimum and maximum. */
    MINMAX,
    /** The given percentile of the values at the top (and 100 minus it at the bottom). */
    PERCENTILE,
    /** The threshold minimising the KL divergence between the value histogram and its quantized form. */
    ENTROPY,
    /** The range minimising the mean squared quantization error over the histogram. */
    MSE;

    public static CalibrationMethod parse(String s) {
        try {
            return valueOf(s.trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("unknown calibration method '" + s
                    + "'; expected minmax, percentile, entropy or mse");
        }
    }

    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }
}
