package dev.hedge.converter.prune;

import dev.hedge.converter.passes.ShapeInference;
import dev.hedge.ir.Attr;
import dev.hedge.ir.Graph;
import dev.hedge.ir.Node;
import dev.hedge.ops.Op;
import dev.hedge.runtime.RuntimeOptions;
import dev.hedge.runtime.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Structured pruning: removes whole output channels of Conv / ConvTranspose (group 1) and output features
 * of Gemm / MatMul, chosen by the L1 norm of their filters, and rewrites every consumer so the result is a
 * smaller <em>dense</em> model computing what the original computes with those channels' outputs dropped.
 *
 * <p>The channels of a producer are followed forward through the graph:
 * <ul>
 *   <li>channel-preserving ops (activations, pooling, Dropout/Identity, Clip with scalar bounds) pass them on;
 *   <li>BatchNormalization / InstanceNormalization and elementwise ops with a per-channel constant operand
 *       pass them on and have those parameters sliced;
 *   <li>a depthwise Conv (group = input channels = output channels) is paired with its producer: its
 *       filters and bias are sliced and its {@code group} shrinks;
 *   <li>an elementwise op joining two branches (residual Add, Mul, ...) <em>ties</em> the producers of both
 *       branches: they are pruned together, with one channel set chosen from their summed normalised norms;
 *   <li>Concat along the channel axis lays the inputs' channels side by side (each range keeps its own
 *       producers' choice, so the offsets follow); Concat along another axis ties its inputs;
 *   <li>Flatten (or a Reshape to {@code [N, -1]}), Squeeze, Unsqueeze and Transpose move the channel axis;
 *       after Flatten each channel is a run of {@code H*W} consecutive features;
 *   <li>Conv / ConvTranspose (group 1), Gemm ({@code transA = 0}) and MatMul with constant weights consume
 *       them: their input-channel weights are sliced.
 * </ul>
 * Anything else that reads such a value (a graph output, Shape, Softmax over channels, Split, a Gemm with
 * runtime weights, ...) makes the producers feeding it unprunable; so does a tie between different channel
 * counts. The pass is conservative: what it cannot rewrite exactly it leaves alone, and says why.
 *
 * <p>The score of a channel is the L1 norm of its filter, times {@code |scale / sqrt(var + eps)|} when an
 * unfolded BatchNormalization follows directly; tied producers add their scores, each divided by its mean.
 * Value infos of resized values are recomputed by {@link ShapeInference}.
 */
public final class ChannelPruning {

    /**
     * @param ratio fraction of each prunable channel group's channels to remove (at least one channel is kept)
     * @param overrides per-producer ratios (node name); a tied group uses the smallest override among its
     *     producers
     * @param skip producer node names never pruned (nor anything tied to them)
     * @param inputShapes concrete shapes for dynamic inputs (for the planner, which gives every shape)
     */
    public record Options(double ratio, Map<String, Double> overrides, Set<String> skip,
            Map<String, int[]> inputShapes, RuntimeOptions runtime) {

        public Options {
            overrides = Map.copyOf(overrides);
            skip = Set.copyOf(skip);
            inputShapes = Map.copyOf(inputShapes);
            check("prune-channels ratio", ratio);
            overrides.forEach((k, v) -> check("override for '" + k + "'", v));
        }

        private static void check(String what, double r) {
            if (!(r >= 0 && r < 1)) {
                throw new IllegalArgumentException(what + " " + r + " is not in [0, 1)");
            }
        }

        public static Options of(double ratio) {
            return new Options(ratio, Map.of(), Set.of(), Map.of(), RuntimeOptions.reference());
        }

        public Options withOverrides(Map<String, Double> o) {
            return new Options(ratio, o, skip, inputShapes, runtime);
        }

        public Options withSkip(Set<String> s) {
            return new Options(ratio, overrides, s, inputShapes, runtime);
        }

        public Options withInputShapes(Map<String, int[]> s) {
            return new Options(ratio, overrides, skip, s, runtime);
        }

        public Options withRuntime(RuntimeOptions r) {
            return new Options(ratio, overrides, skip, inputShapes, r);
        }
    }

