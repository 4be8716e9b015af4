package dev.hedge.kernels;

/**
 * Measured cost of one kernel class on one host, single-threaded: a fixed cost per call, a cost per unit of work
 * ({@link Work}: multiply-adds for the linear-algebra ops, elements otherwise), and for the linear-algebra ops a
 * cost per constant weight element and one per row of the product ({@link Work#rows}). Square problems hide the
 * last two: a batch-1 fully connected layer reads (and packs) all its weights for one row and runs at a
 * fraction of the square rate, while each row costs its packing and requantization set-up.
 */
public record KernelCost(double overheadNanos, double nanosPerUnit, double nanosPerWeight, double nanosPerRow) {

    public KernelCost {
        if (!(overheadNanos >= 0) || !(nanosPerUnit > 0) || !(nanosPerWeight >= 0) || !(nanosPerRow >= 0)) {
            throw new IllegalArgumentException("kernel cost needs overhead >= 0, a positive cost per unit and costs"
                    + " per weight and row >= 0, got " + overheadNanos + " ns + " + nanosPerUnit + " ns/unit + "
                    + nanosPerWeight + " ns/weight + " + nanosPerRow + " ns/row");
        }
    }

    /** A cost without weight and row terms. */
    public KernelCost(double overheadNanos, double nanosPerUnit) {
        this(overheadNanos, nanosPerUnit, 0, 0);
    }

    /** Estimated nanoseconds for {@code work} units; the per-unit part shrinks with threads if parallel. */
    public double estimate(double work, int threads, boolean parallel) {
        return estimate(work, 0, 0, threads, parallel);
    }

    /** Estimated nanoseconds for {@code work} units over {@code weights} weight elements in {@code rows} rows. */
    public double estimate(double work, double weights, double rows, int threads, boolean parallel) {
        double t = parallel ? Math.max(1, threads) : 1;
        return overheadNanos + (nanosPerUnit * work + nanosPerWeight * weights + nanosPerRow * rows) / t;
    }

    /** Throughput in units per second (GFLOP/s = 2e-9 x this for multiply-adds). */
    public double unitsPerSecond() {
        return 1e9 / nanosPerUnit;
    }
}
