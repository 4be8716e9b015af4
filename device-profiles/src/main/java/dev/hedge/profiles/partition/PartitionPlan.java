package dev.hedge.profiles.partition;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** Which node runs where for one profile, the partitions considered, and warnings (accelerators that failed). */
public record PartitionPlan(String profile, List<Placement> placements, List<Partition> partitions,
        List<String> warnings) {

    public static final String CPU = "cpu";

    public PartitionPlan {
        placements = List.copyOf(placements);
        partitions = List.copyOf(partitions);
        warnings = List.copyOf(warnings);
    }

    /** Nodes that run on the CPU although the profile has an accelerator. */
    public List<Placement> cpuNodes() {
        return placements.stream().filter(Placement::onCpu).toList();
    }

    public List<Partition> accepted() {
        return partitions.stream().filter(Partition::accepted).toList();
    }

    /** A copy with one partition's decision replaced (e.g. it failed to load) and a warning added. */
    PartitionPlan fallBack(Partition p, String why) {
        List<Partition> ps = new ArrayList<>();
        for (Partition q : partitions) {
            ps.add(q.id() == p.id() ? q.withDecision(false, why) : q);
        }
        List<Placement> pl = new ArrayList<>();
        for (Placement x : placements) {
            pl.add(p.label().equals(x.partition())
                    ? new Placement(x.node(), x.op(), CPU, x.partition(), "partition " + p.label()
                            + " failed at load (see the warning)")
                    : x);
        }
        List<String> w = new ArrayList<>(warnings);
        w.add(p.accelerator() + " partition " + p.label() + " " + why + "; it runs on the CPU");
        return new PartitionPlan(profile, pl, ps, w);
    }

    /** The plan as text: partitions with their estimates and decision, then one line per node. */
    public String explain() {
        StringBuilder sb = new StringBuilder();
        long acc = placements.stream().filter(p -> !p.onCpu()).count();
        sb.append(String.format(Locale.ROOT, "placement for profile %s: %d nodes, %d on accelerators, %d on the CPU%n",
                profile, placements.size(), acc, placements.size() - acc));
        for (Partition p : partitions) {
            sb.append(String.format(Locale.ROOT, "  partition %s on %s: %d node%s, %,d MACs, %,d boundary bytes, "
                    + "predicted %.1f us vs %.1f us on the CPU: %s: %s%n", p.label(), p.accelerator(), p.nodes().size(),
                    p.nodes().size() == 1 ? "" : "s",
                    p.macs(), p.boundaryBytes(), p.acceleratorMicros(), p.cpuMicros(),
                    p.accepted() ? "accepted" : "refused", p.reason()));
        }
        for (String w : warnings) {
            sb.append("  warning: ").append(w).append('\n');
        }
        for (Placement p : placements) {
            sb.append(String.format(Locale.ROOT, "  %-22s %-28s %-14s %s%n", p.op(), p.node(),
                    p.target() + (p.partition() == null ? "" : "/" + p.partition()), p.reason()));
        }
        return sb.toString();
    }
}
