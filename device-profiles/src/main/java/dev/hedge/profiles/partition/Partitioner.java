package dev.hedge.profiles.partition;

import dev.hedge.ir.Graph;
import dev.hedge.ir.Node;
import dev.hedge.profiles.DeviceProfile;
import dev.hedge.profiles.DeviceProfile.Accelerator;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Groups the nodes an accelerator runs into partitions and decides, per partition, whether the accelerator
 * or the CPU runs it. A node goes to the first accelerator of the profile that lists its op and input dtype
 * and whose delegate translates it; consecutive such nodes (in topological order) of one accelerator form a
 * partition. A partition is refused, and runs on the CPU, when it has fewer nodes than the accelerator's
 * {@code minPartitionNodes}, or when (with {@code refuseSlower}) its predicted time — dispatch, moving its
 * boundary tensors, compute at the accelerator's rate — is not below the CPU's. Profiles without CPU fallback
 * keep every partition on the accelerator.
 */
public final class Partitioner {

    private Partitioner() {
    }

    /**
     * @param checkDevices true at load (an accelerator absent from this host runs nothing, with a warning);
     *     false when converting for a target, which is assumed to have its accelerators
     */
    public static PartitionPlan plan(GraphFacts f, DeviceProfile profile, List<Delegate> delegates,
            boolean checkDevices) {
        Graph g = f.graph();
        List<Node> order = g.topologicalOrder();
        List<String> warnings = new ArrayList<>();
        Map<String, Delegate> byName = new HashMap<>();
        for (Delegate d : delegates) {
            byName.put(d.name(), d);
        }
        Map<Accelerator, String> absent = new HashMap<>();
        for (Accelerator a : profile.accelerators()) {
            Delegate d = byName.get(a.delegate());
            String why = d == null ? "no " + a.delegate() + " delegate in this build"
                    : checkDevices ? d.unavailableReason(a) : null;
            if (why != null) {
                absent.put(a, why);
                warnings.add(a.name() + " unavailable: " + why + "; its nodes run on the CPU");
            }
        }

        Accelerator[] chosen = new Accelerator[order.size()];
        String[] cpuReason = new String[order.size()];
        for (int i = 0; i < order.size(); i++) {
            Node n = order.get(i);
            List<String> why = new ArrayList<>();
            for (Accelerator a : profile.accelerators()) {
                if (!a.runs(n.op(), f.dtype(n.input(0)))) {
                    why.add(a.name() + " does not run " + n.op() + (a.ops().containsKey(n.op())
                            ? " on " + f.dtype(n.input(0)) : ""));
                    continue;
                }
                String u = byName.containsKey(a.delegate()) ? byName.get(a.delegate()).unsupported(n, f) : null;
                if (u != null) {
                    why.add(a.delegate() + " delegate: " + u);
                    continue;
                }
                if (absent.containsKey(a)) {
                    why.add(a.name() + " unavailable here");
                    continue;
                }
                chosen[i] = a;
                break;
            }
            if (chosen[i] == null) {
                cpuReason[i] = profile.accelerators().isEmpty() ? "the profile has no accelerator"
                        : String.join("; ", why);
            }
        }

        Map<String, Integer> position = new HashMap<>();
        for (int i = 0; i < order.size(); i++) {
            for (String o : order.get(i).outputs()) {
                position.put(o, i);
            }
        }
        Map<String, List<Integer>> readers = new HashMap<>();
        for (int i = 0; i < order.size(); i++) {
            for (String r : Graph.nodeReads(order.get(i))) {
                readers.computeIfAbsent(r, k -> new ArrayList<>()).add(i);
            }
        }
        Set<String> graphOutputs = new HashSet<>(g.outputNames());

        List<Partition> partitions = new ArrayList<>();
        Map<Integer, Partition> partitionOf = new HashMap<>();
        int i = 0;
        while (i < order.size()) {
            if (chosen[i] == null) {
                i++;
                continue;
            }
            int j = i;
            while (j + 1 < order.size() && chosen[j + 1] == chosen[i]) {
                j++;
            }
            Partition p = candidate(partitions.size(), chosen[i], order, i, j, f, position, readers, graphOutputs,
                    profile);
            partitions.add(p);
            for (int k = i; k <= j; k++) {
                partitionOf.put(k, p);
            }
            i = j + 1;
        }

        List<Placement> placements = new ArrayList<>();
        for (int k = 0; k < order.size(); k++) {
            Node n = order.get(k);
            Partition p = partitionOf.get(k);
            if (p == null) {
                placements.add(new Placement(n.name(), n.op().name(), PartitionPlan.CPU, null, cpuReason[k]));
            } else if (p.accepted()) {
                placements.add(new Placement(n.name(), n.op().name(), p.accelerator(), p.label(), "partition "
                        + p.label() + " accepted"));
            } else {
                placements.add(new Placement(n.name(), n.op().name(), PartitionPlan.CPU, p.label(), "partition "
                        + p.label() + " refused: " + p.reason()));
            }
        }
        return new PartitionPlan(profile.name(), placements, partitions, warnings);
    }

