package dev.hedge.runtime;

import java.util.Arrays;

/**
 * Affine quantization of a tensor: {@code real = scale * (q - zeroPoint)}. One scale means per tensor;
 * otherwise one per slice along {@code axis}, or, with {@code blockSize > 0}, one per block of
 * {@code blockSize} elements along {@code axis}.
 */
public record QuantParams(float[] scales, long[] zeroPoints, int axis, int blockSize) {

    public QuantParams {
        if (scales == null || scales.length == 0) {
            throw new IllegalArgumentException("quantization needs at least one scale");
        }
        if (zeroPoints != null && zeroPoints.length != scales.length) {
            throw new IllegalArgumentException(
                    "quantization has " + scales.length + " scales but " + zeroPoints.length + " zero points");
        }
        scales = scales.clone();
        zeroPoints = zeroPoints == null ? new long[scales.length] : zeroPoints.clone();
    }

    public static QuantParams perTensor(float scale, long zeroPoint) {
        return new QuantParams(new float[] {scale}, new long[] {zeroPoint}, 0, 0);
    }

    public static QuantParams perAxis(float[] scales, long[] zeroPoints, int axis) {
        return new QuantParams(scales, zeroPoints, axis, 0);
    }

    public boolean isPerTensor() {
        return scales.length == 1;
    }

    public float scale() {
        return scales[0];
    }

    public long zeroPoint() {
        return zeroPoints[0];
    }

    @Override
    public float[] scales() {
        return scales.clone();
    }

    @Override
    public long[] zeroPoints() {
        return zeroPoints.clone();
    }

    public float scale(int i) {
        return scales[i];
    }

    public long zeroPoint(int i) {
        return zeroPoints[i];
    }

    public int count() {
        return scales.length;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof QuantParams q && Arrays.equals(scales, q.scales) && Arrays.equals(zeroPoints, q.zeroPoints)
                && axis == q.axis && blockSize == q.blockSize;
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(scales) * 31 + Arrays.hashCode(zeroPoints) + axis * 7 + blockSize;
    }

    @Override
    public String toString() {
        return isPerTensor() ? "scale=" + scales[0] + " zp=" + zeroPoints[0]
                : scales.length + " scales on axis " + axis + (blockSize > 0 ? " block " + blockSize : "");
    }
}
