package dev.hedge.profiles.partition;

import dev.hedge.ir.Node;
import java.util.List;

/**
 * Nodes contiguous in topological order that one accelerator runs together (contiguity in a topological
 * order makes the group convex: no path leaves it and comes back).
 *
 * @param inputs values read from outside (graph inputs or CPU results; constants are compiled in)
 * @param outputs values read after it or graph outputs
 * @param macs multiply-accumulates of its nodes
 * @param boundaryBytes bytes crossing into and out of it per run
 * @param acceleratorMicros predicted time on the accelerator (dispatch + transfers + compute)
 * @param cpuMicros predicted time of the same nodes on the CPU
 * @param accepted whether it runs on the accelerator
 * @param reason why it was accepted or refused
 */
public record Partition(int id, String accelerator, List<Node> nodes, List<String> inputs, List<String> outputs,
        long macs, long boundaryBytes, double acceleratorMicros, double cpuMicros, boolean accepted,
        String reason) {

    public Partition withDecision(boolean accept, String why) {
        return new Partition(id, accelerator, nodes, inputs, outputs, macs, boundaryBytes, acceleratorMicros,
                cpuMicros, accept, why);
    }

    public String label() {
        return "p" + id;
    }
}
