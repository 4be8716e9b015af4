package dev.hedge.kernels;

/**
 * A representative workload of one kernel class, timed by {@link KernelCosts} to learn the class's cost on
 * this host. Backends give one per kernel class they name ({@link Backend#benchmark}).
 */
@FunctionalInterface
public interface KernelBenchmark {

    /** A problem of about {@code work} units, ready to run repeatedly. */
    Problem problem(long work);

    interface Problem extends AutoCloseable {
        /** The problem's exact work in units. */
        long work();

        void run();

        @Override
        default void close() {
        }
    }
}
