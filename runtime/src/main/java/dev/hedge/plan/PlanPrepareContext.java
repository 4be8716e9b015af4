package dev.hedge.plan;

import dev.hedge.ir.Graph;
import dev.hedge.ir.Node;
import dev.hedge.kernels.Deferred;
import dev.hedge.runtime.DType;
import dev.hedge.runtime.QuantParams;
import dev.hedge.runtime.Tensor;
import java.util.ArrayList;
import java.util.List;

/** Prepare context at plan time: shapes known where the planner could infer them, values for constants. */
final class PlanPrepareContext extends BasePrepareContext {

    private final int[] inputs;
    private final List<Slot> slots;
    private final Planner.Scope scope;
    private final boolean readsEncoded;

    /** {@code readsEncoded}: encoded constant inputs are given as stored, else decoded on first read. */
    PlanPrepareContext(Planner planner, Node node, int[] inputs, List<Slot> slots, Planner.Scope scope,
            boolean readsEncoded) {
        super(planner, node);
        this.inputs = inputs;
        this.slots = slots;
        this.scope = scope;
        this.readsEncoded = readsEncoded;
    }

    private Slot slot(int i) {
        checkInput(i);
        return slots.get(inputs[i]);
    }

    @Override
    public DType inputType(int i) {
        DType d = slot(i).dtype;
        if (d == null) {
            throw new Deferred("type of input " + i);
        }
        return d;
    }

    @Override
    public int[] inputShape(int i) {
        Slot s = slot(i);
        if (!s.shapeKnown()) {
            throw new Deferred("shape of input " + i);
        }
        return s.shape.clone();
    }

    @Override
    public QuantParams inputQuant(int i) {
        return slot(i).quant;
    }

    @Override
    public Tensor inputValue(int i) {
        Slot s = slot(i);
        if (s.kind != Slot.Kind.KNOWN) {
            return null;
        }
        return s.encoded == null ? s.value : readsEncoded ? s.encoded : planner.dense(s);
    }

    @Override
    public boolean isConstant(int i) {
        return slot(i).constant;
    }

    @Override
    public List<ValueType> inferSubgraph(Graph graph, List<ValueType> inputTypes) {
        Plan p = planner.plan(graph, inputTypes, scope);
        subplans.add(p);
        List<ValueType> out = new ArrayList<>();
        for (int id : p.outputSlots()) {
            Slot s = p.slot(id);
            out.add(new ValueType(s.dtype, s.shapeKnown() ? s.shape.clone() : null));
        }
        return out;
    }
}
