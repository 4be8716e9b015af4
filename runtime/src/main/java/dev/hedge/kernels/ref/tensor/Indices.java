package dev.hedge.kernels.ref.tensor;

import dev.hedge.ir.Node;
import dev.hedge.runtime.InvalidInputException;
import java.nio.ByteBuffer;
import java.util.Arrays;

/** Run-time index reading for the gather/scatter kernels: INT32 or INT64 data, range checks, negative wrap. */
final class Indices {

    private Indices() {
    }

    static long get(ByteBuffer b, int i, boolean wide) {
        return wide ? b.getLong(i * 8) : b.getInt(i * 4);
    }

    /**
     * Index {@code i} wrapped into [0, dim): negative values count from the end. Values outside [-dim, dim)
     * are an error naming the node, the index input and the position.
     */
    static int wrapped(ByteBuffer b, int i, boolean wide, int dim, Node node, int input, int[] shape, int axis) {
        long v = wide ? b.getLong(i * 8) : b.getInt(i * 4);
        if (v < 0) {
            v += dim;
        }
        if (v < 0 || v >= dim) {
            throw outOfRange(node, input, shape, i, wide ? b.getLong(i * 8) : b.getInt(i * 4), dim, axis);
        }
        return (int) v;
    }

    static InvalidInputException outOfRange(Node node, int input, int[] shape, int flat, long value, int dim,
            int axis) {
        return new InvalidInputException(node.describe() + ": index " + value + " at position "
                + Arrays.toString(unravel(flat, shape)) + " of input " + input + " ('" + node.input(input)
                + "') is out of range [" + (-dim) + ", " + (dim - 1) + "] for data axis " + axis + " of size " + dim);
    }

    private static int[] unravel(int flat, int[] shape) {
        int[] c = new int[shape.length];
        for (int d = shape.length - 1; d >= 0; d--) {
            if (shape[d] > 0) {
                c[d] = flat % shape[d];
                flat /= shape[d];
            }
        }
        return c;
    }
}
