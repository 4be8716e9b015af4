package dev.hedge.kernels.ref.tensor;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.hedge.ops.Op;
import dev.hedge.runtime.DType;
import dev.hedge.runtime.HedgeException;
import dev.hedge.runtime.Tensor;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import org.junit.jupiter.api.Test;

/** Transpose, Slice and Gather against direct index-mapping references. */
class TransposeSliceGatherTest {

    @Property(tries = 300)
    void transposeMatchesIndexMapping(@ForAll long seed) {
        Random rnd = new Random(seed);
        DType t = TData.moveType(rnd);
        int[] shape = rnd.nextInt(4) == 0 ? new int[] {1 + rnd.nextInt(70), 1 + rnd.nextInt(70), 1 + rnd.nextInt(3)}
                : TData.randomShape(rnd, 5, 5);
        int r = shape.length;
        List<Integer> p = new ArrayList<>();
        for (int i = 0; i < r; i++) {
            p.add(i);
        }
        Collections.shuffle(p, rnd);
        long[] perm = p.stream().mapToLong(Integer::longValue).toArray();
        boolean defaultPerm = rnd.nextInt(5) == 0;
        if (defaultPerm) {
            for (int i = 0; i < r; i++) {
                perm[i] = r - 1 - i;
            }
        }
        Tensor x = TData.random(t, shape, rnd);
        OneNode n = OneNode.of(Op.Transpose).input(x);
        if (!defaultPerm) {
            n.attr("perm", perm);
        }
        Tensor y = n.run1();

        int[] outShape = new int[r];
        for (int i = 0; i < r; i++) {
            outShape[i] = shape[(int) perm[i]];
        }
        Tensor expected = Tensor.allocate(t, outShape);
        for (int o = 0; o < expected.elementCount(); o++) {
            int[] oc = TData.unravel(o, outShape);
            int[] ic = new int[r];
            for (int k = 0; k < r; k++) {
                ic[(int) perm[k]] = oc[k];
            }
            TData.put(expected, o, x, TData.ravel(ic, shape));
        }
        TData.assertSame(expected, y, "transpose " + java.util.Arrays.toString(shape) + " perm "
                + java.util.Arrays.toString(perm));
    }

    @Property(tries = 400)
    void sliceMatchesTheSpecRanges(@ForAll long seed) {
        Random rnd = new Random(seed);
        DType t = TData.moveType(rnd);
        int[] shape = TData.randomShape(rnd, 4, 7);
        int r = shape.length;
        if (r == 0) {
            shape = new int[] {5};
            r = 1;
        }
        // a random subset of axes, in random order, each with random start/end/step
        List<Integer> ax = new ArrayList<>();
        for (int i = 0; i < r; i++) {
            ax.add(i);
        }
        Collections.shuffle(ax, rnd);
        int k = 1 + rnd.nextInt(r);
        long[] starts = new long[k];
        long[] ends = new long[k];
        long[] axes = new long[k];
        long[] steps = new long[k];
        for (int i = 0; i < k; i++) {
            int a = ax.get(i);
            axes[i] = rnd.nextBoolean() ? a : a - r;
            starts[i] = pick(rnd, shape[a]);
            ends[i] = pick(rnd, shape[a]);
            steps[i] = rnd.nextInt(4) == 0 ? -(1 + rnd.nextInt(3)) : 1 + rnd.nextInt(3);
        }
        boolean defaultAxes = rnd.nextInt(6) == 0;
        boolean defaultSteps = rnd.nextInt(6) == 0;
        if (defaultAxes) {
            for (int i = 0; i < k; i++) {
                axes[i] = i;
            }
        }
        if (defaultSteps) {
            java.util.Arrays.fill(steps, 1);
        }
        Tensor x = TData.random(t, shape, rnd);
        OneNode n = OneNode.of(Op.Slice).input(x);
        // starts/ends as constants (static plan) or as graph inputs (prepared at run time)
        boolean constant = rnd.nextBoolean();
        for (long[] v : new long[][] {starts, ends}) {
            if (constant) {
                n.constant(Tensor.of(v, v.length));
            } else {
                n.input(Tensor.of(v, v.length));
            }
        }
        if (defaultAxes && defaultSteps) {
            // both omitted
        } else {
            n.constant(Tensor.of(axes, k));
            if (!defaultSteps) {
                n.constant(Tensor.of(steps, k));
            }
        }
        Tensor y = n.run1();

        // reference: the index list along every axis, built like Python's range over normalised bounds
        int[][] picks = new int[r][];
        for (int a = 0; a < r; a++) {
            picks[a] = range(0, shape[a], shape[a], 1);
        }
        for (int i = 0; i < k; i++) {
            int a = (int) (axes[i] < 0 ? axes[i] + r : axes[i]);
            picks[a] = range(starts[i], ends[i], shape[a], steps[i]);
        }
        int[] outShape = new int[r];
        for (int a = 0; a < r; a++) {
            outShape[a] = picks[a].length;
        }
        Tensor expected = Tensor.allocate(t, outShape);
        for (int o = 0; o < expected.elementCount(); o++) {
            int[] oc = TData.unravel(o, outShape);
            int[] ic = new int[r];
            for (int a = 0; a < r; a++) {
                ic[a] = picks[a][oc[a]];
            }
            TData.put(expected, o, x, TData.ravel(ic, shape));
        }
        TData.assertSame(expected, y, "slice " + java.util.Arrays.toString(shape) + " starts "
                + java.util.Arrays.toString(starts) + " ends " + java.util.Arrays.toString(ends) + " axes "
                + java.util.Arrays.toString(axes) + " steps " + java.util.Arrays.toString(steps));
    }

