package dev.hedge.converter.quantize;

import dev.hedge.ops.Op;
import dev.hedge.runtime.Tensor;
import java.util.List;

/**
 * A compressible layer: a node with constant float weights (Conv, ConvTranspose, Gemm, MatMul with a
 * constant right side, LSTM/GRU/RNN), identified by its node name.
 *
 * @param input the activation input (value name)
 * @param weights the constant weight inputs, in input order (one, or W and R for recurrent layers)
 * @param bias the constant bias input, or null
 * @param output the node's first output
 * @param weightValues the weight tensors, as found
 */
public record Layer(String name, Op op, String input, List<String> weights, String bias, String output,
        List<Tensor> weightValues) {

    public Layer {
        weights = List.copyOf(weights);
        weightValues = List.copyOf(weightValues);
    }

    /** Number of weight elements (bias excluded). */
    public long params() {
        long n = 0;
        for (Tensor t : weightValues) {
            n += t.elementCount();
        }
        return n;
    }

    /** Whether static int8 (QLinearConv / QLinearMatMul) can run this kind of layer. */
    public boolean int8Capable() {
        return op == Op.Conv || op == Op.Gemm || op == Op.MatMul;
    }
}
