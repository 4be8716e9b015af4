package dev.hedge.kernels.ref.reduce;

import dev.hedge.kernels.util.Shapes;
import dev.hedge.runtime.Tensor;

/**
 * How the elements reduced into each output element are found, computed once at prepare time.
 * Dimensions of size 1 are dropped and neighbouring dimensions of the same kind merged; when the reduced
 * dimensions then form one block, output element {@code o} reads {@code count} elements from
 * {@link #base(int)} with stride {@link #inner} (stride 1 for the common reduction over trailing axes).
 * Otherwise the reads follow two offset tables (kept part, reduced part).
 */
public final class ReduceLayout {

    /** Number of output elements. */
    public final int outCount;
    /** Number of input elements reduced into each output element. */
    public final int count;
    /**
     * Product of the kept dimensions after the reduced block (1 when reducing trailing axes), which is
     * also the distance between consecutive reduced elements; 1 for the general layout.
     */
    public final int inner;
    private final int[] keptOffsets;
    private final int[] reducedOffsets;

    private ReduceLayout(int outCount, int count, int inner, int[] keptOffsets, int[] reducedOffsets) {
        this.outCount = outCount;
        this.count = count;
        this.inner = inner;
        this.keptOffsets = keptOffsets;
        this.reducedOffsets = reducedOffsets;
    }

    /** Layout for reducing the axes flagged in {@code reduced} of an input of shape {@code shape}. */
    public static ReduceLayout of(int[] shape, boolean[] reduced) {
        int rank = shape.length;
        int outCount = 1;
        int count = 1;
        for (int d = 0; d < rank; d++) {
            if (reduced[d]) {
                count = Math.multiplyExact(count, shape[d]);
            } else {
                outCount = Math.multiplyExact(outCount, shape[d]);
            }
        }
        if (outCount == 0 || count == 0) {
            return new ReduceLayout(outCount, count, 1, null, null);
        }
        // count the runs of reduced dims, ignoring dims of size 1
        int blocks = 0;
        boolean prevReduced = false;
        int lastRed = -1;
        for (int d = 0; d < rank; d++) {
            if (shape[d] == 1) {
                continue;
            }
            if (reduced[d]) {
                if (!prevReduced) {
                    blocks++;
                }
                lastRed = d;
            }
            prevReduced = reduced[d];
        }
        if (blocks <= 1) {
            int inner = lastRed < 0 ? 1 : Shapes.product(shape, lastRed + 1, rank);
            return new ReduceLayout(outCount, count, inner, null, null);
        }
        int[] strides = Shapes.strides(shape);
        int[] kept = new int[outCount];
        int[] red = new int[count];
        fillOffsets(shape, strides, reduced, false, kept);
        fillOffsets(shape, strides, reduced, true, red);
        return new ReduceLayout(outCount, count, 1, kept, red);
    }

    /** Offsets, in row-major order of the selected dims, of every index combination over those dims. */
    private static void fillOffsets(int[] shape, int[] strides, boolean[] reduced, boolean which, int[] out) {
        int rank = shape.length;
        int[] idx = new int[rank];
        int off = 0;
        for (int k = 0; k < out.length; k++) {
            out[k] = off;
            for (int d = rank - 1; d >= 0; d--) {
                if (reduced[d] != which) {
                    continue;
                }
                if (++idx[d] < shape[d]) {
                    off += strides[d];
                    break;
                }
                off -= (idx[d] - 1) * strides[d];
                idx[d] = 0;
            }
        }
    }

    /** Whether the reduced elements of one output element are evenly spaced ({@link #base}/{@link #inner}). */
    public boolean strided() {
        return keptOffsets == null;
    }

    /** Offset of the first element reduced into output element {@code o} (strided layouts). */
    public int base(int o) {
        if (inner == 1) {
            return o * count;
        }
        return (o / inner) * count * inner + o % inner;
    }

    /** Loads the elements reduced into output element {@code o}. */
    public void load(Tensor x, int o, double[] dst) {
        if (keptOffsets == null) {
            Rows.load(x, base(o), inner, count, dst);
        } else {
            Rows.gather(x, keptOffsets[o], reducedOffsets, count, dst);
        }
    }

    /** Loads the elements reduced into output element {@code o} as longs ({@link Rows#loadLong}). */
    public void loadLong(Tensor x, int o, long[] dst) {
        if (keptOffsets == null) {
            Rows.loadLong(x, base(o), inner, count, dst);
        } else {
            Rows.gatherLong(x, keptOffsets[o], reducedOffsets, count, dst);
        }
    }
}
