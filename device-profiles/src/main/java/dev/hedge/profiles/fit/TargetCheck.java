package dev.hedge.profiles.fit;

import dev.hedge.ir.Graph;
import dev.hedge.ir.ModelDef;
import dev.hedge.ir.Node;
import dev.hedge.ops.Op;
import dev.hedge.profiles.DeviceProfile;
import dev.hedge.profiles.DeviceProfile.Precision;
import dev.hedge.profiles.armnn.ArmNnDelegate;
import dev.hedge.profiles.partition.GraphFacts;
import dev.hedge.profiles.partition.PartitionPlan;
import dev.hedge.profiles.partition.Partitioner;
import dev.hedge.profiles.partition.Placement;
import dev.hedge.runtime.DType;
import dev.hedge.runtime.Model;
import dev.hedge.runtime.RuntimeOptions;
import dev.hedge.runtime.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Checks a converted model against a device profile: each compute layer's weights (dtype, int8 scale
 * granularity, symmetry) and, for full-integer targets, that every layer runs in int8; the stored weights
 * and the planned arena against the memory budget; and where each node would run on the target (its
 * accelerators assumed present), refusing CPU nodes when the profile allows no CPU fallback.
 */
public final class TargetCheck {

    private TargetCheck() {
    }

    /** A compute layer's weights as stored. */
    public record WeightRow(String node, String op, String tensor, DType dtype, String granularity,
            boolean symmetric, String problem) {
    }

    /**
     * @param weightsBytes stored bytes of every constant
     * @param arenaBytes the planned activation arena at the checked input shapes
     * @param violations everything that keeps the model off the target, one line each (empty: it fits):
     *     memory first, then weights, then placement
     */
    public record Report(String profile, List<WeightRow> weights, long weightsBytes, long weightsBudget,
            long arenaBytes, long arenaBudget, List<int[]> inputShapes, PartitionPlan placement,
            List<String> violations) {

        public boolean ok() {
            return violations.isEmpty();
        }

        public String text() {
            StringBuilder sb = new StringBuilder();
            sb.append(String.format(Locale.ROOT, "target %s: weights %,d of %,d bytes, arena %,d of %,d bytes%n",
                    profile, weightsBytes, weightsBudget, arenaBytes, arenaBudget));
            for (WeightRow w : weights) {
                sb.append(String.format(Locale.ROOT, "  weights %-28s %-14s %-8s %-11s %s%s%n", w.tensor(), w.op(),
                        w.dtype(), w.granularity(), w.granularity().equals("-") ? "-"
                                : w.symmetric() ? "symmetric" : "asymmetric",
                        w.problem() == null ? "" : "  <- " + w.problem()));
            }
            sb.append(placement.explain());
            List<Placement> cpu = placement.cpuNodes();
            if (!cpu.isEmpty() && !placement.partitions().isEmpty()) {
                sb.append(String.format(Locale.ROOT, "CPU-fallback nodes (%d): %s%n", cpu.size(),
                        String.join(", ", cpu.stream().map(p -> p.node() + " (" + p.op() + ")").toList())));
            }
            for (String v : violations) {
                sb.append("violation: ").append(v).append('\n');
            }
            return sb.toString();
        }
    }

    public static Report check(ModelDef def, DeviceProfile p, Map<String, int[]> shapeOverrides,
            boolean allowCpuFallback) {
        List<String> violations = new ArrayList<>();
        List<String> weightViolations = new ArrayList<>();
        List<WeightRow> rows = weights(def.graph(), p.precision(), p.name(), weightViolations);
        long weightsBytes = 0;
        for (Tensor t : def.graph().initializers().values()) {
            weightsBytes += t.data().capacity();
        }
        List<int[]> shapes;
        long arena;
        // the reference backend's arena: the same on every converting host, whatever backends it has
        try (Model m = Model.of(def, RuntimeOptions.reference())) {
            shapes = m.defaultInputShapes(shapeOverrides);
            arena = m.plan(shapes).totalArenaBytes();
        }
        if (weightsBytes > p.memory().weightsBytes()) {
            violations.add(String.format(Locale.ROOT, "stored weights take %,d bytes, over the %,d-byte budget of "
                    + "%s (memory.weightsBytes)", weightsBytes, p.memory().weightsBytes(), p.name()));
        }
        if (arena > p.memory().arenaBytes()) {
            violations.add(String.format(Locale.ROOT, "the planned arena takes %,d bytes at input shapes %s, over "
                    + "the %,d-byte budget of %s (memory.arenaBytes)", arena, shapesText(shapes),
                    p.memory().arenaBytes(), p.name()));
        }
        violations.addAll(weightViolations);
        GraphFacts facts = GraphFacts.of(def, shapes);
        // allowed fallback: partitions that would lose to the CPU are refused, as on a profile that allows it
        PartitionPlan plan = Partitioner.plan(facts, allowCpuFallback ? p.withCpuFallback() : p,
                List.of(ArmNnDelegate.INSTANCE), false);
        if (!p.accelerators().isEmpty() && !p.cpuFallback() && !allowCpuFallback) {
            List<String> off = new ArrayList<>();
            for (Placement x : plan.cpuNodes()) {
                off.add(x.node() + " (" + x.op() + ": " + x.reason() + ")");
            }
            if (!off.isEmpty()) {
                violations.add(off.size() + " node" + (off.size() == 1 ? "" : "s") + " cannot run on "
                        + String.join(", ", p.accelerators().stream().map(DeviceProfile.Accelerator::name).toList())
                        + " and " + p.name() + " allows no CPU fallback (allow it with --allow-cpu-fallback): "
                        + String.join("; ", off));
            }
        }
        return new Report(p.name(), rows, weightsBytes, p.memory().weightsBytes(), arena, p.memory().arenaBytes(),
                shapes, plan, List.copyOf(violations));
    }

