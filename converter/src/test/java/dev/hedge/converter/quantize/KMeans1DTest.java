package dev.hedge.converter.quantize;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

class KMeans1DTest {

    private static float[] gaussian(long seed, int n) {
        Random r = new Random(seed);
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) r.nextGaussian();
        }
        return v;
    }

    /** Lloyd's fixed point: every used entry is the mean of its values, and each value has its nearest entry. */
    @Property(tries = 40)
    void resultIsAFixedPointOfLloyd(@ForAll long seed, @ForAll @IntRange(min = 2, max = 6) int bits) {
        float[] v = gaussian(seed, 3000);
        int k = 1 << bits;
        KMeans1D.Result r = KMeans1D.cluster(v, k, seed, false);
        assertEquals(k, r.palette().length);
        double[] sum = new double[k];
        int[] cnt = new int[k];
        for (int i = 0; i < v.length; i++) {
            int c = r.index()[i];
            sum[c] += v[i];
            cnt[c]++;
            float d = Math.abs(v[i] - r.palette()[c]);
            for (float p : r.palette()) {
                assertTrue(d <= Math.abs(v[i] - p) + 1e-6f, "value " + v[i] + " not at its nearest entry");
            }
        }
        for (int c = 0; c < k; c++) {
            if (cnt[c] > 0) {
                assertEquals(sum[c] / cnt[c], r.palette()[c], 1e-4, "entry " + c);
            }
        }
    }

    @Test
    void sameSeedSameResult() {
        float[] v = gaussian(5, 10_000);
        KMeans1D.Result a = KMeans1D.cluster(v, 16, 42, false);
        KMeans1D.Result b = KMeans1D.cluster(v, 16, 42, false);
        assertArrayEquals(a.palette(), b.palette());
        assertArrayEquals(a.index(), b.index());
    }

    @Test
    void zerosStayExactlyZero() {
        float[] v = gaussian(6, 2000);
        for (int i = 0; i < v.length; i += 2) {
            v[i] = 0;
        }
        KMeans1D.Result r = KMeans1D.cluster(v, 4, 1, true);
        for (int i = 0; i < v.length; i += 2) {
            assertEquals(0f, r.palette()[r.index()[i]]);
        }
    }

    @Test
    void fewDistinctValuesAreReproducedExactly() {
        float[] v = {0.5f, -1f, 0.5f, 2f, 2f, -1f};
        KMeans1D.Result r = KMeans1D.cluster(v, 8, 0, false);
        for (int i = 0; i < v.length; i++) {
            assertEquals(v[i], r.palette()[r.index()[i]]);
        }
    }
}