    /**
     * One Conv / ConvTranspose / Gemm / MatMul layer: output channels and MACs before and after, and what
     * happened ("pruned 5 of 16", "tied with [b, c]", "not pruned: feeds graph output 'y'", ...).
     */
    public record LayerStats(String node, Op op, int channelsBefore, int channelsAfter, long macsBefore,
            long macsAfter, String note) {
    }

    /**
     * The pruned graph, per-layer statistics (topological order of the original), and for each layer whose
     * output channels shrank (pruned producers and the depthwise convs paired with them) the original indices
     * of the output channels it kept, ascending (for reconstruction).
     */
    public record Result(Graph graph, List<LayerStats> layers, Map<String, int[]> keptChannels) {

        public long macsBefore() {
            return layers.stream().mapToLong(LayerStats::macsBefore).sum();
        }

        public long macsAfter() {
            return layers.stream().mapToLong(LayerStats::macsAfter).sum();
        }
    }

    private ChannelPruning() {
    }

    private static final Set<Op> UNARY = EnumSet.of(Op.Relu, Op.LeakyRelu, Op.Elu, Op.Selu, Op.Celu, Op.Sigmoid,
            Op.HardSigmoid, Op.HardSwish, Op.Tanh, Op.Softplus, Op.Softsign, Op.Gelu, Op.Mish, Op.ThresholdedRelu,
            Op.Identity, Op.Dropout, Op.Neg, Op.Abs, Op.Exp, Op.Log, Op.Sqrt, Op.Reciprocal, Op.Erf, Op.Floor,
            Op.Ceil, Op.Round, Op.Sign, Op.Sin, Op.Cos, Op.Clip, Op.Cast);
    private static final Set<Op> POOL = EnumSet.of(Op.MaxPool, Op.AveragePool, Op.GlobalAveragePool,
            Op.GlobalMaxPool);
    private static final Set<Op> BINARY = EnumSet.of(Op.Add, Op.Sub, Op.Mul, Op.Div, Op.Min, Op.Max, Op.Sum,
            Op.Mean, Op.PRelu);

    public static Result prune(Graph g, Options o) {
        return new Run(g, o).run();
    }

    /** A run of channels of one group (group -1: channels that are never pruned). */
    private record Seg(int group, int count) {
    }

    /** Where a value's channels are: axis, the runs making it up, and features per channel (after Flatten). */
    private record ChanMap(int axis, List<Seg> segs, int inner) {
        int channels() {
            int c = 0;
            for (Seg s : segs) {
                c += s.count;
            }
            return c * inner;
        }

        ChanMap withAxis(int a) {
            return new ChanMap(a, segs, inner);
        }
    }

    /** One slice of a node's constant input: keep {@code keep} (a {@link ChanMap} resolved later) along axis. */
    private record Slice(int input, int axis, ChanMap map, boolean byOwnGroupOf) {
    }

    private static final class Group {
        final List<PrunableLayer> producers = new ArrayList<>();
        int channels;
        String blocked;
        int[] keep;
    }

    private static final class Run {
        final Graph g;
        final Options o;
        final Map<String, int[]> shapes;
        final Map<String, List<Node>> consumers;
        final List<Group> groups = new ArrayList<>();
        final int[] parent = new int[4096];
        final Map<String, ChanMap> maps = new HashMap<>();
        final Map<Node, List<Slice>> edits = new LinkedHashMap<>();
        final Map<Node, Integer> producerGroup = new LinkedHashMap<>();
        final Map<Node, Node> depthwise = new LinkedHashMap<>();
        final Map<Node, Node> bnAfter = new HashMap<>();

        Run(Graph g, Options o) {
            this.g = g;
            this.o = o;
            this.shapes = ValueShapes.of(g, o.inputShapes(), o.runtime());
            this.consumers = g.consumers();
        }

        int find(int x) {
            while (parent[x] != x) {
                parent[x] = parent[parent[x]];
                x = parent[x];
            }
            return x;
        }

        Group group(int id) {
            return groups.get(find(id));
        }

        void union(int a, int b, String where) {
            int ra = find(a);
            int rb = find(b);
            if (ra == rb) {
                return;
            }
            Group ga = groups.get(ra);
            Group gb = groups.get(rb);
            parent[rb] = ra;
            ga.producers.addAll(gb.producers);
            if (ga.blocked == null) {
                ga.blocked = gb.blocked;
            }
            if (ga.channels != gb.channels) {
                block(ga, "tied through " + where + " to a branch of another channel count");
            }
        }

