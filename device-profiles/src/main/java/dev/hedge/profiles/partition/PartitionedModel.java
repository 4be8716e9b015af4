package dev.hedge.profiles.partition;

import dev.hedge.ir.Graph;
import dev.hedge.ir.ModelDef;
import dev.hedge.ir.Node;
import dev.hedge.ir.ValueInfo;
import dev.hedge.profiles.DeviceProfile;
import dev.hedge.runtime.InvalidInputException;
import dev.hedge.runtime.Model;
import dev.hedge.runtime.RuntimeOptions;
import dev.hedge.runtime.Session;
import dev.hedge.runtime.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A model split for a device profile at load: accepted partitions run on their accelerator, everything else
 * in CPU segments (sub-models planned by the usual planner, on the profile's CPU backends). A partition that
 * fails to build or load falls back to the CPU with a warning in the log and in {@link #plan()}. Planned for
 * fixed input shapes (the declared ones, dynamic dimensions from the overrides or 1).
 */
public final class PartitionedModel implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(PartitionedModel.class);

    private final List<Segment> segments;
    private final PartitionPlan plan;
    private final List<ValueInfo> inputs;
    private final List<String> outputs;
    private final List<int[]> shapes;

    private PartitionedModel(List<Segment> segments, PartitionPlan plan, List<ValueInfo> inputs,
            List<String> outputs, List<int[]> shapes) {
        this.segments = segments;
        this.plan = plan;
        this.inputs = inputs;
        this.outputs = outputs;
        this.shapes = shapes;
    }

    /** One step of a run: a CPU sub-model or a compiled partition, reading and writing values by name. */
    private sealed interface Segment permits CpuSegment, AcceleratorSegment {
    }

    private record CpuSegment(Model model, List<String> inputs) implements Segment {
    }

    private record AcceleratorSegment(Delegate.Compiled compiled, Partition partition) implements Segment {
    }

    public static PartitionedModel load(ModelDef def, DeviceProfile profile, Map<String, int[]> shapeOverrides,
            List<Delegate> delegates, RuntimeOptions cpu) {
        List<int[]> shapes;
        try (Model whole = Model.of(def, cpu)) {
            shapes = whole.defaultInputShapes(shapeOverrides);
        }
        GraphFacts f = GraphFacts.of(def, shapes);
        PartitionPlan plan = Partitioner.plan(f, profile, delegates, true);
        for (String w : plan.warnings()) {
            LOG.warn(w);
        }
        Map<Integer, Delegate.Compiled> compiled = new HashMap<>();
        try {
            for (Partition p : plan.accepted()) {
                DeviceProfile.Accelerator a = profile.accelerators().stream()
                        .filter(x -> x.name().equals(p.accelerator())).findFirst().orElseThrow();
                Delegate d = delegates.stream().filter(x -> x.name().equals(a.delegate())).findFirst().orElseThrow();
                try {
                    compiled.put(p.id(), d.compile(a, p, f));
                } catch (RuntimeException | LinkageError e) {
                    String why = "failed at load: " + (e.getMessage() == null ? e.toString()
                            : e.getMessage().replaceAll("\\s*\\n\\s*", " ").trim());
                    plan = plan.fallBack(p, why);
                    LOG.warn("{} partition {} {}; it runs on the CPU", p.accelerator(), p.label(), why);
                }
            }
            List<Segment> segments = segments(def, f, plan, compiled, cpu);
            return new PartitionedModel(segments, plan, def.graph().inputs(), def.graph().outputNames(), shapes);
        } catch (RuntimeException e) {
            compiled.values().forEach(Delegate.Compiled::close);
            throw e;
        }
    }

    private static List<Segment> segments(ModelDef def, GraphFacts f, PartitionPlan plan,
            Map<Integer, Delegate.Compiled> compiled, RuntimeOptions cpu) {
        Graph g = def.graph();
        if (compiled.isEmpty()) {
            return List.of(new CpuSegment(Model.of(def, cpu), g.inputNames()));
        }
        List<Node> order = g.topologicalOrder();
        Map<String, Partition> partitionOfNode = new HashMap<>();
        for (Partition p : plan.accepted()) {
            for (Node n : p.nodes()) {
                partitionOfNode.put(n.name(), p);
            }
        }
        List<Segment> out = new ArrayList<>();
        int i = 0;
        while (i < order.size()) {
            Partition p = partitionOfNode.get(order.get(i).name());
            if (p != null) {
                out.add(new AcceleratorSegment(compiled.get(p.id()), p));
                i += p.nodes().size();
                continue;
            }
            int j = i;
            while (j + 1 < order.size() && !partitionOfNode.containsKey(order.get(j + 1).name())) {
                j++;
            }
            out.add(cpuSegment(def, f, order, i, j, out.size(), cpu));
            i = j + 1;
        }
        return out;
    }

    private static CpuSegment cpuSegment(ModelDef def, GraphFacts f, List<Node> order, int from, int to, int index,
            RuntimeOptions cpu) {
        Graph g = def.graph();
        Set<String> produced = new HashSet<>();
        for (int k = from; k <= to; k++) {
            produced.addAll(order.get(k).outputs());
        }
        Graph.Builder b = Graph.builder(g.name() + ".cpu" + index);
        Set<String> ins = new LinkedHashSet<>();
        for (int k = from; k <= to; k++) {
            Node n = order.get(k);
            b.addNode(n);
            for (String r : Graph.nodeReads(n)) {
                if (r.isEmpty() || produced.contains(r)) {
                    continue;
                }
                if (g.initializers().containsKey(r)) {
                    b.initializer(r, g.initializers().get(r));
                } else {
                    ins.add(r);
                }
            }
        }
        for (String v : ins) {
            b.addInput(ValueInfo.of(v, f.dtype(v), Arrays.stream(f.shape(v)).asLongStream().toArray()));
        }
        Set<String> later = new HashSet<>(g.outputNames());
        for (int k = to + 1; k < order.size(); k++) {
            later.addAll(Graph.nodeReads(order.get(k)));
        }
        for (String v : produced) {
            if (!v.isEmpty() && later.contains(v)) {
                b.addOutput(new ValueInfo(v, f.dtype(v), null));
            }
        }
        return new CpuSegment(Model.of(new ModelDef(b.build(), def.metadata()), cpu),
                List.copyOf(ins));
    }

    /** Where each node runs and why, with the partitions considered and any load-time fallbacks. */
    public PartitionPlan plan() {
        return plan;
    }

    /** The input shapes this model was planned (and its partitions built) for. */
    public List<int[]> inputShapes() {
        return shapes;
    }

    public PartitionedSession newSession() {
        return new PartitionedSession();
    }

    @Override
    public void close() {
        for (Segment s : segments) {
            if (s instanceof CpuSegment c) {
                c.model().close();
            } else if (s instanceof AcceleratorSegment a) {
                a.compiled().close();
            }
        }
    }

    /** Per-thread run state: a session per CPU segment and a runner per partition. */
    public final class PartitionedSession implements AutoCloseable {
        private final List<Object> runners = new ArrayList<>();

        PartitionedSession() {
            for (Segment s : segments) {
                runners.add(s instanceof CpuSegment c ? c.model().newSession()
                        : ((AcceleratorSegment) s).compiled().newRunner());
            }
        }

        /** Runs every segment in order; outputs stay valid until the next run of this session. */
        public Map<String, Tensor> run(Map<String, Tensor> in) {
            Map<String, Tensor> env = new HashMap<>();
            for (int i = 0; i < inputs.size(); i++) {
                ValueInfo v = inputs.get(i);
                Tensor t = in.get(v.name());
                if (t == null) {
                    throw new InvalidInputException("missing input '" + v.name() + "' " + v);
                }
                if (!Arrays.equals(t.shape(), shapes.get(i))) {
                    throw new InvalidInputException("input '" + v.name() + "' has shape " + Arrays.toString(t.shape())
                            + "; this partitioned model was planned for " + Arrays.toString(shapes.get(i)));
                }
                env.put(v.name(), t);
            }
            for (int s = 0; s < segments.size(); s++) {
                Segment seg = segments.get(s);
                if (seg instanceof CpuSegment c) {
                    Map<String, Tensor> feed = new LinkedHashMap<>();
                    for (String name : c.inputs()) {
                        feed.put(name, env.get(name));
                    }
                    env.putAll(((Session) runners.get(s)).run(feed));
                } else {
                    AcceleratorSegment a = (AcceleratorSegment) seg;
                    List<Tensor> feed = new ArrayList<>();
                    for (String name : a.partition().inputs()) {
                        feed.add(env.get(name));
                    }
                    List<Tensor> res = ((Delegate.Runner) runners.get(s)).run(feed);
                    for (int k = 0; k < res.size(); k++) {
                        env.put(a.partition().outputs().get(k), res.get(k));
                    }
                }
            }
            Map<String, Tensor> result = new LinkedHashMap<>();
            for (String o : outputs) {
                result.put(o, env.get(o));
            }
            return result;
        }

        @Override
        public void close() {
            for (Object r : runners) {
                if (r instanceof Session s) {
                    s.close();
                }
            }
        }
    }
}
