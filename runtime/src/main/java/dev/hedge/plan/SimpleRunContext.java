package dev.hedge.plan;

import dev.hedge.ir.Graph;
import dev.hedge.ir.Node;
import dev.hedge.kernels.RunContext;
import dev.hedge.runtime.DType;
import dev.hedge.runtime.Tensor;
import java.nio.ByteBuffer;
import java.util.List;

/** Run context over plain arrays, for evaluating a node while planning. */
final class SimpleRunContext implements RunContext {

    private final Node node;
    private final Tensor[] inputs;
    private final Tensor[] outputs;
    private final ByteBuffer scratch;

    SimpleRunContext(Node node, Tensor[] inputs, Tensor[] outputs, ByteBuffer scratch) {
        this.node = node;
        this.inputs = inputs;
        this.outputs = outputs;
        this.scratch = scratch;
    }

    @Override
    public Tensor input(int i) {
        return i < inputs.length ? inputs[i] : null;
    }

    @Override
    public Tensor output(int i) {
        return i < outputs.length ? outputs[i] : null;
    }

    @Override
    public Tensor allocateOutput(int i, DType dtype, int... shape) {
        throw new IllegalStateException(node.describe() + ": dynamic outputs cannot be evaluated at plan time");
    }

    @Override
    public ByteBuffer scratch() {
        return scratch;
    }

    @Override
    public void parallelFor(int n, IntConsumerTask body) {
        for (int i = 0; i < n; i++) {
            body.run(i);
        }
    }

    @Override
    public List<Tensor> runSubgraph(Graph graph, List<Tensor> in) {
        throw new IllegalStateException(node.describe() + ": subgraphs are not evaluated at plan time");
    }
}