    private static String shapesText(List<int[]> shapes) {
        return String.join(", ", shapes.stream().map(java.util.Arrays::toString).toList());
    }

    /** Input index of the weights of a compute layer, or -1 for other ops. */
    static int weightInput(Op op) {
        switch (op) {
            case Conv: case ConvTranspose: case Gemm: case MatMul: case ConvInteger: case MatMulInteger:
                return 1;
            case QLinearConv: case QLinearMatMul:
                return 3;
            default:
                return -1;
        }
    }

    static List<WeightRow> weights(Graph g, Precision prec, String profile, List<String> violations) {
        Map<String, Tensor> init = g.initializers();
        Map<String, Node> producers = g.producers();
        List<WeightRow> rows = new ArrayList<>();
        for (Node n : g.nodes()) {
            int wi = weightInput(n.op());
            if (wi < 0 || !n.hasInput(wi)) {
                continue;
            }
            String wname = n.input(wi);
            Tensor w = init.get(wname);
            Node dq = producers.get(wname);
            String scaleName = null;
            String zpName = null;
            if (w == null && dq != null && dq.op() == Op.DequantizeLinear && init.containsKey(dq.input(0))) {
                // weight-only forms: int8/int4 weights dequantized at load, compute in float
                w = init.get(dq.input(0));
                wname = dq.input(0);
                scaleName = dq.input(1);
                zpName = dq.input(2);
            } else if (n.op() == Op.QLinearConv || n.op() == Op.QLinearMatMul) {
                scaleName = n.input(4);
                zpName = n.input(5);
            } else if (n.op() == Op.ConvInteger || n.op() == Op.MatMulInteger) {
                zpName = n.input(3);
            }
            if (w == null) {
                continue; // weights computed at run time: activations, not stored weights
            }
            String granularity = "-";
            boolean symmetric = true;
            List<String> problems = new ArrayList<>();
            DType d = w.dtype();
            if (d == DType.INT8 || d == DType.UINT8 || d == DType.INT4 || d == DType.UINT4) {
                Tensor s = scaleName == null ? null : init.get(scaleName);
                int scales = s != null ? s.elementCount() : w.quant() != null ? w.quant().count() : 1;
                granularity = scales == 1 ? "per-tensor" : "per-channel";
                Tensor z = zpName == null || zpName.isEmpty() ? null : init.get(zpName);
                if (z != null) {
                    for (int i = 0; i < z.elementCount(); i++) {
                        symmetric &= z.getLong(i) == 0;
                    }
                } else if (w.quant() != null) {
                    for (long zp : w.quant().zeroPoints()) {
                        symmetric &= zp == 0;
                    }
                }
                if (scales > 1 && !prec.perChannelAllowed()) {
                    problems.add("per-channel scales; " + profile + " takes per-tensor only");
                }
                if (!symmetric && prec.weightSymmetric()) {
                    problems.add("non-zero zero point; " + profile + " takes symmetric weights only");
                }
            }
            if (!prec.weights().contains(d)) {
                problems.add(d + " weights; " + profile + " takes " + prec.weights());
            }
            boolean integerLayer = n.op() == Op.QLinearConv || n.op() == Op.QLinearMatMul;
            if (prec.fullInteger() && !integerLayer) {
                problems.add(n.op() + " computes in " + (dq != null ? "float after dequantizing" : "float")
                        + "; " + profile + " runs full-integer models only (static int8 QLinearConv/QLinearMatMul)");
            }
            String problem = problems.isEmpty() ? null : String.join("; ", problems);
            rows.add(new WeightRow(n.name(), n.op().name(), wname, d, granularity, symmetric, problem));
            if (problem != null) {
                violations.add("weights '" + wname + "' of " + n.describe() + ": " + problem);
            }
        }
        return rows;
    }
}
