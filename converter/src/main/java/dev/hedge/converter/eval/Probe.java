package dev.hedge.converter.eval;

/**
 * Where to read a float value of the reference model in the compressed one: under the same name, or, when
 * the compressed model only has it in uint8/int8 form, as {@code scale * (quantized - zeroPoint)}; then, when
 * compression rescaled its channels (activation smoothing), times {@code channelFactors[c]} along
 * {@code channelAxis} (negative: from the end).
 */
public record Probe(String value, String quantized, float scale, int zeroPoint, float[] channelFactors,
        int channelAxis) {

    public static Probe same(String value) {
        return new Probe(value, null, 0, 0, null, 0);
    }

    public Probe withChannelFactors(float[] factors, int axis) {
        return new Probe(value, quantized, scale, zeroPoint, factors, axis);
    }
}
