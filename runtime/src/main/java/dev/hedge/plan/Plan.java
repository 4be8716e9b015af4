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

    /** One line per step: what runs, on which backend, producing what. */
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
                    st.deferred, Collections.unmodifiableList(outs), st.scratchBytes));
        }
        return l;
    }

    /** Step summary for {@code hedge inspect} and profiles. */
    public record StepInfo(String node, String op, String backend, boolean deferred, List<String> outputs,
            long scratchBytes) {
    }

    /** A new per-session execution frame for this plan. */
    public Frame newFrame() {
        return new Frame(this, null);
    }
}
