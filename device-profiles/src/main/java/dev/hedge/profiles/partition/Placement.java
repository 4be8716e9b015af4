package dev.hedge.profiles.partition;

/**
 * Where one node runs and why.
 *
 * @param target {@code cpu} or the accelerator's name
 * @param partition the partition label ({@code p0}...) when the node was grouped into one, else null
 */
public record Placement(String node, String op, String target, String partition, String reason) {

    public boolean onCpu() {
        return target.equals(PartitionPlan.CPU);
    }
}