        int newGroup(PrunableLayer p, int channels) {
            if (groups.size() == parent.length) {
                throw new IllegalArgumentException("graph has more than " + parent.length + " prunable layers");
            }
            Group gr = new Group();
            gr.producers.add(p);
            gr.channels = channels;
            parent[groups.size()] = groups.size();
            groups.add(gr);
            return groups.size() - 1;
        }

        void block(Group gr, String why) {
            if (gr.blocked == null) {
                gr.blocked = why;
            }
        }

        void block(ChanMap m, String why) {
            for (Seg s : m.segs) {
                if (s.group >= 0) {
                    block(group(s.group), why);
                }
            }
        }

        void blockReads(Node n, String why) {
            for (String v : Graph.nodeReads(n)) {
                ChanMap m = maps.get(v);
                if (m != null) {
                    block(m, why);
                }
            }
        }

        Tensor constant(String name) {
            return name.isEmpty() ? null : g.initializers().get(name);
        }

        int rank(String v) {
            int[] s = shapes.get(v);
            return s == null ? -1 : s.length;
        }

        void edit(Node n, Slice s) {
            edits.computeIfAbsent(n, k -> new ArrayList<>()).add(s);
        }

        Result run() {
            for (Node n : g.topologicalOrder()) {
                visit(n);
            }
            for (String out : g.outputNames()) {
                ChanMap m = maps.get(out);
                if (m != null) {
                    block(m, "feeds graph output '" + out + "'");
                }
            }
            choose();
            Graph pruned = rewrite();
            pruned = new ShapeInference(o.runtime()).apply(pruned);
            return new Result(pruned, stats(pruned), kept());
        }

        private void visit(Node n) {
            String why = "read by " + n.describe();
            for (String out : n.outputs()) {
                if (shapes.get(out) == null && !out.isEmpty()) {
                    blockReads(n, why + ", whose output shape is not static");
                    return;
                }
            }
            ChanMap in0 = maps.get(n.input(0));
            PrunableLayer layer = PrunableLayer.of(g, n);
            if (n.op() == Op.Conv && layer != null && isDepthwise(n, layer)) {
                // output channel c is computed from input channel c alone
                if (in0 != null && in0.axis() == 1 && in0.inner() == 1 && otherReadsUnmapped(n, 0)
                        && biasSliceable(n, 2)) {
                    maps.put(n.output(0), in0);
                    depthwise.put(n, n);
                    edit(n, new Slice(1, 0, in0, false));
                    if (n.hasInput(2)) {
                        edit(n, new Slice(2, 0, in0, false));
                    }
                } else {
                    blockReads(n, why);
                }
                return;
            }
            if (layer != null && layerGroups(n) == 1) {
                consumeAsLayer(n, layer, in0, why);
                produce(n, layer);
                return;
            }
            if (UNARY.contains(n.op()) || POOL.contains(n.op())) {
                if (in0 == null) {
                    blockReads(n, why);
                    return;
                }
                boolean ok = otherReadsUnmapped(n, 0) && extraOutputsUnused(n)
                        && (!POOL.contains(n.op()) || in0.axis() == 1 && in0.inner() == 1);
                if (n.op() == Op.Clip) {
                    ok &= scalarOrAbsent(n.input(1)) && scalarOrAbsent(n.input(2));
                }
                if (ok) {
                    maps.put(n.output(0), in0);
                } else {
                    blockReads(n, why);
                }
                return;
            }
            switch (n.op()) {
                case BatchNormalization:
                case InstanceNormalization:
                    normalization(n, in0, why);
                    return;
                case Concat:
                    concat(n, why);
                    return;
                case Flatten:
                    flatten(n, in0, (int) n.intAttr("axis"), why);
                    return;
                case Reshape:
                    reshape(n, in0, why);
                    return;
                case Squeeze:
                case Unsqueeze:
                    squeeze(n, in0, why);
                    return;
                case Transpose:
                    transpose(n, in0, why);
                    return;
                default:
                    if (BINARY.contains(n.op())) {
                        elementwise(n, why);
                    } else {
                        blockReads(n, why);
                    }
            }
        }

