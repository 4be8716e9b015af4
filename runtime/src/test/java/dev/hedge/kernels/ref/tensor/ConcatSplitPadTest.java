package dev.hedge.kernels.ref.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.hedge.ops.Op;
import dev.hedge.runtime.DType;
import dev.hedge.runtime.Tensor;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;

/** Concat/Split round trips and Pad against per-coordinate references. */
class ConcatSplitPadTest {

    @Property(tries = 300)
    void splitThenConcatGivesTheInputBack(@ForAll long seed) {
        Random rnd = new Random(seed);
        DType t = TData.moveType(rnd);
        int[] shape = rnd.nextInt(4) == 0 ? new int[] {1 + rnd.nextInt(3), 20 + rnd.nextInt(60)}
                : TData.randomShape(rnd, 4, 6);
        if (shape.length == 0) {
            shape = new int[] {6};
        }
        int r = shape.length;
        int axis = rnd.nextInt(r);
        int parts = 1 + rnd.nextInt(4);
        long[] sizes = new long[parts];
        int left = shape[axis];
        for (int i = 0; i < parts - 1; i++) {
            sizes[i] = rnd.nextInt(left + 1);
            left -= sizes[i];
        }
        sizes[parts - 1] = left;
        Tensor x = TData.random(t, shape, rnd);
        OneNode split = OneNode.of(Op.Split).input(x).attr("axis", rnd.nextBoolean() ? axis : axis - r).outputs(parts);
        if (rnd.nextBoolean()) {
            split.constant(Tensor.of(sizes, parts));
        } else {
            split.input(Tensor.of(sizes, parts));
        }
        List<Tensor> pieces = split.run();

        // every piece is the slab [offset, offset + size) of the input along the axis
        int offset = 0;
        for (int p = 0; p < parts; p++) {
            int[] ps = shape.clone();
            ps[axis] = (int) sizes[p];
            Tensor expected = Tensor.allocate(t, ps);
            for (int o = 0; o < expected.elementCount(); o++) {
                int[] c = TData.unravel(o, ps);
                c[axis] += offset;
                TData.put(expected, o, x, TData.ravel(c, shape));
            }
            TData.assertSame(expected, pieces.get(p), "split piece " + p + " of " + Arrays.toString(shape)
                    + " axis " + axis + " sizes " + Arrays.toString(sizes));
            offset += sizes[p];
        }

        OneNode concat = OneNode.of(Op.Concat).attr("axis", axis);
        for (Tensor piece : pieces) {
            concat.input(piece);
        }
        TData.assertSame(x, concat.run1(), "concat of the split pieces");
    }

    @Property(tries = 100)
    void concatOfDifferentSizesMatchesCoordinates(@ForAll long seed) {
        Random rnd = new Random(seed);
        DType t = TData.moveType(rnd);
        int[] base = TData.randomShape(rnd, 3, 5);
        if (base.length == 0) {
            base = new int[] {3};
        }
        int axis = rnd.nextInt(base.length);
        int n = 1 + rnd.nextInt(4);
        Tensor[] in = new Tensor[n];
        OneNode concat = OneNode.of(Op.Concat).attr("axis", axis);
        int total = 0;
        for (int i = 0; i < n; i++) {
            int[] s = base.clone();
            s[axis] = rnd.nextInt(4);
            total += s[axis];
            in[i] = TData.random(t, s, rnd);
            concat.input(in[i]);
        }
        int[] outShape = base.clone();
        outShape[axis] = total;
        Tensor expected = Tensor.allocate(t, outShape);
        for (int o = 0; o < expected.elementCount(); o++) {
            int[] c = TData.unravel(o, outShape);
            int k = 0;
            while (c[axis] >= in[k].dim(axis)) {
                c[axis] -= in[k].dim(axis);
                k++;
            }
            TData.put(expected, o, in[k], TData.ravel(c, in[k].shape()));
        }
        TData.assertSame(expected, concat.run1(), "concat");
    }

