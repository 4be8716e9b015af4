package dev.hedge.converter.passes;

import dev.hedge.ir.Attr;
import dev.hedge.ir.Graph;
import dev.hedge.ir.ModelDef;
import dev.hedge.ir.Node;
import dev.hedge.ir.ValueInfo;
import dev.hedge.ops.Op;
import dev.hedge.runtime.DType;
import dev.hedge.runtime.Model;
import dev.hedge.runtime.RuntimeOptions;
import dev.hedge.runtime.Session;
import dev.hedge.runtime.Tensor;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Evaluates nodes whose inputs are all constants (initializers, of this graph or of enclosing ones) with
 * the runtime and replaces them by initializers; Shape and Size of values whose shape is declared static
 * are computed directly. Skipped: control flow (If, Loop), Dropout (random in training mode),
 * DequantizeLinear (its quantized input is the compact form of the weights), and results that would make
 * the model much bigger ({@link #MAX_OUTPUT_BYTES}, {@link #MAX_GROWTH_BYTES}). A node the runtime cannot
 * evaluate (no kernel, an error) is left in place.
 */
public final class ConstantFolding implements GraphPass {

    /** No folded value may be bigger than this. */
    public static final long MAX_OUTPUT_BYTES = 16L << 20;
    /** A folded node may not produce this many bytes more than it reads. */
    public static final long MAX_GROWTH_BYTES = 1L << 20;

    private static final Set<Op> NEVER = Set.of(Op.If, Op.Loop, Op.Dropout, Op.DequantizeLinear);

    private final RuntimeOptions runtime;

    /** Folds with the runtime's default backends. */
    public ConstantFolding() {
        this(RuntimeOptions.reference());
    }

    /** Folds with these backends (the Java reference backend is always the fallback). */
    public ConstantFolding(RuntimeOptions runtime) {
        this.runtime = runtime;
    }

    @Override
    public String name() {
        return "constant-folding";
    }

    @Override
    public Result run(Graph g) {
        Changes changes = new Changes();
        Graph out = fold(g, Map.of(), Map.of(), changes);
        return new Result(out, changes.asMap());
    }

    @Override
    public String note(Map<String, Integer> changes) {
        return changes.isEmpty() ? "" : "folded " + Result.describe(changes);
    }

    private Graph fold(Graph g, Map<String, Tensor> outerConstants, Map<String, int[]> outerShapes,
            Changes changes) {
        Map<String, Tensor> consts = new HashMap<>(outerConstants);
        consts.putAll(g.initializers());
        for (String in : g.inputNames()) {
            consts.remove(in); // an input with a default value can be overridden: not a constant
        }
        Map<String, int[]> shapes = new HashMap<>(outerShapes);
        for (ValueInfo v : g.valueInfos().values()) {
            if (v.isStatic()) {
                shapes.put(v.name(), v.shapeOrNull());
            }
        }
        for (ValueInfo v : g.inputs()) {
            if (v.isStatic()) {
                shapes.put(v.name(), v.shapeOrNull());
            } else {
                shapes.remove(v.name());
            }
        }
        Graph.Builder b = g.toBuilder();
        b.nodes().clear();
        boolean changed = false;
        for (Node n : g.topologicalOrder()) {
            Tensor[] values = evaluate(n, consts, shapes);
            if (values != null) {
                for (int i = 0; i < values.length; i++) {
                    if (!n.output(i).isEmpty()) {
                        b.initializer(n.output(i), values[i]);
                        consts.put(n.output(i), values[i]);
                        shapes.put(n.output(i), values[i].shape());
                    }
                }
                changes.add(n.op().name());
                changed = true;
                continue;
            }
            Node m = n;
            for (Map.Entry<String, Attr> e : n.attrs().entrySet()) {
                if (e.getValue() instanceof Attr.GraphValue gv) {
                    Graph sub = fold(gv.value(), consts, shapes, changes);
                    if (sub != gv.value()) {
                        m = m.withAttr(e.getKey(), new Attr.GraphValue(sub));
                    }
                }
            }
            changed |= m != n;
            b.addNode(m);
        }
        return changed ? b.build() : g;
    }

    /** The node's output values if it can be folded now, else null. */
    private Tensor[] evaluate(Node n, Map<String, Tensor> consts, Map<String, int[]> shapes) {
        if (NEVER.contains(n.op()) || !n.subgraphs().isEmpty()) {
            return null;
        }
        if ((n.op() == Op.Shape || n.op() == Op.Size) && !consts.containsKey(n.input(0))) {
            int[] s = shapes.get(n.input(0));
            return s == null ? null : new Tensor[] {n.op() == Op.Size ? Tensor.scalar((long) Tensor.elementCount(s))
                    .reshape() : shapeValue(n, s)};
        }
        Set<String> inputs = new LinkedHashSet<>();
        long inBytes = 0;
        for (String in : n.inputs()) {
            if (in.isEmpty()) {
                continue;
            }
            Tensor t = consts.get(in);
            if (t == null || t.isEncoded()) {
                return null;
            }
            if (inputs.add(in)) {
                inBytes += t.byteSize();
            }
        }
        return run(n, inputs, consts, inBytes);
    }

    /** Shape-15 semantics: dims[start:end] with negative bounds counted from the end and clamped. */
    private static Tensor shapeValue(Node n, int[] s) {
        int r = s.length;
        long start = n.intAttr("start");
        long end = n.hasAttr("end") ? n.intAttr("end") : r;
        start = Math.min(Math.max(start < 0 ? start + r : start, 0), r);
        end = Math.min(Math.max(end < 0 ? end + r : end, 0), r);
        int len = (int) Math.max(0, end - start);
        long[] v = new long[len];
        for (int i = 0; i < len; i++) {
            v[i] = s[(int) start + i];
        }
        return Tensor.of(v, len);
    }

    /** Runs {@code n} alone on the runtime; null when it cannot or its result is too big to keep. */
    private Tensor[] run(Node n, Set<String> inputs, Map<String, Tensor> consts, long inBytes) {
        Graph.Builder b = Graph.builder("fold " + n.name());
        for (String in : inputs) {
            b.initializer(in, consts.get(in));
        }
        b.addNode(n);
        List<Integer> used = new ArrayList<>();
        for (int i = 0; i < n.outputs().size(); i++) {
            if (!n.output(i).isEmpty()) {
                b.addOutput(new ValueInfo(n.output(i), null, null));
                used.add(i);
            }
        }
        try (Model m = Model.of(new ModelDef(b.build(), Map.of()), runtime)) {
            var plan = m.plan(List.of());
            long outBytes = 0;
            for (int k = 0; k < used.size(); k++) {
                int[] shape = plan.outputShape(k);
                DType t = plan.outputType(k);
                if (shape != null && t != null) {
                    outBytes += t.byteSize(Tensor.elementCount(shape));
                }
            }
            if (tooBig(outBytes, inBytes)) {
                return null;
            }
            Map<String, Tensor> result;
            try (Session s = m.newSession()) {
                result = s.run(Map.of());
                Tensor[] out = new Tensor[n.outputs().size()];
                outBytes = 0;
                for (int i : used) {
                    out[i] = result.get(n.output(i)).copy();
                    outBytes += out[i].byteSize();
                }
                return tooBig(outBytes, inBytes) ? null : out;
            }
        } catch (RuntimeException e) {
            // no kernel, or the kernel refuses these values: the node stays and the runtime will report it
            return null;
        }
    }

    private static boolean tooBig(long outBytes, long inBytes) {
        return outBytes > MAX_OUTPUT_BYTES || outBytes > inBytes + MAX_GROWTH_BYTES;
    }
}