        private boolean isDepthwise(Node n, PrunableLayer l) {
            int[] w = l.weightOf(g).shape();
            long group = n.intAttr("group");
            return group > 1 && w[0] == group && w[1] == 1;
        }

        private int layerGroups(Node n) {
            return n.op() == Op.Conv || n.op() == Op.ConvTranspose ? (int) n.intAttr("group") : 1;
        }

        private boolean otherReadsUnmapped(Node n, int except) {
            int i = 0;
            for (String v : n.inputs()) {
                if (i++ != except && !v.isEmpty() && maps.containsKey(v)) {
                    return false;
                }
            }
            for (Graph s : n.subgraphs()) {
                for (String v : s.freeVariables()) {
                    if (maps.containsKey(v)) {
                        return false;
                    }
                }
            }
            return true;
        }

        private boolean extraOutputsUnused(Node n) {
            for (int i = 1; i < n.outputs().size(); i++) {
                String v = n.output(i);
                if (!v.isEmpty() && (consumers.containsKey(v) || g.outputNames().contains(v))) {
                    return false;
                }
            }
            return true;
        }

        private boolean scalarOrAbsent(String v) {
            if (v.isEmpty()) {
                return true;
            }
            int[] s = shapes.get(v);
            return s != null && Tensor.elementCount(s) == 1;
        }

        private boolean biasSliceable(Node n, int i) {
            if (!n.hasInput(i)) {
                return true;
            }
            Tensor b = constant(n.input(i));
            return b != null && b.rank() == 1;
        }

        /** The layer reads channels on its data input: its input-channel weights get sliced. */
        private void consumeAsLayer(Node n, PrunableLayer layer, ChanMap in0, String why) {
            if (!otherReadsUnmapped(n, 0)) {
                blockReads(n, why);
                return;
            }
            if (in0 == null) {
                return;
            }
            int r = rank(n.input(0));
            int expected = switch (n.op()) {
                case Conv, ConvTranspose -> 1;
                case Gemm -> n.intAttr("transA") == 0 ? 1 : -1;
                default -> r - 1;
            };
            if (in0.axis() != expected || (n.op() == Op.Conv || n.op() == Op.ConvTranspose) && in0.inner() != 1) {
                block(in0, why + " on another axis");
                return;
            }
            edit(n, new Slice(1, layer.inAxis(), in0, false));
        }

        /** A new channel group for the layer's output, if its bias can be sliced. */
        private void produce(Node n, PrunableLayer layer) {
            Tensor w = layer.weightOf(g);
            int channels = w.dim(layer.outAxis());
            int id = newGroup(layer, channels);
            producerGroup.put(n, id);
            String out = n.output(0);
            int r = rank(out);
            if (n.outputs().size() != 1 || r < 2) {
                block(groups.get(id), "unusual output of " + n.describe());
            }
            if (n.hasInput(2)) {
                Tensor b = constant(n.input(2));
                int[] bs = b == null ? null : b.shape();
                boolean perChannel = bs != null && bs.length >= 1 && bs[bs.length - 1] == channels;
                boolean broadcast = bs != null && (bs.length == 0 || bs[bs.length - 1] == 1);
                if (bs == null || bs.length > 2 || !perChannel && !broadcast) {
                    block(groups.get(id), "its bias is not a per-channel constant");
                } else if (perChannel && channels > 1) {
                    edit(n, new Slice(2, bs.length - 1, null, true));
                }
            }
            edit(n, new Slice(1, layer.outAxis(), null, true));
            maps.put(out, new ChanMap(n.op() == Op.MatMul ? r - 1 : 1, List.of(new Seg(id, channels)), 1));
        }

        private void normalization(Node n, ChanMap in0, String why) {
            if (in0 == null) {
                blockReads(n, why);
                return;
            }
            int params = n.op() == Op.BatchNormalization ? 4 : 2;
            boolean ok = in0.axis() == 1 && in0.inner() == 1 && otherReadsUnmapped(n, 0) && extraOutputsUnused(n);
            for (int i = 1; i <= params && ok; i++) {
                Tensor t = constant(n.input(i));
                ok = t != null && t.rank() == 1;
            }
            if (!ok) {
                blockReads(n, why);
                return;
            }
            for (int i = 1; i <= params; i++) {
                edit(n, new Slice(i, 0, in0, false));
            }
            maps.put(n.output(0), in0);
            if (n.op() == Op.BatchNormalization && in0.segs().size() == 1) {
                Node p = g.producers().get(n.input(0));
                if (p != null && producerGroup.containsKey(p)) {
                    bnAfter.put(p, n);
                }
            }
        }

