package dev.hedge.kernels;

import dev.hedge.ir.Node;
import dev.hedge.kernels.PrepareContext.ValueType;
import dev.hedge.ops.Op;
import dev.hedge.runtime.DType;
import dev.hedge.runtime.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;

/**
 * One thing a backend runs: an op on given input dtypes, activation layout and weight encoding, by one
 * <em>kernel class</em> (the name under which its measured cost is kept, see {@link KernelCosts}).
 *
 * @param inputs dtype required of each leading input ({@code null} entries and inputs beyond the list: any)
 * @param layout activation layout the kernel expects; Hedge graphs are {@link Layout#NCHW}
 * @param weights {@link Weights#SPARSE}: consumes sparse-encoded constant weights (input 1, or 3 for the
 *     QLinear ops) as stored, without decoding them; it then only matches nodes whose weights are encoded
 *     that way and whose other constant inputs are not encoded
 * @param parallel whether the kernel splits its work over the intra-op threads
 */
public record Capability(Op op, List<DType> inputs, Layout layout, Weights weights, Precision precision,
        String kernelClass, boolean parallel) {

    public enum Layout { NCHW, NHWC }

    public enum Weights { DENSE, SPARSE }

    public enum Precision { FP32, FP16, INT8, OTHER }

    public Capability {
        inputs = Collections.unmodifiableList(new ArrayList<>(inputs));
    }

    /** A dense, NCHW, multi-threaded kernel for these leading input dtypes; precision from the first one. */
    public static Capability of(Op op, String kernelClass, DType... inputs) {
        return new Capability(op, Arrays.asList(inputs), Layout.NCHW, Weights.DENSE,
                inputs.length == 0 ? Precision.OTHER : precisionOf(inputs[0]), kernelClass, true);
    }

    public Capability sparse() {
        return new Capability(op, inputs, layout, Weights.SPARSE, precision, kernelClass, parallel);
    }

    public Capability serial() {
        return new Capability(op, inputs, layout, weights, precision, kernelClass, false);
    }

    public Capability withPrecision(Precision p) {
        return new Capability(op, inputs, layout, weights, p, kernelClass, parallel);
    }

    public static Precision precisionOf(DType d) {
        if (d == null) {
            return Precision.OTHER;
        }
        switch (d) {
            case FLOAT32: return Precision.FP32;
            case FLOAT16: case BFLOAT16: return Precision.FP16;
            case INT8: case UINT8: return Precision.INT8;
            default: return Precision.OTHER;
        }
    }

    /**
     * Whether this capability covers the node: same op, required dtypes present, NCHW, and for a sparse
     * capability sparse-encoded weights. {@code constants} holds the stored (possibly encoded) value of
     * each constant input, null elsewhere.
     */
    public boolean matches(Node node, List<ValueType> types, List<Tensor> constants) {
        if (node.op() != op || layout != Layout.NCHW) {
            return false;
        }
        for (int i = 0; i < inputs.size(); i++) {
            DType want = inputs.get(i);
            if (want == null) {
                continue;
            }
            ValueType t = i < types.size() ? types.get(i) : null;
            if (t == null || t.dtype() != want) {
                return false;
            }
        }
        if (weights == Weights.SPARSE) {
            // the kernel gets every encoded constant as stored: only the weights may be encoded, sparsely
            int wi = weightIndex(node);
            for (int i = 0; constants != null && i < constants.size(); i++) {
                Tensor c = constants.get(i);
                if (i != wi && c != null && c.isEncoded()) {
                    return false;
                }
            }
            Tensor w = weightConstant(node, constants);
            return w != null && w.sparse() != null;
        }
        return true;
    }

    /** Input index of a node's weights: 3 for QLinearConv/QLinearMatMul, else 1. */
    public static int weightIndex(Node node) {
        return node.op() == Op.QLinearConv || node.op() == Op.QLinearMatMul ? 3 : 1;
    }

    /** The stored weights of a node (input {@link #weightIndex}) when constant, else null. */
    public static Tensor weightConstant(Node node, List<Tensor> constants) {
        int wi = weightIndex(node);
        return constants != null && wi < constants.size() ? constants.get(wi) : null;
    }
}
