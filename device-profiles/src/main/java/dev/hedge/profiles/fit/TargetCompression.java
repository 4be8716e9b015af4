package dev.hedge.profiles.fit;

import dev.hedge.profiles.DeviceProfile;
import dev.hedge.runtime.InvalidInputException;
import java.util.Locale;

/**
 * How a profile shapes compression: the precision a conversion must use (full-integer targets force static
 * int8) and whether int8 weights must be per tensor and symmetric. {@link #resolve} merges it with what the
 * user asked for and refuses a request the target cannot take, so the compression pipeline only ever sees
 * settings the target accepts.
 *
 * @param forcedPrecision the precision every layer must have (e.g. {@code int8} static), or null for any
 * @param perTensor int8 weights with one scale per tensor
 * @param symmetric int8 weights with zero point 0
 */
public record TargetCompression(String profile, String forcedPrecision, boolean perTensor, boolean symmetric) {

    public static TargetCompression of(DeviceProfile p) {
        DeviceProfile.Precision q = p.precision();
        return new TargetCompression(p.name(), q.fullInteger() ? "int8" : null, !q.perChannelAllowed()
                || q.weightGranularity().get(0) == DeviceProfile.Granularity.PER_TENSOR, q.weightSymmetric());
    }

    /**
     * The settings to compress with, given the user's request (null: none asked).
     *
     * @param floatOutputs whether a static int8 layer may hand float to its float consumers; false on a
     *     full-integer target, which runs QLinearConv / QLinearMatMul only
     */
    public record Settings(String precision, boolean perTensor, boolean floatOutputs) {
    }

    /**
     * @param requested the user's {@code --quantize} value, or null
     * @param perTensorRequested whether the user asked for per-tensor int8 weights
     */
    public Settings resolve(String requested, boolean perTensorRequested) {
        String want = requested == null ? null : requested.trim().toLowerCase(Locale.ROOT);
        if (forcedPrecision != null) {
            if (want != null && !want.equals(forcedPrecision)) {
                throw new InvalidInputException("--quantize " + requested + " does not suit profile " + profile
                        + ": it runs full-integer models only (static " + forcedPrecision + "); drop --quantize or use "
                        + "--quantize " + forcedPrecision);
            }
            want = forcedPrecision;
        }
        return new Settings(want, perTensor || perTensorRequested, forcedPrecision == null);
    }
}
