package dev.hedge.converter.quantize;

import java.util.Arrays;
import java.util.Random;

/**
 * One-dimensional k-means for weight sharing: the palette of a codebook-encoded layer. Deterministic for a
 * given seed: k-means++ seeding on a seeded sample of at most {@link #SEED_SAMPLE} values, then Lloyd
 * iterations over all values, which in one dimension are a sweep over the sorted values (each cluster is an
 * interval between midpoints of consecutive centroids).
 */
public final class KMeans1D {

    static final int SEED_SAMPLE = 20_000;
    private static final int MAX_ITERATIONS = 2000;

    /** The palette (exactly k entries, sorted; unused entries repeat the last) and each value's entry. */
    public record Result(float[] palette, int[] index) {
    }

    private KMeans1D() {
    }

    /**
     * @param keepZero reserve an exact 0 entry for values equal to 0 (pruned weights stay exactly 0)
     */
    public static Result cluster(float[] values, int k, long seed, boolean keepZero) {
        int n = values.length;
        float[] sorted = values.clone();
        Arrays.sort(sorted);
        double[] centroids = seed(sorted, k, seed, keepZero);
        int kk = centroids.length;
        double[] prefix = new double[n + 1];
        for (int i = 0; i < n; i++) {
            prefix[i + 1] = prefix[i] + sorted[i];
        }
        int zeroLo = keepZero ? lowerBound(sorted, 0f) : 0;
        int zeroHi = keepZero ? upperBound(sorted, 0f) : 0;
        for (int it = 0; it < MAX_ITERATIONS; it++) {
            Arrays.sort(centroids);
            double[] next = centroids.clone();
            boolean moved = false;
            int start = 0;
            for (int c = 0; c < kk; c++) {
                int end = c == kk - 1 ? n : upperBoundD(sorted, (centroids[c] + centroids[c + 1]) / 2);
                end = Math.max(end, start);
                if (keepZero && centroids[c] == 0) {
                    // the zero entry stays exactly 0
                } else {
                    double sum = prefix[end] - prefix[start];
                    int cnt = end - start;
                    if (keepZero && zeroLo < end && zeroHi > start) {
                        int ov = Math.min(end, zeroHi) - Math.max(start, zeroLo);
                        cnt -= ov;
                    }
                    if (cnt > 0) {
                        next[c] = sum / cnt;
                    }
                }
                if (next[c] != centroids[c]) {
                    moved = true;
                }
                start = end;
            }
            centroids = next;
            if (!moved) {
                break;
            }
        }
        Arrays.sort(centroids);
        float[] palette = new float[k];
        for (int i = 0; i < k; i++) {
            palette[i] = (float) centroids[Math.min(i, kk - 1)];
        }
        int[] index = new int[n];
        for (int i = 0; i < n; i++) {
            index[i] = nearest(palette, kk, values[i], keepZero);
        }
        return new Result(palette, index);
    }

    /** Index of the entry of the sorted {@code palette} nearest to {@code v}. */
    public static int nearest(float[] palette, float v) {
        return nearest(palette, palette.length, v, false);
    }

    private static int nearest(float[] palette, int used, float v, boolean keepZero) {
        if (keepZero && v == 0) {
            for (int i = 0; i < used; i++) {
                if (palette[i] == 0) {
                    return i;
                }
            }
        }
        int lo = 0;
        int hi = used - 1;
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if (palette[mid + 1] <= v) {
                lo = mid + 1;
            } else if (palette[mid] >= v) {
                hi = mid;
            } else {
                return v - palette[mid] <= palette[mid + 1] - v ? mid : mid + 1;
            }
        }
        return lo;
    }

    /** k-means++ on a seeded sample; fewer distinct values than k gives one centroid per distinct value. */
    private static double[] seed(float[] sorted, int k, long seed, boolean keepZero) {
        int n = sorted.length;
        double[] distinct = new double[k + 1];
        int nd = 0;
        boolean hasZero = false;
        for (int i = 0; i < n && nd <= k; i++) {
            if (i == 0 || sorted[i] != sorted[i - 1]) {
                distinct[nd++] = sorted[i];
                hasZero |= sorted[i] == 0;
            }
        }
        if (nd <= k) {
            if (nd == 0) {
                return new double[] {0};
            }
            // room permitting, an exact 0 entry for the pruned weights
            return Arrays.copyOf(distinct, keepZero && !hasZero && nd < k ? nd + 1 : nd);
        }
        Random r = new Random(seed);
        int m = Math.min(n, SEED_SAMPLE);
        double[] sample = new double[m];
        for (int i = 0; i < m; i++) {
            sample[i] = sorted[m == n ? i : r.nextInt(n)];
        }
        double[] c = new double[k];
        int have = 0;
        if (keepZero) {
            c[have++] = 0;
        }
        if (have == 0) {
            c[have++] = sample[r.nextInt(m)];
        }
        double[] d2 = new double[m];
        for (int i = 0; i < m; i++) {
            d2[i] = sq(sample[i] - c[0]);
        }
        while (have < k) {
            double total = 0;
            for (double d : d2) {
                total += d;
            }
            double pick;
            if (total == 0) {
                break;
            }
            double t = r.nextDouble() * total;
            int j = 0;
            for (; j < m - 1; j++) {
                t -= d2[j];
                if (t <= 0) {
                    break;
                }
            }
            pick = sample[j];
            c[have++] = pick;
            for (int i = 0; i < m; i++) {
                d2[i] = Math.min(d2[i], sq(sample[i] - pick));
            }
        }
        return Arrays.copyOf(c, have);
    }

    private static double sq(double v) {
        return v * v;
    }

    private static int lowerBound(float[] a, float v) {
        int lo = 0;
        int hi = a.length;
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if (a[mid] < v) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        return lo;
    }

    private static int upperBound(float[] a, float v) {
        int lo = 0;
        int hi = a.length;
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if (a[mid] <= v) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        return lo;
    }

    /** First index whose value exceeds {@code v} (values equal to a midpoint go to the lower cluster). */
    private static int upperBoundD(float[] a, double v) {
        int lo = 0;
        int hi = a.length;
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if (a[mid] <= v) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        return lo;
    }
}
