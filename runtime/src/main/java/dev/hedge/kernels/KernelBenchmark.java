package dev.hedge.kernels;

/**
 * A representative workload of one kernel class, timed by {@link KernelCosts} to learn the class's cost on
 * this host. Backends give one per kernel class they name ({@link Backend#benchmark}).
 */
@FunctionalInterface
public interface KernelBenchmark {

    /** A problem of about {@code work} units, ready to run repeatedly. */
    Problem problem(long work);

    /**
     * For the linear-algebra classes: a one-row product over about {@code weights} constant weights (work =
     * weights), which with the square problems separates the per-weight and per-row costs from the
     * per-multiply-add one; null when the class has no weights (then its cost has neither term).
     */
    default Problem rowProblem(long weights) {
        return null;
    }

    /** A benchmark with square problems from {@code square} and one-row problems from {@code row}. */
    static KernelBenchmark of(java.util.function.LongFunction<Problem> square,
            java.util.function.LongFunction<Problem> row) {
        return new KernelBenchmark() {
            @Override
            public Problem problem(long work) {
                return square.apply(work);
            }

            @Override
            public Problem rowProblem(long weights) {
                return row.apply(weights);
            }
        };
    }

    interface Problem extends AutoCloseable {
        /** The problem's exact work in units. */
        long work();

        /** Its constant weight elements (0 for classes without weights). */
        default long weights() {
            return 0;
        }

        /** Rows of its product (0 for classes without weights). */
        default long rows() {
            return 0;
        }

        void run();

        @Override
        default void close() {
        }
    }
}
