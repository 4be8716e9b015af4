package dev.hedge.plan;

import dev.hedge.ir.Graph;
import dev.hedge.ir.Node;
import dev.hedge.runtime.DType;
import dev.hedge.runtime.QuantParams;
import dev.hedge.runtime.Tensor;
import java.util.ArrayList;
import java.util.List;

/** Prepare context for a deferred step at run time: every input is an actual tensor. */
final class RunPrepareContext extends BasePrepareContext {

    private final int[] inputs;
    private final Tensor[] values;
    private final Frame frame;
    private final boolean[] valueUsed;

    RunPrepareContext(Planner planner, Node node, int[] inputs, Tensor[] values, Frame frame) {
        super(planner, node);
        this.inputs = inputs;
        this.values = values;
        this.frame = frame;
        this.valueUsed = new boolean[inputs.length];
    }

    private Tensor t(int i) {
        checkInput(i);
        return values[inputs[i]];
    }

    @Override
    public DType inputType(int i) {
        return t(i).dtype();
    }

    @Override
    public int[] inputShape(int i) {
        return t(i).shape();
    }

    @Override
    public QuantParams inputQuant(int i) {
        return t(i).quant();
    }

    @Override
    public Tensor inputValue(int i) {
        Tensor t = t(i);
        valueUsed[i] = true;
        return t;
    }

    @Override
    public boolean isConstant(int i) {
        checkInput(i);
        return frame.plan().slot(inputs[i]).constant;
    }

    boolean valueUsed(int i) {
        return valueUsed[i];
    }

    @Override
    public List<ValueType> inferSubgraph(Graph graph, List<ValueType> inputTypes) {
        Plan p = planner.plan(graph, inputTypes, frame.runtimeScope());
        List<ValueType> out = new ArrayList<>();
        for (int id : p.outputSlots()) {
            Slot s = p.slot(id);
            out.add(new ValueType(s.dtype, s.shapeKnown() ? s.shape.clone() : null));
        }
        return out;
    }
}