        private void elementwise(Node n, String why) {
            int r = rank(n.output(0));
            ChanMap first = null;
            int axis = -1;
            for (String v : n.inputs()) {
                ChanMap m = v.isEmpty() ? null : maps.get(v);
                if (m == null) {
                    continue;
                }
                int a = m.axis() + r - rank(v);
                if (first == null) {
                    first = m;
                    axis = a;
                } else if (a != axis || !sameStructure(first, m)) {
                    blockReads(n, why + " with unlike channel layouts");
                    return;
                } else {
                    tie(first, m, n.describe());
                }
            }
            if (first == null) {
                return;
            }
            int channels = first.channels();
            for (int i = 0; i < n.inputs().size(); i++) {
                String v = n.input(i);
                if (v.isEmpty() || maps.containsKey(v)) {
                    continue;
                }
                int[] s = shapes.get(v);
                int own = axis - (r - s.length);
                if (own < 0 || s[own] == 1) {
                    continue;
                }
                Tensor c = constant(v);
                if (c == null || s[own] != channels) {
                    blockReads(n, why + ": its input '" + v + "' has the channels but is not a constant");
                    return;
                }
                edit(n, new Slice(i, own, first.withAxis(own), false));
            }
            maps.put(n.output(0), first.withAxis(axis));
        }

        private boolean sameStructure(ChanMap a, ChanMap b) {
            if (a.inner() != b.inner() || a.segs().size() != b.segs().size()) {
                return false;
            }
            for (int i = 0; i < a.segs().size(); i++) {
                Seg x = a.segs().get(i);
                Seg y = b.segs().get(i);
                if (x.count != y.count || (x.group < 0) != (y.group < 0)) {
                    return false;
                }
            }
            return true;
        }

        private void tie(ChanMap a, ChanMap b, String where) {
            for (int i = 0; i < a.segs().size(); i++) {
                Seg x = a.segs().get(i);
                Seg y = b.segs().get(i);
                if (x.group >= 0) {
                    union(x.group, y.group, where);
                }
            }
        }

        private void concat(Node n, String why) {
            int r = rank(n.output(0));
            int axis = (int) n.intAttr("axis");
            axis = axis < 0 ? axis + r : axis;
            List<Seg> segs = new ArrayList<>();
            ChanMap first = null;
            for (String v : n.inputs()) {
                ChanMap m = maps.get(v);
                if (m != null && first == null) {
                    first = m;
                }
            }
            if (first == null) {
                return;
            }
            if (first.axis() != axis) {
                // concatenated along another axis: every input must carry the same channels
                for (String v : n.inputs()) {
                    ChanMap m = maps.get(v);
                    if (m == null || m.axis() != first.axis() || !sameStructure(first, m)) {
                        blockReads(n, why + " (inputs with unlike channels)");
                        return;
                    }
                    tie(first, m, n.describe());
                }
                maps.put(n.output(0), first);
                return;
            }
            for (String v : n.inputs()) {
                ChanMap m = maps.get(v);
                if (m == null) {
                    segs.add(new Seg(-1, shapes.get(v)[axis]));
                } else if (m.axis() != axis || m.inner() != 1) {
                    blockReads(n, why);
                    return;
                } else {
                    segs.addAll(m.segs());
                }
            }
            maps.put(n.output(0), new ChanMap(axis, segs, 1));
        }

        /** Flatten at {@code axis}: the channel axis must be the first flattened one (batch dims before). */
        private void flatten(Node n, ChanMap in0, int axis, String why) {
            if (in0 == null) {
                blockReads(n, why);
                return;
            }
            int[] s = shapes.get(n.input(0));
            axis = axis < 0 ? axis + s.length : axis;
            if (in0.axis() != axis || !otherReadsUnmapped(n, 0)) {
                blockReads(n, why + " (the channel axis is not where it flattens)");
                return;
            }
            int inner = in0.inner();
            for (int d = axis + 1; d < s.length; d++) {
                inner *= s[d];
            }
            maps.put(n.output(0), new ChanMap(1, in0.segs(), inner));
        }

