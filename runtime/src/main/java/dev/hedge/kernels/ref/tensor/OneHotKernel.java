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
 * OneHot: a new axis of size depth holding values[1] at each index and values[0] elsewhere. Negative
 * indices count from depth; per the ONNX spec, indices outside [-depth, depth-1] give an all-off row.
 */
public final class OneHotKernel implements Kernel {

    private final Node node;
    private int depth;
    private int outer;
    private int inner;
    private int bits;

    public OneHotKernel(Node node) {
        this.node = node;
    }

    @Override
    public void prepare(PrepareContext ctx) {
        int[] idx = ctx.inputShape(0);
        DType it = ctx.inputType(0);
        if (it == DType.BOOL || it.bits() == 4) {
            throw new UnsupportedModelException(node.describe() + ": indices of type " + it + " are not supported");
        }
        long d = Prep.scalarInt(ctx, 1, "depth");
        if (d <= 0 || d > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("depth must be positive, got " + d);
        }
        depth = (int) d;
        int[] vs = ctx.inputShape(2);
        if (Prep.product(vs, 0, vs.length) != 2) {
            throw new IllegalArgumentException("values must hold 2 elements [off, on], got shape " + Arrays.toString(vs));
        }
        int r = idx.length;
        long ax = node.intAttr("axis");
        if (ax < -(r + 1) || ax > r) {
            throw new IllegalArgumentException("axis " + ax + " is out of range [" + (-(r + 1)) + ", " + r + "]");
        }
        int axis = (int) (ax < 0 ? ax + r + 1 : ax);
        int[] out = new int[r + 1];
        System.arraycopy(idx, 0, out, 0, axis);
        out[axis] = depth;
        System.arraycopy(idx, axis, out, axis + 1, r - axis);
        Prep.product(out, 0, out.length);
        outer = Prep.product(idx, 0, axis);
        inner = Prep.product(idx, axis, r);
        DType vt = ctx.inputType(2);
        bits = vt.bits();
        ctx.setOutput(0, vt, out);
    }

    @Override
    public void run(RunContext ctx) {
        Tensor idx = ctx.input(0);
        ByteBuffer vals = ctx.input(2).data();
        long off = Elems.read(vals, 0, bits);
        long on = Elems.read(vals, 1, bits);
        Tensor out = ctx.output(0);
        ByteBuffer o = out.data();
        Elems.fill(o, 0, out.elementCount(), bits, off);
        boolean isFloat = idx.dtype().isFloat();
        for (int a = 0; a < outer; a++) {
            for (int b = 0; b < inner; b++) {
                int i = a * inner + b;
                long v = isFloat ? (long) idx.getDouble(i) : idx.getLong(i);
                if (v < 0) {
                    v += depth;
                }
                if (v >= 0 && v < depth) {
                    Elems.write(o, (a * depth + (int) v) * inner + b, bits, on);
                }
            }
        }
    }
}
