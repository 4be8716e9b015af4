package dev.hedge.converter.eval;

/**
 * Where to read a float value of the reference model in the compressed one: under the same name, or, when
 * the compressed model only has it in uint8/int8 form, as {@code scale * (quantized - zeroPoint)}.
 */
public record Probe(String value, String quantized, float scale, int zeroPoint) {

    public static Probe same(String value) {
        return new Probe(value, null, 0, 0);
    }
}