    private static long pick(Random rnd, int dim) {
        switch (rnd.nextInt(6)) {
            case 0: return Long.MAX_VALUE;
            case 1: return Long.MIN_VALUE;
            case 2: return -(1 + rnd.nextInt(dim + 3));
            default: return rnd.nextInt(dim + 3);
        }
    }

    /**
     * Positions selected along an axis of length {@code dim}, by the ONNX Slice text: negative bounds count from
     * the end, then start is clamped to [0, dim] (step > 0) or [0, dim-1] (step < 0), end to [0, dim] or
     * [-1, dim-1], and positions start, start+step, ... are taken while they are before end.
     */
    static int[] range(long start, long end, int dim, long step) {
        List<Integer> l = new ArrayList<>();
        if (dim == 0) {
            return new int[0];
        }
        long s = start < 0 ? start + dim : start;
        long e = end < 0 ? end + dim : end;
        if (step > 0) {
            s = Math.max(0, Math.min(dim, s));
            e = Math.max(0, Math.min(dim, e));
            for (long i = s; i < e; i += step) {
                l.add((int) i);
            }
        } else {
            s = Math.max(0, Math.min(dim - 1, s));
            e = Math.max(-1, Math.min(dim - 1, e));
            for (long i = s; i > e; i += step) {
                l.add((int) i);
            }
        }
        return l.stream().mapToInt(Integer::intValue).toArray();
    }

    @Property(tries = 300)
    void gatherMatchesDirectIndexing(@ForAll long seed) {
        Random rnd = new Random(seed);
        DType t = TData.moveType(rnd);
        int[] shape = TData.randomShape(rnd, 4, 6);
        if (shape.length == 0) {
            shape = new int[] {4};
        }
        int r = shape.length;
        int axis = rnd.nextInt(r);
        if (shape[axis] == 0) {
            shape[axis] = 3;
        }
        int[] idxShape = TData.randomShape(rnd, 3, 4);
        boolean wide = rnd.nextBoolean();
        Tensor idx = Tensor.allocate(wide ? DType.INT64 : DType.INT32, idxShape);
        for (int i = 0; i < idx.elementCount(); i++) {
            idx.setLong(i, rnd.nextInt(2 * shape[axis]) - shape[axis]);
        }
        Tensor x = TData.random(t, shape, rnd);
        Tensor y = OneNode.of(Op.Gather).input(x).input(idx).attr("axis", rnd.nextBoolean() ? axis : axis - r).run1();

        int q = idxShape.length;
        int[] outShape = new int[r - 1 + q];
        System.arraycopy(shape, 0, outShape, 0, axis);
        System.arraycopy(idxShape, 0, outShape, axis, q);
        System.arraycopy(shape, axis + 1, outShape, axis + q, r - axis - 1);
        Tensor expected = Tensor.allocate(t, outShape);
        for (int o = 0; o < expected.elementCount(); o++) {
            int[] oc = TData.unravel(o, outShape);
            int[] ic = new int[r];
            int[] jc = new int[q];
            System.arraycopy(oc, 0, ic, 0, axis);
            System.arraycopy(oc, axis, jc, 0, q);
            System.arraycopy(oc, axis + q, ic, axis + 1, r - axis - 1);
            long v = idx.getLong(TData.ravel(jc, idxShape));
            ic[axis] = (int) (v < 0 ? v + shape[axis] : v);
            TData.put(expected, o, x, TData.ravel(ic, shape));
        }
        TData.assertSame(expected, y, "gather");
    }

    @Test
    void gatherRejectsAnIndexOutOfRangeAtRunTime() {
        Tensor x = Tensor.of(new float[] {1, 2, 3, 4, 5, 6}, 3, 2);
        Tensor idx = Tensor.of(new long[] {0, 2, -4}, 3);
        HedgeException e = assertThrows(HedgeException.class,
                () -> OneNode.of(Op.Gather).input(x).input(idx).run1());
        assertTrue(e.getMessage().contains("Gather node 'n'") && e.getMessage().contains("index -4 at position [2]")
                && e.getMessage().contains("[-3, 2]"), e.getMessage());
    }
}
