package dev.hedge.plan;

import dev.hedge.ir.Graph;
import dev.hedge.runtime.DType;
import dev.hedge.runtime.QuantParams;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * An immutable execution plan for one graph and one set of input shapes: the steps in order with their
 * prepared kernels, where every value lives, and the arena size. Shared by all sessions of a model;
 * each session runs it in its own {@link Frame}.
 */
public final class Plan {

    final Graph graph;
    private final Slot[] slots;
    final Step[] steps;
    private final int[] inputSlots;
    private final int[] outputSlots;
    final List<String> captureNames;
    private final long arenaBytes;
    final Planner planner;
    private final Map<String, Integer> slotByName = new HashMap<>();
    final Map<Graph, List<Plan>> subplans = new IdentityHashMap<>();

    Plan(Graph graph, Slot[] slots, Step[] steps, int[] inputSlots, int[] outputSlots, List<String> captureNames,
            long arenaBytes, Planner planner) {
        this.graph = graph;
        this.slots = slots;
        this.steps = steps;
        this.inputSlots = inputSlots;
        this.outputSlots = outputSlots;
        this.captureNames = List.copyOf(captureNames);
        this.arenaBytes = arenaBytes;
        this.planner = planner;
        for (Slot s : slots) {
            if (!s.encodedView) {
                slotByName.put(s.name, s.id);
            }
        }
        for (Step st : steps) {
            for (Plan p : st.subplans) {
                subplans.computeIfAbsent(p.graph, g -> new ArrayList<>()).add(p);
            }
        }
    }

    Slot slot(int id) {
        return slots[id];
    }

    int slotCount() {
        return slots.length;
    }

    int slotIndex(String name) {
        Integer i = slotByName.get(name);
        return i == null ? -1 : i;
    }

    int[] inputSlots() {
        return inputSlots;
    }

    int[] outputSlots() {
        return outputSlots;
    }

    /** Bytes of the planned activation arena (peak memory of intermediate values and scratch). */
    public long arenaBytes() {
        return arenaBytes;
    }

    /** Arena bytes of this plan plus those of the subgraph plans made while planning it. */
    public long totalArenaBytes() {
        long t = arenaBytes;
        for (List<Plan> l : subplans.values()) {
            for (Plan p : l) {
                t += p.totalArenaBytes();
            }
        }
        return t;
    }

    /** Bytes the arena would need without reuse (sum of all planned buffers), for comparison. */
    public long unsharedBytes() {
        long t = 0;
        for (Slot s : slots) {
            if (s.kind == Slot.Kind.ARENA) {
                t += ArenaPlanner.align(s.bytes);
            }
        }
        for (Step st : steps) {
            t += ArenaPlanner.align(st.scratchBytes);
        }
        return t;
    }

    public int stepCount() {
        return steps.length;
    }

    /** Declared dtype and shape of output {@code i} ({@code null} shape: only known after running). */
    public DType outputType(int i) {
        return slots[outputSlots[i]].dtype;
    }

    public int[] outputShape(int i) {
        Slot s = slots[outputSlots[i]];
        return s.shapeKnown() ? s.shape.clone() : null;
    }

    public QuantParams outputQuant(int i) {
        return slots[outputSlots[i]].quant;
    }

    /** Bytes kernels allocated outside the arena for this plan (packed or transposed weights). */
    public long packedBytes() {
        long t = 0;
        for (Step st : steps) {
            t += st.packedBytes;
        }
        return t;
    }

    /** One line per step: what runs, on which backend and kernel class, why, producing what. */
    public List<StepInfo> describe() {
        List<StepInfo> l = new ArrayList<>();
        for (Step st : steps) {
            List<String> outs = new ArrayList<>();
            for (int id : st.outputs) {
                if (id >= 0) {
                    Slot s = slots[id];
                    outs.add(s.name + ":" + (s.dtype == null ? "?" : s.dtype)
                            + (s.shapeKnown() ? java.util.Arrays.toString(s.shape) : "[dynamic]"));
                }
            }
            l.add(new StepInfo(st.node.name(), st.node.op().name(), st.deferred ? "deferred" : st.backend,
                    st.deferred, Collections.unmodifiableList(outs), st.scratchBytes, st.kernelClass,
                    st.deferred ? "prepared at run time: shapes depend on values" : st.reason, st.estimateNanos,
                    st.packedBytes));
        }
        return l;
    }

    /**
     * Step summary for {@code hedge inspect} and profiles.
     *
     * @param kernelClass the chosen offer's kernel class, null when its backend declares none
     * @param reason why this backend runs the node (estimates of the alternatives, or priority)
     * @param estimateNanos the chosen kernel's estimated time, NaN when not estimated
     */
    public record StepInfo(String node, String op, String backend, boolean deferred, List<String> outputs,
            long scratchBytes, String kernelClass, String reason, double estimateNanos, long packedBytes) {
    }

    /** The plan as text, one line per step: index, op, node, backend, kernel class and reason. */
    public String explain() {
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(java.util.Locale.ROOT, "%d steps, arena %d bytes, packed weights %d bytes%n",
                steps.length, arenaBytes, packedBytes()));
        StringBuilder order = new StringBuilder();
        for (dev.hedge.kernels.Backend b : planner.backends()) {
            order.append(order.length() == 0 ? "" : " > ").append(b.name());
        }
        sb.append("backends: ").append(order).append(", ").append(planner.threads())
                .append(planner.threads() == 1 ? " thread" : " threads").append(System.lineSeparator());
        for (String u : planner.unavailable()) {
            sb.append("  not used: ").append(u).append(System.lineSeparator());
        }
        List<StepInfo> infos = describe();
        for (int i = 0; i < infos.size(); i++) {
            StepInfo s = infos.get(i);
            sb.append(String.format(java.util.Locale.ROOT, "%4d  %-20s %-28s %-9s %s%n", i, s.op(), s.node(),
                    s.backend(), (s.kernelClass() == null ? "" : s.kernelClass() + ": ")
                            + (s.reason() == null ? "" : s.reason())));
        }
        return sb.toString();
    }

    /** A new per-session execution frame for this plan. */
    public Frame newFrame() {
        return new Frame(this, null);
    }
}
