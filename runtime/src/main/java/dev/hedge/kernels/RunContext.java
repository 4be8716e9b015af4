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

    /** Runs intra-op work {@code body.run(i)} for i in [0, n) on the session's pool. */
    void parallelFor(int n, IntConsumerTask body);

    /**
     * Runs a subgraph (If/Loop body) on these inputs; the outputs stay valid until this subgraph runs
     * again in this session.
     */
    List<Tensor> runSubgraph(Graph graph, List<Tensor> inputs);

    @FunctionalInterface
    interface IntConsumerTask {
        void run(int i);
    }
}
