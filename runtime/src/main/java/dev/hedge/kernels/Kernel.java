package dev.hedge.kernels;

/**
 * A kernel runs one node. It is created for one node of one plan and knows nothing of the graph.
 *
 * <ul>
 *   <li>{@link #prepare} runs once per plan (input shapes known): validate inputs, compute output dtypes and
 *       shapes, ask for scratch memory, pack constant weights. Everything that can be decided here is.</li>
 *   <li>{@link #run} runs per inference: it must not allocate on the heap and must not change the kernel's
 *       own fields (one prepared kernel may serve several sessions at once). Per-run state goes in
 *       {@link RunContext#scratch()}.</li>
 * </ul>
 *
 * If {@code prepare} needs an input's value or shape that is only known at run time, the context throws
 * {@link Deferred} and the planner re-runs {@code prepare} at run time with actual inputs.
 */
public interface Kernel {

    void prepare(PrepareContext ctx);

    void run(RunContext ctx);
}
