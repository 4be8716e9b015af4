package dev.hedge.kernels.ref.tensor;

import dev.hedge.ir.Node;
import java.nio.ByteBuffer;
import java.util.Arrays;

/**
 * The element-by-element walk shared by GatherElements and ScatterElements: over every position of the
 * indices tensor, the data offset of that position with the axis coordinate replaced by the index value.
 * Rows are the indices' last axis; {@link #rowBase} gives a row's data offset without the axis term.
 */
final class ElementWalk {

    private final int[] idxShape;
    private final int[] dataStrides;
    private final int axis;
    private final int axisDim;
    private final int last;
    private final int count;

    ElementWalk(int[] data, int[] idx, int axis, String what) {
        for (int d = 0; d < data.length; d++) {
            if (d != axis && idx[d] > data[d]) {
                throw new IllegalArgumentException(what + " shape " + Arrays.toString(idx) + " exceeds data shape "
                        + Arrays.toString(data) + " on axis " + d);
            }
        }
        this.idxShape = idx.clone();
        this.dataStrides = StridedCopy.strides(data);
        this.axis = axis;
        this.axisDim = data[axis];
        this.last = idx.length - 1;
        this.count = Prep.product(idx, 0, idx.length);
    }

    int count() {
        return count;
    }

    /** Length of a row (the indices' last dimension). */
    int inner() {
        return idxShape[last];
    }

    /** Data offset of row {@code row} (all index axes but the last), leaving out the gathered axis. */
    int rowBase(int row) {
        int off = 0;
        int r = row;
        for (int d = last - 1; d >= 0 && r != 0; d--) {
            int c = r % idxShape[d];
            r /= idxShape[d];
            if (d != axis) {
                off += c * dataStrides[d];
            }
        }
        return off;
    }

    /** Data offset for position {@code j} of a row whose base is {@code base}; {@code i} is the flat position. */
    int offset(int base, int j, ByteBuffer ib, int i, boolean wide, Node node, int input) {
        int v = Indices.wrapped(ib, i, wide, axisDim, node, input, idxShape, axis);
        return base + v * dataStrides[axis] + (axis == last ? 0 : j * dataStrides[last]);
    }
}
