package dev.hedge.kernels;

import dev.hedge.ir.Graph;
import dev.hedge.runtime.DType;
import dev.hedge.runtime.Tensor;
import java.nio.ByteBuffer;
import java.util.List;

/** What a kernel sees while it runs. */
public interface RunContext {

    /** Input {@code i}, or null when omitted. */
    Tensor input(int i);

    /** Output {@code i} (allocated by the planner), or null when unused. */
    Tensor output(int i);

    /** Allocates an output declared with {@link PrepareContext#setOutputDynamic}. */
    Tensor allocateOutput(int i, DType dtype, int... shape);

    /** The scratch memory asked for at prepare time (position 0, little-endian). */
    ByteBuffer scratch();

    /**
     * Runs intra-op work {@code body.run(i)} for i in [0, n) on the model's thread pool. A capturing lambda
     * allocates on every call: kernels on the hot path use {@link #parallelFor(int, TileTask)}.
     */
    void parallelFor(int n, IntConsumerTask body);

    /**
     * Runs {@code task.run(this, tile, worker)} for every tile in [0, n) on the model's thread pool and
     * returns when all are done. Each tile must write only its own part of the outputs, so the result does
     * not depend on how many threads there are. {@code worker} (below {@link #threads()}) names the thread
     * running the tile, for per-thread scratch: ask for {@code threads() * perThread} bytes at prepare time
     * and use the region of {@code worker}. Passing the kernel itself (or a non-capturing lambda) as the task
     * allocates nothing; per-run data reaches the task through this context.
     */
    default void parallelFor(int n, TileTask task) {
        for (int i = 0; i < n; i++) {
            task.run(this, i, 0);
        }
    }

    /** Threads that may run tiles of {@link #parallelFor} at once; the same as at prepare time. */
    default int threads() {
        return 1;
    }

    /**
     * Runs a subgraph (If/Loop body) on these inputs; the outputs stay valid until this subgraph runs
     * again in this session.
     */
    List<Tensor> runSubgraph(Graph graph, List<Tensor> inputs);

    @FunctionalInterface
    interface IntConsumerTask {
        void run(int i);
    }

    /** One tile of intra-op work; see {@link #parallelFor(int, TileTask)}. */
    @FunctionalInterface
    interface TileTask {
        void run(RunContext ctx, int tile, int worker);
    }
}
