package dev.hedge.converter.quantize;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.hedge.runtime.Tensor;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Range choice against direct computations on the raw values. */
class RangesTest {

    private static ValueStats stats(float[] v, boolean histogram) {
        ValueStats s = new ValueStats();
        Tensor t = Tensor.of(v, v.length);
        s.observeRange(t);
        if (histogram) {
            s.startHistogram();
            s.observeHistogram(t);
        }
        return s;
    }

    /** Mean squared error of uint8 quantization of the raw values with these parameters. */
    private static double mse(float[] v, Ranges.Affine q) {
        double e = 0;
        for (float x : v) {
            double r = Math.max(0, Math.min(255, Math.rint(x / q.scale()) + q.zeroPoint()));
            double d = q.scale() * (r - q.zeroPoint()) - x;
            e += d * d;
        }
        return e / v.length;
    }

    private static float[] gaussianWithOutliers(long seed, int n) {
        Random r = new Random(seed);
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) r.nextGaussian();
        }
        v[0] = 40;
        v[1] = -25;
        return v;
    }

    @Test
    void uint8ParametersIncludeZeroExactly() {
        Ranges.Affine a = Ranges.uint8(0.5, 3.0);
        // the range widens to [0, 3]: zero maps to the integer 0
        assertEquals(3f / 255, a.scale(), 1e-9);
        assertEquals(0, a.zeroPoint());
        Ranges.Affine b = Ranges.uint8(-1.0, 3.0);
        assertEquals(4f / 255, b.scale(), 1e-9);
        assertEquals(Math.rint(1.0 / b.scale()), b.zeroPoint());
        assertEquals(0f, b.scale() * (b.zeroPoint() - b.zeroPoint()));
        Ranges.Affine c = Ranges.uint8(-2.0, -1.0);
        assertEquals(255, c.zeroPoint());
        assertEquals(new Ranges.Affine(1f, 0), Ranges.uint8(0, 0));
    }

    @Test
    void minmaxIsTheObservedRange() {
        float[] v = gaussianWithOutliers(1, 1000);
        double[] r = Ranges.choose(stats(v, false), CalibrationMethod.MINMAX, 0);
        assertEquals(-25, r[0]);
        assertEquals(40, r[1]);
    }

    @Test
    void percentileMatchesSortedValuesWithinABin() {
        float[] v = gaussianWithOutliers(2, 100_000);
        ValueStats s = stats(v, true);
        double[] r = Ranges.choose(s, CalibrationMethod.PERCENTILE, 99.9);
        float[] sorted = v.clone();
        Arrays.sort(sorted);
        double lo = sorted[(int) (0.001 * v.length)];
        double hi = sorted[(int) (0.999 * v.length)];
        double bin = s.binWidth();
        assertEquals(lo, r[0], 2 * bin);
        assertEquals(hi, r[1], 2 * bin);
    }

    @Test
    void entropyAndMseClipOutliersAndMseBeatsMinmax() {
        float[] v = gaussianWithOutliers(3, 50_000);
        ValueStats s = stats(v, true);
        double[] kl = Ranges.choose(s, CalibrationMethod.ENTROPY, 0);
        double[] ms = Ranges.choose(s, CalibrationMethod.MSE, 0);
        assertTrue(kl[1] < 20 && kl[1] > 2, "KL threshold " + Arrays.toString(kl));
        assertTrue(ms[1] < 40 && ms[0] > -25, "MSE range " + Arrays.toString(ms));
        double minmaxErr = mse(v, Ranges.uint8(-25, 40));
        double mseErr = mse(v, Ranges.uint8(ms[0], ms[1]));
        assertTrue(mseErr < minmaxErr, mseErr + " vs " + minmaxErr);
    }

    @Test
    void entropyKeepsTheWholeRangeOfAUniformValue() {
        float[] v = new float[20_000];
        Random r = new Random(4);
        for (int i = 0; i < v.length; i++) {
            v[i] = r.nextFloat() * 6;
        }
        double[] kl = Ranges.choose(stats(v, true), CalibrationMethod.ENTROPY, 0);
        assertEquals(6, kl[1], 0.1);
        assertEquals(0, kl[0], 1e-3);
    }
}
