package dev.hedge.kernels.ref.elementwise;

import dev.hedge.ir.Graph;
import dev.hedge.ir.Node;
import dev.hedge.kernels.PrepareContext;
import dev.hedge.kernels.RunContext;
import dev.hedge.runtime.DType;
import dev.hedge.runtime.QuantParams;
import dev.hedge.runtime.Tensor;
import java.nio.ByteBuffer;
import java.util.List;

/**
 * Prepare and run contexts over fixed tensors, to drive a kernel directly (no planner), e.g. to measure
 * what one {@code run} allocates. Inputs are non-constant unless listed in {@code constants}.
 */
final class DirectContext implements PrepareContext, RunContext {

    private final Node node;
    private final Tensor[] inputs;
    private final boolean[] constants;
    private final Tensor[] outputs;

    DirectContext(Node node, Tensor[] inputs, boolean[] constants) {
        this.node = node;
        this.inputs = inputs;
        this.constants = constants;
        this.outputs = new Tensor[node.outputs().size()];
    }

    @Override
    public Node node() {
        return node;
    }

    @Override
    public int inputCount() {
        return inputs.length;
    }

    @Override
    public boolean hasInput(int i) {
        return i < inputs.length && inputs[i] != null;
    }

    @Override
    public DType inputType(int i) {
        return inputs[i].dtype();
    }

    @Override
    public int[] inputShape(int i) {
        return inputs[i].shape();
    }

    @Override
    public QuantParams inputQuant(int i) {
        return null;
    }

    @Override
    public Tensor inputValue(int i) {
        return constants[i] ? inputs[i] : null;
    }

    @Override
    public boolean isConstant(int i) {
        return constants[i];
    }

    @Override
    public int outputCount() {
        return outputs.length;
    }

    @Override
    public boolean hasOutput(int i) {
        return true;
    }

    @Override
    public void setOutput(int i, DType dtype, int... shape) {
        outputs[i] = Tensor.allocate(dtype, shape);
    }

    @Override
    public void setOutputQuant(int i, QuantParams quant) {
        throw new UnsupportedOperationException();
    }

    @Override
    public void setOutputValue(int i, Tensor value) {
        throw new UnsupportedOperationException();
    }

    @Override
    public void setOutputDynamic(int i, DType dtype) {
        throw new UnsupportedOperationException();
    }

    @Override
    public void requestScratch(long bytes) {
        throw new UnsupportedOperationException();
    }

    @Override
    public int threads() {
        return 1;
    }

    @Override
    public List<ValueType> inferSubgraph(Graph graph, List<ValueType> in) {
        throw new UnsupportedOperationException();
    }

    @Override
    public Tensor input(int i) {
        return hasInput(i) ? inputs[i] : null;
    }

    @Override
    public Tensor output(int i) {
        return outputs[i];
    }

    @Override
    public Tensor allocateOutput(int i, DType dtype, int... shape) {
        throw new UnsupportedOperationException();
    }

    @Override
    public ByteBuffer scratch() {
        throw new UnsupportedOperationException();
    }

    @Override
    public void parallelFor(int n, IntConsumerTask body) {
        throw new UnsupportedOperationException();
    }

    @Override
    public List<Tensor> runSubgraph(Graph graph, List<Tensor> in) {
        throw new UnsupportedOperationException();
    }
}