        private void reshape(Node n, ChanMap in0, String why) {
            int[] s = shapes.get(n.input(0));
            int[] out = shapes.get(n.output(0));
            Tensor target = constant(n.input(1));
            if (in0 == null || target == null || out.length != 2 || in0.axis() < 1) {
                blockReads(n, why);
                return;
            }
            long[] t = target.toLongArray();
            long lead = 1;
            for (int d = 0; d < in0.axis(); d++) {
                lead *= s[d];
            }
            // only [N, -1] (N as 0, -1 or the batch size) is free of the channel count
            boolean flattenLike = out[0] == lead && t.length == 2 && t[1] == -1
                    && (t[0] == 0 || t[0] == -1 || t[0] == lead);
            if (!flattenLike) {
                blockReads(n, why + " (its target shape fixes the channel count)");
                return;
            }
            flatten(n, in0, in0.axis(), why);
        }

        private void squeeze(Node n, ChanMap in0, String why) {
            int axis = in0 == null || !otherReadsUnmapped(n, 0) ? -1 : squeezedAxis(n, in0.axis());
            if (axis < 0) {
                blockReads(n, why + " (cannot place the channel axis)");
                return;
            }
            maps.put(n.output(0), in0.withAxis(axis));
        }

        /** Where axis {@code from} lands after this Squeeze / Unsqueeze (constant axes), or -1. */
        private int squeezedAxis(Node n, int from) {
            Tensor axesT = constant(n.input(1));
            if (axesT == null) {
                return -1;
            }
            int r = rank(n.op() == Op.Squeeze ? n.input(0) : n.output(0));
            boolean[] listed = new boolean[r];
            for (long a : axesT.toLongArray()) {
                listed[(int) (a < 0 ? a + r : a)] = true;
            }
            if (n.op() == Op.Squeeze) {
                if (listed[from]) {
                    return -1;
                }
                int k = 0;
                for (int d = 0; d < from; d++) {
                    k += listed[d] ? 0 : 1;
                }
                return k;
            }
            // Unsqueeze: the input axes fill the unlisted output positions in order
            for (int d = 0, k = 0; d < r; d++) {
                if (!listed[d] && k++ == from) {
                    return d;
                }
            }
            return -1;
        }

        private void transpose(Node n, ChanMap in0, String why) {
            if (in0 == null || in0.inner() != 1) {
                blockReads(n, why);
                return;
            }
            int r = rank(n.input(0));
            long[] perm = n.intsAttr("perm");
            for (int j = 0; j < r; j++) {
                long p = perm == null ? r - 1 - j : perm[j];
                if (p == in0.axis()) {
                    maps.put(n.output(0), in0.withAxis(j));
                    return;
                }
            }
            blockReads(n, why);
        }

        /** Picks each group's kept channels. */
        private void choose() {
            for (int id = 0; id < groups.size(); id++) {
                if (find(id) != id) {
                    continue;
                }
                Group gr = groups.get(id);
                double ratio = o.ratio();
                boolean overridden = false;
                for (PrunableLayer p : gr.producers) {
                    if (o.skip().contains(p.name())) {
                        block(gr, "skipped by request (" + p.name() + ")");
                    }
                    Double ov = o.overrides().get(p.name());
                    if (ov != null) {
                        ratio = overridden ? Math.min(ratio, ov) : ov;
                        overridden = true;
                    }
                }
                int remove = (int) Math.floor(ratio * gr.channels + 1e-9);
                remove = Math.min(remove, gr.channels - 1);
                if (gr.blocked != null || remove <= 0) {
                    continue;
                }
                double[] score = new double[gr.channels];
                for (PrunableLayer p : gr.producers) {
                    double[] s = channelNorms(p);
                    double mean = Arrays.stream(s).average().orElse(0);
                    for (int c = 0; c < s.length; c++) {
                        score[c] += mean > 0 ? s[c] / mean : 0;
                    }
                }
                Integer[] order = new Integer[gr.channels];
                for (int c = 0; c < order.length; c++) {
                    order[c] = c;
                }
                Arrays.sort(order, (a, b) -> Double.compare(score[a], score[b]));
                boolean[] drop = new boolean[gr.channels];
                for (int k = 0; k < remove; k++) {
                    drop[order[k]] = true;
                }
                int[] keep = new int[gr.channels - remove];
                for (int c = 0, k = 0; c < gr.channels; c++) {
                    if (!drop[c]) {
                        keep[k++] = c;
                    }
                }
                gr.keep = keep;
            }
            for (String name : o.overrides().keySet()) {
                checkNamed(name, "override");
            }
            for (String name : o.skip()) {
                checkNamed(name, "skip list");
            }
        }

