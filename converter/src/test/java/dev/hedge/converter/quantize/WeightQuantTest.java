package dev.hedge.converter.quantize;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.hedge.format.Decoding;
import dev.hedge.runtime.DType;
import dev.hedge.runtime.Tensor;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Weight quantizers against their definitions, computed here directly. */
class WeightQuantTest {

    private static Tensor random(long seed, int... shape) {
        Random r = new Random(seed);
        float[] v = new float[Tensor.elementCount(shape)];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) r.nextGaussian() * (1 + i % 3);
        }
        return Tensor.of(v, shape);
    }

    @Test
    void int8PerChannelUsesEachChannelsAbsMax() {
        Tensor w = random(1, 4, 3, 2);
        WeightQuant.Quantized q = WeightQuant.int8Symmetric(w, 0);
        assertEquals(DType.INT8, q.values().dtype());
        assertArrayEquals(new int[] {4}, q.scaleShape());
        float[] v = w.toFloatArray();
        for (int c = 0; c < 4; c++) {
            float max = 0;
            for (int i = 0; i < 6; i++) {
                max = Math.max(max, Math.abs(v[c * 6 + i]));
            }
            assertEquals(max / 127f, q.scales()[c]);
            for (int i = 0; i < 6; i++) {
                long qi = q.values().getLong(c * 6 + i);
                assertTrue(qi >= -127 && qi <= 127);
                assertEquals(Math.rint(v[c * 6 + i] / q.scales()[c]), qi, 0.0);
            }
        }
    }

    @Test
    void int8PerTensorAndAlongTheLastAxis() {
        Tensor w = random(2, 3, 5);
        WeightQuant.Quantized t = WeightQuant.int8Symmetric(w, -1);
        assertEquals(1, t.scales().length);
        assertEquals(0, t.scaleShape().length);
        WeightQuant.Quantized cols = WeightQuant.int8Symmetric(w, 1);
        float[] v = w.toFloatArray();
        for (int j = 0; j < 5; j++) {
            float max = 0;
            for (int i = 0; i < 3; i++) {
                max = Math.max(max, Math.abs(v[i * 5 + j]));
            }
            assertEquals(max / 127f, cols.scales()[j]);
        }
    }

    @Test
    void int4BlocksAlongTheAxisWithBoundedError() {
        Tensor w = random(3, 6, 10);
        WeightQuant.Quantized q = WeightQuant.int4Blocked(w, 1, 4);
        assertArrayEquals(new int[] {6, 3}, q.scaleShape());
        assertEquals(DType.INT4, q.values().dtype());
        float[] v = w.toFloatArray();
        for (int r = 0; r < 6; r++) {
            for (int c = 0; c < 10; c++) {
                int blk = c / 4;
                float s = q.scales()[r * 3 + blk];
                float max = 0;
                for (int k = blk * 4; k < Math.min(10, blk * 4 + 4); k++) {
                    max = Math.max(max, Math.abs(v[r * 10 + k]));
                }
                assertTrue(s <= max / 7f * 1.0001f && s >= max / 14f, "scale " + s + " for block max " + max);
                long qi = q.values().getLong(r * 10 + c);
                assertTrue(qi >= -8 && qi <= 7);
                // within half a step, or clipped at the end of the range
                double err = Math.abs(qi * s - v[r * 10 + c]);
                assertTrue(err <= s / 2 + 1e-6 || Math.abs(qi) >= 7, "error " + err + " at scale " + s);
            }
        }
    }

    @Test
    void int32BiasUsesTheProductOfScales() {
        Tensor b = WeightQuant.int32Bias(new float[] {1f, -2f, 0.3f}, 0.5f, new float[] {0.1f, 0.2f, 0.01f});
        assertArrayEquals(new int[] {(int) Math.rint(1f / (0.5f * 0.1f)), (int) Math.rint(-2f / (0.5f * 0.2f)),
            (int) Math.rint(0.3f / (0.5f * 0.01f))}, b.toIntArray());
    }

    @Test
    void fp16RoundTripsWithinHalfPrecision() {
        Tensor w = random(4, 50);
        Tensor h = WeightQuant.fp16(w);
        float[] v = w.toFloatArray();
        for (int i = 0; i < v.length; i++) {
            assertEquals(v[i], h.getFloat(i), Math.abs(v[i]) / 1024 + 1e-7);
        }
    }

    @Test
    void codebookPacksIndicesThatDecodeToThePalette() {
        Tensor w = random(5, 7, 9);
        for (int bits = 2; bits <= 8; bits++) {
            Tensor c = ModelQuantizer.codebook(w, bits, 11);
            assertEquals((63 * bits + 7) / 8, c.data().capacity());
            assertEquals(1 << bits, c.codebook().paletteSize());
            float[] dense = Decoding.densify(c).toFloatArray();
            float[] v = w.toFloatArray();
            float[] palette = c.codebook().palette();
            for (int i = 0; i < v.length; i++) {
                float best = Float.MAX_VALUE;
                for (float p : palette) {
                    best = Math.min(best, Math.abs(p - v[i]));
                }
                assertEquals(best, Math.abs(dense[i] - v[i]), 1e-6f, "element " + i + " at " + bits + " bits");
            }
        }
    }
}