    @Property(tries = 400)
    void padMatchesPerCoordinateReference(@ForAll long seed) {
        Random rnd = new Random(seed);
        DType t = TData.moveType(rnd);
        String mode = new String[] {"constant", "reflect", "edge", "wrap"}[rnd.nextInt(4)];
        int[] shape = TData.randomShape(rnd, 4, 5);
        int r = shape.length;
        if (!mode.equals("constant")) {
            for (int i = 0; i < r; i++) {
                shape[i] = Math.max(shape[i], 1);
            }
        }
        boolean withAxes = r > 0 && rnd.nextBoolean();
        int[] axes = new int[r];
        int k = r;
        if (withAxes) {
            k = 1 + rnd.nextInt(r);
            List<Integer> all = new java.util.ArrayList<>();
            for (int i = 0; i < r; i++) {
                all.add(i);
            }
            java.util.Collections.shuffle(all, rnd);
            axes = new int[k];
            for (int i = 0; i < k; i++) {
                axes[i] = all.get(i);
            }
        } else {
            for (int i = 0; i < r; i++) {
                axes[i] = i;
            }
        }
        long[] pads = new long[2 * k];
        long[] begin = new long[r];
        long[] end = new long[r];
        for (int i = 0; i < k; i++) {
            int d = shape[axes[i]];
            // negative pads crop (any mode); positive pads up to twice the size exercise repeated reflection
            pads[i] = rnd.nextInt(2 * d + 3) - Math.min(d, 2) / 2;
            pads[k + i] = rnd.nextInt(2 * d + 3) - Math.min(d, 2) / 2;
            begin[axes[i]] = pads[i];
            end[axes[i]] = pads[k + i];
        }
        Tensor x = TData.random(t, shape, rnd);
        Tensor cv = TData.random(t, new int[0], rnd);
        OneNode pad = OneNode.of(Op.Pad).attr("mode", mode).input(x).constant(Tensor.of(pads, pads.length));
        boolean withValue = mode.equals("constant") && rnd.nextBoolean();
        if (withValue) {
            pad.input(cv);
        } else if (withAxes) {
            pad.omitted();
        }
        if (withAxes) {
            long[] ax = new long[k];
            for (int i = 0; i < k; i++) {
                ax[i] = rnd.nextBoolean() ? axes[i] : axes[i] - r;
            }
            pad.constant(Tensor.of(ax, k));
        }
        Tensor y = pad.run1();

        int[] outShape = new int[r];
        for (int a = 0; a < r; a++) {
            outShape[a] = (int) (shape[a] + begin[a] + end[a]);
        }
        Tensor expected = Tensor.allocate(t, outShape);
        for (int o = 0; o < expected.elementCount(); o++) {
            int[] c = TData.unravel(o, outShape);
            boolean outside = false;
            for (int a = 0; a < r; a++) {
                long s = c[a] - begin[a];
                int d = shape[a];
                switch (mode) {
                    case "constant":
                        outside |= s < 0 || s >= d;
                        break;
                    case "edge":
                        s = Math.max(0, Math.min(d - 1, s));
                        break;
                    case "wrap":
                        while (s < 0) {
                            s += d;
                        }
                        while (s >= d) {
                            s -= d;
                        }
                        break;
                    default:
                        // bounce off the edges (without repeating them) until inside
                        while (d > 1 && (s < 0 || s >= d)) {
                            s = s < 0 ? -s : 2L * (d - 1) - s;
                        }
                        if (d == 1) {
                            s = 0;
                        }
                }
                c[a] = (int) s;
            }
            if (outside) {
                if (withValue) {
                    TData.put(expected, o, cv, 0);
                }
            } else {
                TData.put(expected, o, x, TData.ravel(c, shape));
            }
        }
        TData.assertSame(expected, y, mode + " pad of " + Arrays.toString(shape) + " by " + Arrays.toString(pads)
                + (withAxes ? " axes " + Arrays.toString(axes) : ""));
        assertEquals(t, y.dtype());
    }
}
