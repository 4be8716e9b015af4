package dev.hedge.kernels;

import dev.hedge.ir.Graph;
import dev.hedge.ir.Node;
import dev.hedge.runtime.DType;
import dev.hedge.runtime.QuantParams;
import dev.hedge.runtime.Tensor;
import java.util.List;

/** What a kernel sees while it is prepared. Input indices follow {@link Node#inputs()}. */
public interface PrepareContext {

    Node node();

    /** Number of input slots of the node (including omitted optional ones). */
    int inputCount();

    /** Whether input {@code i} is present (not omitted, not beyond the list). */
    boolean hasInput(int i);

    DType inputType(int i);

    /** The input's shape; throws {@link Deferred} when only known at run time. */
    int[] inputShape(int i);

    /** The input's quantization parameters, or null. */
    QuantParams inputQuant(int i);

    /**
     * The input's value when known now (constants, values computable from shapes), else null. An encoded
     * constant comes as stored only to a kernel whose offer {@linkplain Offer#readsEncoded reads it so}.
     */
    Tensor inputValue(int i);

    /** The input's value; throws {@link Deferred} when only known at run time. */
    default Tensor requireValue(int i) {
        Tensor t = inputValue(i);
        if (t == null) {
            throw new Deferred(node().describe() + " needs the value of input " + i);
        }
        return t;
    }

    /** Whether input {@code i} is a constant of the model (an initializer), not merely known now. */
    boolean isConstant(int i);

    /**
     * Reports memory this kernel allocated outside the arena (packed or transposed weights), so plans can
     * account for every large allocation.
     */
    default void reportPackedBytes(long bytes) {
    }

    int outputCount();

    /** Whether output {@code i} exists and is used (a named output). */
    boolean hasOutput(int i);

    void setOutput(int i, DType dtype, int... shape);

    void setOutputQuant(int i, QuantParams quant);

    /**
     * Gives output {@code i}'s value now, when it follows from shapes alone (Shape, Size). When every used
     * output of a node is given this way, the node does not run at all.
     */
    void setOutputValue(int i, Tensor value);

    /**
     * Declares an output whose shape is only known while running (NonZero, Loop scan outputs). The kernel
     * then obtains it with {@link RunContext#allocateOutput}.
     */
    void setOutputDynamic(int i, DType dtype);

    /** Asks for {@code bytes} of scratch memory, valid only during {@link Kernel#run}; 64-byte aligned. */
    void requestScratch(long bytes);

    /** Intra-op threads this kernel may use. */
    int threads();

    /**
     * Plans a subgraph (If/Loop body) for inputs of these types and shapes ({@code null} shape: unknown),
     * returning the types and shapes of its outputs (null shape where it depends on run-time values).
     */
    List<ValueType> inferSubgraph(Graph graph, List<ValueType> inputs);

    /** A dtype and a shape ({@code null}: known only at run time). */
    record ValueType(DType dtype, int[] shape) {
    }
}