    private static Partition candidate(int id, Accelerator a, List<Node> order, int from, int to, GraphFacts f,
            Map<String, Integer> position, Map<String, List<Integer>> readers, Set<String> graphOutputs,
            DeviceProfile profile) {
        List<Node> nodes = order.subList(from, to + 1);
        Set<String> inputs = new LinkedHashSet<>();
        Set<String> outputs = new LinkedHashSet<>();
        long macs = 0;
        for (Node n : nodes) {
            macs += f.macs(n);
            for (String r : Graph.nodeReads(n)) {
                Integer p = position.get(r);
                if (f.constant(r) == null && (p == null || p < from)) {
                    inputs.add(r);
                }
            }
            for (String o : n.outputs()) {
                if (o.isEmpty()) {
                    continue;
                }
                boolean readLater = readers.getOrDefault(o, List.of()).stream().anyMatch(k -> k > to);
                if (readLater || graphOutputs.contains(o)) {
                    outputs.add(o);
                }
            }
        }
        long bytes = 0;
        for (String v : inputs) {
            bytes += f.bytes(v);
        }
        for (String v : outputs) {
            bytes += f.bytes(v);
        }
        double accMicros = a.dispatchMicros() + bytes / a.transferMBps() + macs / (a.gmacs() * 1e3);
        double cpuMicros = macs / (profile.cpuGmacs() * 1e3);
        Partition p = new Partition(id, a.name(), List.copyOf(nodes), List.copyOf(inputs), List.copyOf(outputs), macs,
                bytes, accMicros, cpuMicros, true, "");
        if (!profile.cpuFallback()) {
            return p.withDecision(true, "the profile allows no CPU fallback");
        }
        if (nodes.size() < a.minPartitionNodes()) {
            return p.withDecision(false, String.format(Locale.ROOT, "too small: %d node%s < %d (dispatch and "
                    + "transfers would dominate)", nodes.size(), nodes.size() == 1 ? "" : "s", a.minPartitionNodes()));
        }
        if (a.refuseSlower() && accMicros >= cpuMicros) {
            return p.withDecision(false, String.format(Locale.ROOT, "slower than the CPU: predicted %.1f us "
                    + "(%.1f dispatch + %.1f transfers + %.1f compute) vs %.1f us", accMicros, a.dispatchMicros(),
                    bytes / a.transferMBps(), macs / (a.gmacs() * 1e3), cpuMicros));
        }
        return p.withDecision(true, a.refuseSlower() ? String.format(Locale.ROOT,
                "faster: predicted %.1f us vs %.1f us on the CPU", accMicros, cpuMicros)
                : "the profile keeps every partition on " + a.name());
    }
}
