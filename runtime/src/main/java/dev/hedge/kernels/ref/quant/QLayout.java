package dev.hedge.kernels.ref.quant;

import dev.hedge.ir.Node;
import dev.hedge.kernels.util.Shapes;
import java.util.Arrays;

/**
 * How QuantizeLinear / DequantizeLinear parameters map onto the data: one scale for the whole tensor, one per
 * slice of {@code axis} (a 1-D scale of that dimension's length), or, with {@code block_size > 0}, one per block
 * of {@code block_size} consecutive elements along {@code axis} (the scale has the data's rank, with
 * {@code ceil(D / block_size)} on the axis). The data is seen as {@code [outer, dim, inner]} around the axis.
 */
final class QLayout {

    enum Mode { PER_TENSOR, PER_AXIS, BLOCKED }

    final Mode mode;
    final int outer;
    final int dim;
    final int inner;
    final int blockSize;
    /** Blocks along the axis (BLOCKED), else 1. */
    final int blocks;

    private QLayout(Mode mode, int outer, int dim, int inner, int blockSize, int blocks) {
        this.mode = mode;
        this.outer = outer;
        this.dim = dim;
        this.inner = inner;
        this.blockSize = blockSize;
        this.blocks = blocks;
    }

    /** Validates the scale (and zero point) shape against the data shape. */
    static QLayout of(Node node, int[] data, int[] scale, int[] zeroPoint, String scaleName) {
        // a scalar and a one-element 1-D tensor both mean per tensor (ONNX tests mix them)
        if (zeroPoint != null && !Arrays.equals(scale, zeroPoint)
                && !(Shapes.product(scale) == 1 && Shapes.product(zeroPoint) == 1 && scale.length <= 1
                && zeroPoint.length <= 1)) {
            throw new IllegalArgumentException("zero point shape " + Arrays.toString(zeroPoint)
                    + " differs from " + scaleName + " shape " + Arrays.toString(scale));
        }
        long blockSize = node.intAttr("block_size");
        int count = Shapes.product(scale);
        if (blockSize < 0) {
            throw new IllegalArgumentException("block_size " + blockSize + " is negative");
        }
        if (blockSize == 0 && count == 1 && scale.length <= 1) {
            return new QLayout(Mode.PER_TENSOR, 1, Shapes.product(data), 1, 0, 1);
        }
        int axis;
        try {
            axis = Shapes.axis(node.intAttr("axis"), data.length);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(e.getMessage() + " (data shape "
                    + Arrays.toString(data) + ")");
        }
        int outer = Shapes.product(data, 0, axis);
        int dim = data[axis];
        int inner = Shapes.product(data, axis + 1, data.length);
        if (blockSize == 0) {
            if (scale.length != 1 || scale[0] != dim) {
                throw new IllegalArgumentException(scaleName + " shape "
                        + Arrays.toString(scale) + " is neither a scalar nor [" + dim + "] (axis " + axis
                        + " of data shape " + Arrays.toString(data) + ")");
            }
            return new QLayout(Mode.PER_AXIS, outer, dim, inner, 0, 1);
        }
        if (blockSize > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("block_size " + blockSize + " is too large");
        }
        int bs = (int) blockSize;
        int blocks = dim == 0 ? 0 : (dim + bs - 1) / bs;
        int[] expected = data.clone();
        expected[axis] = blocks;
        if (!Arrays.equals(scale, expected)) {
            throw new IllegalArgumentException(scaleName + " shape "
                    + Arrays.toString(scale) + " does not match blocks of " + bs + " along axis " + axis
                    + " of data shape " + Arrays.toString(data) + " (expected " + Arrays.toString(expected) + ")");
        }
        return new QLayout(Mode.BLOCKED, outer, dim, inner, bs, blocks);
    }

    /** Index of the scale of the element at ({@code o}, {@code d}, {@code i}). */
    int scaleIndex(int o, int d, int i) {
        switch (mode) {
            case PER_TENSOR: return 0;
            case PER_AXIS: return d;
            default: return (o * blocks + d / blockSize) * inner + i;
        }
    }
}