        private void checkNamed(String name, String what) {
            for (Node n : producerGroup.keySet()) {
                if (n.name().equals(name)) {
                    return;
                }
            }
            throw new IllegalArgumentException(what + " names '" + name + "', which is not a Conv / ConvTranspose /"
                    + " Gemm / MatMul layer with constant weights; those are "
                    + producerGroup.keySet().stream().map(Node::name).toList());
        }

        private double[] channelNorms(PrunableLayer p) {
            Tensor w = p.weightOf(g);
            int[] s = w.shape();
            int axis = p.outAxis();
            double[] norms = new double[s[axis]];
            long inner = 1;
            for (int d = axis + 1; d < s.length; d++) {
                inner *= s[d];
            }
            int n = w.elementCount();
            for (int i = 0; i < n; i++) {
                norms[(int) ((i / inner) % s[axis])] += Math.abs(w.getDouble(i));
            }
            Node bn = bnAfter.get(p.node());
            if (bn != null) {
                double[] scale = g.initializers().get(bn.input(1)).toDoubleArray();
                double[] var = g.initializers().get(bn.input(4)).toDoubleArray();
                double eps = bn.floatAttr("epsilon");
                for (int c = 0; c < norms.length; c++) {
                    norms[c] *= Math.abs(scale[c] / Math.sqrt(var[c] + eps));
                }
            }
            return norms;
        }

        /** Original indices kept along a value's channel axis, or null when nothing is removed. */
        private int[] kept(ChanMap m) {
            List<Integer> l = new ArrayList<>();
            boolean any = false;
            int offset = 0;
            for (Seg s : m.segs()) {
                int[] keep = s.group < 0 ? null : group(s.group).keep;
                if (keep == null) {
                    for (int c = 0; c < s.count; c++) {
                        l.add(offset + c);
                    }
                } else {
                    any = true;
                    for (int c : keep) {
                        l.add(offset + c);
                    }
                }
                offset += s.count;
            }
            if (!any) {
                return null;
            }
            int[] k = new int[l.size() * m.inner()];
            int at = 0;
            for (int c : l) {
                for (int j = 0; j < m.inner(); j++) {
                    k[at++] = c * m.inner() + j;
                }
            }
            return k;
        }

        private Graph rewrite() {
            Map<String, Integer> reads = new HashMap<>();
            for (Node n : g.nodes()) {
                for (String v : Graph.nodeReads(n)) {
                    reads.merge(v, 1, Integer::sum);
                }
            }
            Graph.Builder b = g.toBuilder();
            Map<String, String> fresh = new HashMap<>();
            for (Map.Entry<Node, List<Slice>> e : edits.entrySet()) {
                Node n = e.getKey();
                Map<Integer, Tensor> changed = new LinkedHashMap<>();
                for (Slice s : e.getValue()) {
                    int[] keep = s.byOwnGroupOf() ? group(producerGroup.get(n)).keep : kept(s.map());
                    if (keep == null) {
                        continue;
                    }
                    Tensor t = changed.getOrDefault(s.input(), g.initializers().get(n.input(s.input())));
                    changed.put(s.input(), take(t, s.axis(), keep));
                }
                if (changed.isEmpty()) {
                    continue;
                }
                List<String> inputs = new ArrayList<>(n.inputs());
                for (Map.Entry<Integer, Tensor> c : changed.entrySet()) {
                    String name = n.input(c.getKey());
                    if (reads.getOrDefault(name, 0) > 1 || g.outputNames().contains(name)) {
                        name = MagnitudePruning.freshName(g, name + "/pruned");
                        while (fresh.containsKey(name) || b.initializers().containsKey(name)) {
                            name = name + "_";
                        }
                        fresh.put(name, name);
                        inputs.set(c.getKey(), name);
                    }
                    b.initializer(name, c.getValue());
                }
                Node m = n.withInputs(inputs);
                if (depthwise.containsKey(n)) {
                    m = m.withAttr("group", new Attr.Int(changed.get(1).dim(0)));
                }
                b.nodes().set(b.nodes().indexOf(n), m);
            }
            // values whose channel count changed lose their (stale) declared shapes
            for (Map.Entry<String, ChanMap> e : maps.entrySet()) {
                if (kept(e.getValue()) != null) {
                    b.valueInfos().remove(e.getKey());
                }
            }
            return b.build();
        }

