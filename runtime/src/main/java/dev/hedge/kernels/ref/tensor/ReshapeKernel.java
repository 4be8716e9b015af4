package dev.hedge.kernels.ref.tensor;

import dev.hedge.ir.Node;
import dev.hedge.kernels.Kernel;
import dev.hedge.kernels.PrepareContext;
import dev.hedge.kernels.RunContext;
import java.util.Arrays;
import java.util.function.IntUnaryOperator;

/**
 * Reshape, Flatten, Squeeze, Unsqueeze and Identity: the bytes stay as they are, only the shape changes, so
 * every dtype (packed 4-bit included) is a plain copy.
 */
public final class ReshapeKernel implements Kernel {

    private final Node node;

    public ReshapeKernel(Node node) {
        this.node = node;
    }

    @Override
    public void prepare(PrepareContext ctx) {
        int[] in = ctx.inputShape(0);
        int[] out;
        IntUnaryOperator axisMap = null;
        switch (node.op()) {
            case Reshape:
                out = reshape(in, Prep.ints(ctx, 1, "shape"), node.intAttr("allowzero") != 0);
                break;
            case Flatten:
                out = flatten(in, node.intAttr("axis"));
                break;
            case Squeeze: {
                boolean[] drop = squeezed(in, ctx.hasInput(1) ? Prep.ints(ctx, 1, "axes") : null);
                out = squeeze(in, drop);
                int[] map = axisMap(in, drop, null);
                axisMap = a -> map[a];
                break;
            }
            case Unsqueeze: {
                boolean[] inserted = inserted(in.length, Prep.ints(ctx, 1, "axes"));
                out = unsqueeze(in, inserted);
                int[] map = axisMap(in, null, inserted);
                axisMap = a -> map[a];
                break;
            }
            case Identity:
                out = in;
                axisMap = a -> a;
                break;
            default:
                throw new IllegalStateException(node.op() + " is not a reshape");
        }
        ctx.setOutput(0, ctx.inputType(0), out);
        Prep.passQuant(ctx, 0, 0, axisMap);
    }

    @Override
    public void run(RunContext ctx) {
        ctx.input(0).copyTo(ctx.output(0));
    }

    static int[] reshape(int[] in, long[] shape, boolean allowZero) {
        int[] out = new int[shape.length];
        int infer = -1;
        long known = 1;
        boolean hasZero = false;
        for (int i = 0; i < shape.length; i++) {
            long s = shape[i];
            if (s == -1) {
                if (infer >= 0) {
                    throw new IllegalArgumentException("shape " + Arrays.toString(shape) + " has more than one -1");
                }
                infer = i;
                continue;
            }
            if (s < -1) {
                throw new IllegalArgumentException("shape " + Arrays.toString(shape) + " has invalid dimension " + s);
            }
            if (s == 0 && !allowZero) {
                if (i >= in.length) {
                    throw new IllegalArgumentException("shape " + Arrays.toString(shape) + " copies dimension " + i
                            + " (0) but the input " + Arrays.toString(in) + " has rank " + in.length);
                }
                s = in[i];
            }
            if (s == 0) {
                hasZero = true;
            }
            out[i] = Prep.toDim(s, "reshape dimension");
            known *= s;
        }
        long total = 1;
        for (int d : in) {
            total *= d;
        }
        if (infer >= 0) {
            if (hasZero && allowZero) {
                throw new IllegalArgumentException("shape " + Arrays.toString(shape)
                        + " has both 0 and -1, which allowzero=1 forbids");
            }
            if (known == 0 || total % known != 0) {
                throw new IllegalArgumentException("cannot reshape " + Arrays.toString(in) + " to "
                        + Arrays.toString(shape) + ": the -1 dimension cannot be inferred");
            }
            out[infer] = Prep.toDim(total / known, "inferred dimension");
        } else if (known != total) {
            throw new IllegalArgumentException("cannot reshape " + Arrays.toString(in) + " (" + total
                    + " elements) to " + Arrays.toString(shape) + " (" + known + " elements)");
        }
        return out;
    }

    static int[] flatten(int[] in, long axis) {
        int r = in.length;
        if (axis < -r || axis > r) {
            throw new IllegalArgumentException("axis " + axis + " is out of range [" + (-r) + ", " + r + "]");
        }
        int a = (int) (axis < 0 ? axis + r : axis);
        return new int[] {Prep.product(in, 0, a), Prep.product(in, a, r)};
    }

    /** Which input axes Squeeze removes: the listed ones (which must be 1), or every 1 when none are. */
    static boolean[] squeezed(int[] in, long[] axes) {
        boolean[] drop = new boolean[in.length];
        if (axes == null) {
            for (int i = 0; i < in.length; i++) {
                drop[i] = in[i] == 1;
            }
        } else {
            for (long a : axes) {
                int ax = Prep.axis(a, in.length, "squeeze axis");
                if (drop[ax]) {
                    throw new IllegalArgumentException("squeeze axis " + a + " is repeated in " + Arrays.toString(axes));
                }
                if (in[ax] != 1) {
                    throw new IllegalArgumentException("cannot squeeze axis " + a + " of shape " + Arrays.toString(in)
                            + ": its size is " + in[ax] + ", not 1");
                }
                drop[ax] = true;
            }
        }
        return drop;
    }

    static int[] squeeze(int[] in, boolean[] drop) {
        int n = 0;
        int[] out = new int[in.length];
        for (int i = 0; i < in.length; i++) {
            if (!drop[i]) {
                out[n++] = in[i];
            }
        }
        return Arrays.copyOf(out, n);
    }

    /** Which output axes Unsqueeze inserts. */
    static boolean[] inserted(int inRank, long[] axes) {
        int r = inRank + axes.length;
        boolean[] inserted = new boolean[r];
        for (long a : axes) {
            int ax = Prep.axis(a, r, "unsqueeze axis");
            if (inserted[ax]) {
                throw new IllegalArgumentException("unsqueeze axis " + a + " is repeated in " + Arrays.toString(axes));
            }
            inserted[ax] = true;
        }
        return inserted;
    }

    static int[] unsqueeze(int[] in, boolean[] inserted) {
        int r = inserted.length;
        int[] out = new int[r];
        int k = 0;
        for (int i = 0; i < r; i++) {
            out[i] = inserted[i] ? 1 : in[k++];
        }
        return out;
    }

    /** For Squeeze/Unsqueeze: where each input axis lands in the output (-1: removed). */
    static int[] axisMap(int[] in, boolean[] removedIn, boolean[] insertedOut) {
        int[] pos = new int[in.length];
        int j = 0;
        for (int i = 0; i < in.length; i++) {
            while (insertedOut != null && insertedOut[j]) {
                j++;
            }
            pos[i] = removedIn != null && removedIn[i] ? -1 : j++;
        }
        return pos;
    }
}
