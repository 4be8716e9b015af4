package dev.hedge.ir;

/**
 * Weight sharing: values are entries of {@code palette}, picked by {@code indexBits}-bit indices packed
 * LSB-first in the tensor's payload. With {@code axis >= 0} there is one palette of {@code 2^indexBits}
 * entries per slice along that axis, concatenated.
 */
public record Codebook(float[] palette, int indexBits, int axis) {

    public Codebook {
        if (indexBits < 1 || indexBits > 8) {
            throw new IllegalArgumentException("codebook index width must be 1..8 bits, got " + indexBits);
        }
        palette = palette.clone();
    }

    @Override
    public float[] palette() {
        return palette.clone();
    }

    public float entry(int i) {
        return palette[i];
    }

    public int paletteSize() {
        return palette.length;
    }
}