        private List<LayerStats> stats(Graph pruned) {
            Map<String, int[]> newShapes = ValueShapes.of(pruned, o.inputShapes(), o.runtime());
            Map<String, Long> before = MacCounter.count(g, shapes);
            Map<String, Long> after = MacCounter.count(pruned, newShapes);
            Map<String, Node> newNodes = new HashMap<>();
            for (Node n : pruned.nodes()) {
                newNodes.put(n.name(), n);
            }
            List<LayerStats> l = new ArrayList<>();
            for (Node n : g.topologicalOrder()) {
                if (!before.containsKey(n.name())) {
                    continue;
                }
                int chBefore = outChannels(g, n, shapes);
                int chAfter = outChannels(pruned, newNodes.get(n.name()), newShapes);
                String note;
                Integer id = producerGroup.get(n);
                if (id != null) {
                    Group gr = group(id);
                    List<String> others = gr.producers.stream().map(PrunableLayer::name)
                            .filter(x -> !x.equals(n.name())).toList();
                    String tied = others.isEmpty() ? "" : "; tied with " + others;
                    note = gr.keep != null ? "pruned " + (gr.channels - gr.keep.length) + " of " + gr.channels + tied
                            : gr.blocked != null ? "not pruned: " + gr.blocked + tied : "not pruned: ratio too small"
                                    + tied;
                } else if (depthwise.containsKey(n)) {
                    note = "depthwise, follows its producer";
                } else {
                    note = "not prunable (weights or grouping)";
                }
                l.add(new LayerStats(n.name(), n.op(), chBefore, chAfter, before.get(n.name()),
                        after.getOrDefault(n.name(), 0L), note));
            }
            return l;
        }

        private int outChannels(Graph graph, Node n, Map<String, int[]> valueShapes) {
            PrunableLayer p = PrunableLayer.of(graph, n);
            if (p != null) {
                int c = p.weightOf(graph).dim(p.outAxis());
                return n.op() == Op.ConvTranspose ? c * (int) n.intAttr("group") : c;
            }
            int[] s = valueShapes.get(n.output(0));
            return s == null ? -1 : n.op() == Op.MatMul || n.op() == Op.Gemm ? s[s.length - 1] : s[1];
        }

        private Map<String, int[]> kept() {
            Map<String, int[]> m = new LinkedHashMap<>();
            for (Map.Entry<Node, Integer> e : producerGroup.entrySet()) {
                int[] keep = group(e.getValue()).keep;
                if (keep != null) {
                    m.put(e.getKey().name(), keep.clone());
                }
            }
            for (Node dw : depthwise.keySet()) {
                int[] keep = kept(maps.get(dw.input(0)));
                if (keep != null) {
                    m.put(dw.name(), keep);
                }
            }
            return m;
        }
    }

    /** The entries of {@code t} whose index along {@code axis} is in {@code keep}, in that order. */
    static Tensor take(Tensor t, int axis, int[] keep) {
        int[] s = t.shape();
        long outer = 1;
        for (int d = 0; d < axis; d++) {
            outer *= s[d];
        }
        long inner = 1;
        for (int d = axis + 1; d < s.length; d++) {
            inner *= s[d];
        }
        int[] ns = s.clone();
        ns[axis] = keep.length;
        Tensor r = Tensor.allocate(t.dtype(), ns);
        int at = 0;
        for (long o = 0; o < outer; o++) {
            for (int k : keep) {
                if (k >= s[axis]) {
                    throw new IllegalStateException("channel " + k + " beyond " + s[axis]);
                }
                long base = (o * s[axis] + k) * inner;
                for (long i = 0; i < inner; i++) {
                    r.setDouble(at++, t.getDouble((int) (base + i)));
                }
            }
        }
        return r;
    }
}
