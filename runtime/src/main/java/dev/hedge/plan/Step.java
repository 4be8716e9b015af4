package dev.hedge.plan;

import dev.hedge.ir.Node;
import dev.hedge.kernels.Kernel;

/** One node to execute. A deferred step is prepared at run time, per session. */
final class Step {

    final int index;
    final Node node;
    final int[] inputs;
    final int[] outputs;
    /** Slots of values this node reads through its subgraphs (kept alive for it). */
    final int[] captures;
    Kernel kernel;
    String backend;
    /** The kernel reads this step's encoded constant inputs as stored (its offer's {@code readsEncoded}). */
    boolean readsEncoded;
    /** Kernel class of the chosen offer (null: not declared), why it was chosen, its estimate (NaN: none). */
    String kernelClass;
    String reason;
    double estimateNanos = Double.NaN;
    long packedBytes;
    boolean deferred;
    long scratchBytes;
    long scratchOffset = -1;
    boolean[] dynamicOutputs;
    /** Subgraph plans made while preparing (If/Loop), reused at run time when shapes match. */
    java.util.List<Plan> subplans = java.util.List.of();

    Step(int index, Node node, int[] inputs, int[] outputs, int[] captures) {
        this.index = index;
        this.node = node;
        this.inputs = inputs;
        this.outputs = outputs;
        this.captures = captures;
    }
}
