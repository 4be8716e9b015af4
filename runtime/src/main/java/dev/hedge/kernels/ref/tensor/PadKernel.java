package dev.hedge.kernels.ref.tensor;

import dev.hedge.ir.Node;
import dev.hedge.kernels.Kernel;
import dev.hedge.kernels.PrepareContext;
import dev.hedge.kernels.RunContext;
import dev.hedge.runtime.DType;
import dev.hedge.runtime.Tensor;
import dev.hedge.runtime.UnsupportedModelException;
import java.nio.ByteBuffer;
import java.util.Arrays;

/**
 * Pad (constant, reflect, edge, wrap; negative pads crop; optional axes). Prepare builds, per axis, the source
 * index of every output position (-1: the constant). Run walks output rows: the interior of a row is one bulk
 * copy, the borders go element by element through the last axis' table.
 */
public final class PadKernel implements Kernel {

    private final Node node;
    private int[][] maps;
    private int[] inStrides;
    private int[] out;
    private int lo;
    private int hi;
    private int shift;
    private int rows;
    private int bits;

    public PadKernel(Node node) {
        this.node = node;
    }

    @Override
    public void prepare(PrepareContext ctx) {
        int[] in = ctx.inputShape(0);
        int r = in.length;
        DType t = ctx.inputType(0);
        bits = t.bits();
        String mode = node.stringAttr("mode");
        if (!mode.equals("constant") && !mode.equals("reflect") && !mode.equals("edge") && !mode.equals("wrap")) {
            throw new UnsupportedModelException(node.describe() + ": mode '" + mode + "' is not supported");
        }
        long[] pads = Prep.ints(ctx, 1, "pads");
        int[] axes = new int[r];
        int n = r;
        if (ctx.hasInput(3)) {
            long[] ax = Prep.ints(ctx, 3, "axes");
            n = ax.length;
            axes = new int[n];
            boolean[] seen = new boolean[r];
            for (int i = 0; i < n; i++) {
                axes[i] = Prep.axis(ax[i], r, "pad axis");
                if (seen[axes[i]]) {
                    throw new IllegalArgumentException("pad axis " + ax[i] + " is repeated in " + Arrays.toString(ax));
                }
                seen[axes[i]] = true;
            }
        } else {
            for (int i = 0; i < r; i++) {
                axes[i] = i;
            }
        }
        if (pads.length != 2L * n) {
            throw new IllegalArgumentException("pads " + Arrays.toString(pads) + " must have " + (2 * n)
                    + " entries (2 per padded axis)");
        }
        if (ctx.hasInput(2)) {
            if (ctx.inputType(2) != t) {
                throw new IllegalArgumentException("constant_value is " + ctx.inputType(2) + " but data is " + t);
            }
            int[] cs = ctx.inputShape(2);
            if (Prep.product(cs, 0, cs.length) != 1) {
                throw new IllegalArgumentException("constant_value must hold one value, got shape "
                        + Arrays.toString(cs));
            }
        }
        long[] begin = new long[r];
        long[] end = new long[r];
        for (int i = 0; i < n; i++) {
            begin[axes[i]] = pads[i];
            end[axes[i]] = pads[n + i];
        }
        out = new int[r];
        maps = new int[r][];
        for (int a = 0; a < r; a++) {
            long o = in[a] + begin[a] + end[a];
            if (o < 0) {
                throw new IllegalArgumentException("pads " + begin[a] + ", " + end[a] + " on axis " + a + " of size "
                        + in[a] + " give a negative size");
            }
            out[a] = Prep.toDim(o, "padded dimension");
            if (in[a] == 0 && o > 0 && !mode.equals("constant")) {
                throw new IllegalArgumentException("cannot pad empty axis " + a + " in " + mode + " mode");
            }
            maps[a] = sourceIndex(mode, in[a], out[a], begin[a]);
        }
        Prep.product(out, 0, r);
        inStrides = StridedCopy.strides(in);
        if (r > 0) {
            int last = r - 1;
            long b = begin[last];
            lo = (int) Math.max(0, Math.min(out[last], b));
            hi = (int) Math.max(lo, Math.min(out[last], b + in[last]));
            shift = (int) -b;
            rows = Prep.product(out, 0, last);
        }
        ctx.setOutput(0, t, out);
        Prep.passQuant(ctx, 0, 0, a -> begin[a] == 0 && end[a] == 0 ? a : -1);
    }

    /** For each output position along an axis, the source position, or -1 for the constant. */
    static int[] sourceIndex(String mode, int dim, int outDim, long begin) {
        int[] m = new int[outDim];
        for (int o = 0; o < outDim; o++) {
            long c = o - begin;
            long s;
            if (c >= 0 && c < dim) {
                s = c;
            } else {
                switch (mode) {
                    case "constant":
                        s = -1;
                        break;
                    case "edge":
                        s = c < 0 ? 0 : dim - 1;
                        break;
                    case "wrap":
                        s = Math.floorMod(c, (long) dim);
                        break;
                    case "reflect": {
                        // mirror without repeating the edge; the pattern has period 2*(dim-1)
                        if (dim == 1) {
                            s = 0;
                        } else {
                            long p = 2L * (dim - 1);
                            long k = Math.floorMod(c, p);
                            s = k < dim ? k : p - k;
                        }
                        break;
                    }
                    default:
                        throw new IllegalStateException(mode);
                }
            }
            m[o] = (int) s;
        }
        return m;
    }

    @Override
    public void run(RunContext ctx) {
        ByteBuffer src = ctx.input(0).data();
        ByteBuffer dst = ctx.output(0).data();
        Tensor cv = ctx.input(2);
        long fill = cv == null ? 0 : Elems.read(cv.data(), 0, bits);
        int r = out.length;
        if (r == 0) {
            Elems.copyOne(src, 0, dst, 0, bits);
            return;
        }
        int last = r - 1;
        int width = out[last];
        int[] lastMap = maps[last];
        for (int row = 0; row < rows; row++) {
            int so = 0;
            boolean constant = false;
            int rem = row;
            for (int a = last - 1; a >= 0; a--) {
                int c = rem % out[a];
                rem /= out[a];
                int s = maps[a][c];
                if (s < 0) {
                    constant = true;
                    break;
                }
                so += s * inStrides[a];
            }
            int dOff = row * width;
            if (constant) {
                Elems.fill(dst, dOff, width, bits, fill);
                continue;
            }
            for (int o = 0; o < lo; o++) {
                border(src, so, dst, dOff + o, lastMap[o], fill);
            }
            Elems.copy(src, so + lo + shift, dst, dOff + lo, hi - lo, bits);
            for (int o = hi; o < width; o++) {
                border(src, so, dst, dOff + o, lastMap[o], fill);
            }
        }
    }

    private void border(ByteBuffer src, int so, ByteBuffer dst, int di, int s, long fill) {
        if (s < 0) {
            Elems.write(dst, di, bits, fill);
        } else {
            Elems.copyOne(src, so + s, dst, di, bits);
        }
    }
}
