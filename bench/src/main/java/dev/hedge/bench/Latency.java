package dev.hedge.bench;

import java.util.Arrays;

/** Latency statistics of timed runs (milliseconds) and the throughput they imply. */
public record Latency(int iterations, double minMs, double medianMs, double p90Ms, double p99Ms, double meanMs,
        double runsPerSecond) {

    /** From per-run nanoseconds; percentiles by nearest rank. */
    public static Latency of(long[] nanos) {
        if (nanos.length == 0) {
            throw new IllegalArgumentException("no timed runs");
        }
        long[] s = nanos.clone();
        Arrays.sort(s);
        double sum = 0;
        for (long v : s) {
            sum += v;
        }
        double mean = sum / s.length;
        return new Latency(s.length, s[0] / 1e6, rank(s, 0.5) / 1e6, rank(s, 0.9) / 1e6, rank(s, 0.99) / 1e6,
                mean / 1e6, 1e9 / mean);
    }

    private static double rank(long[] sorted, double p) {
        int i = (int) Math.ceil(p * sorted.length) - 1;
        return sorted[Math.max(0, Math.min(sorted.length - 1, i))];
    }
}
