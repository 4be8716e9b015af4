package dev.hedge.kernels;

/**
 * Measured cost of one kernel class on one host: a fixed cost per call plus a cost per unit of work
 * ({@link Work}: multiply-adds for the linear-algebra ops, elements otherwise), single-threaded.
 */
public record KernelCost(double overheadNanos, double nanosPerUnit) {

    public KernelCost {
        if (!(overheadNanos >= 0) || !(nanosPerUnit > 0)) {
            throw new IllegalArgumentException("kernel cost needs overhead >= 0 and a positive cost per unit, got "
                    + overheadNanos + " ns + " + nanosPerUnit + " ns/unit");
        }
    }

    /** Estimated nanoseconds for {@code work} units; the per-unit part shrinks with threads if parallel. */
    public double estimate(double work, int threads, boolean parallel) {
        double t = parallel ? Math.max(1, threads) : 1;
        return overheadNanos + nanosPerUnit * work / t;
    }

    /** Throughput in units per second (GFLOP/s = 2e-9 x this for multiply-adds). */
    public double unitsPerSecond() {
        return 1e9 / nanosPerUnit;
    }
}
