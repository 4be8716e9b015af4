package dev.hedge.kernels.ref.tensor;

import dev.hedge.ir.Node;
import dev.hedge.kernels.Kernel;
import dev.hedge.kernels.PrepareContext;
import dev.hedge.kernels.RunContext;
import dev.hedge.runtime.DType;
import dev.hedge.runtime.InvalidInputException;
import dev.hedge.runtime.Tensor;
import dev.hedge.runtime.UnsupportedModelException;
import java.nio.ByteBuffer;
import java.util.Arrays;

/**
 * CumSum along the axis given by input 1 (read while running: it does not change the shape), optionally
 * exclusive and/or reversed. Sums are accumulated in the element type, as ONNX Runtime and numpy do.
 */
public final class CumSumKernel implements Kernel {

    private final Node node;
    private boolean exclusive;
    private boolean reverse;
    private int[] shape;
    private DType dtype;

    public CumSumKernel(Node node) {
        this.node = node;
    }

    @Override
    public void prepare(PrepareContext ctx) {
        dtype = ctx.inputType(0);
        switch (dtype) {
            case FLOAT32: case FLOAT64: case FLOAT16: case BFLOAT16: case INT32: case INT64: case UINT32: case UINT64:
                break;
            default:
                throw new UnsupportedModelException(node.describe() + ": CumSum of " + dtype + " is not supported");
        }
        Prep.requireIndexType(ctx, node, 1, "axis");
        int[] as = ctx.inputShape(1);
        if (Prep.product(as, 0, as.length) != 1) {
            throw new IllegalArgumentException("axis must hold one value, got shape " + Arrays.toString(as));
        }
        shape = ctx.inputShape(0);
        if (shape.length == 0) {
            throw new IllegalArgumentException("input must have rank >= 1");
        }
        exclusive = node.intAttr("exclusive") != 0;
        reverse = node.intAttr("reverse") != 0;
        ctx.setOutput(0, dtype, shape);
    }

    @Override
    public void run(RunContext ctx) {
        Tensor x = ctx.input(0);
        Tensor out = ctx.output(0);
        long av = ctx.input(1).getLong(0);
        int r = shape.length;
        if (av < -r || av >= r) {
            throw new InvalidInputException(node.describe() + ": axis " + av + " is out of range for rank " + r);
        }
        int axis = (int) (av < 0 ? av + r : av);
        int len = shape[axis];
        int inner = Prep.product(shape, axis + 1, r);
        int outer = Prep.product(shape, 0, axis);
        ByteBuffer xb = x.data();
        ByteBuffer ob = out.data();
        int step = reverse ? -inner : inner;
        for (int o = 0; o < outer; o++) {
            int first = o * len * inner + (reverse ? (len - 1) * inner : 0);
            for (int k = 0; k < len; k++) {
                int rowStart = first + k * step;
                for (int j = 0; j < inner; j++) {
                    int i = rowStart + j;
                    if (k == 0) {
                        if (exclusive) {
                            Elems.write(ob, i, dtype.bits(), 0);
                        } else {
                            Elems.copyOne(xb, i, ob, i, dtype.bits());
                        }
                    } else {
                        int prev = i - step;
                        add(xb, exclusive ? prev : i, ob, prev, i);
                    }
                }
            }
        }
    }

    /** out[dst] = out[prev] + x[xi] in the element type. */
    private void add(ByteBuffer x, int xi, ByteBuffer out, int prev, int dst) {
        switch (dtype) {
            case FLOAT32:
                out.putFloat(dst * 4, out.getFloat(prev * 4) + x.getFloat(xi * 4));
                break;
            case FLOAT64:
                out.putDouble(dst * 8, out.getDouble(prev * 8) + x.getDouble(xi * 8));
                break;
            case INT32:
            case UINT32:
                out.putInt(dst * 4, out.getInt(prev * 4) + x.getInt(xi * 4));
                break;
            case INT64:
            case UINT64:
                out.putLong(dst * 8, out.getLong(prev * 8) + x.getLong(xi * 8));
                break;
            default:
                Arith.store(dtype, out, dst, Arith.load(dtype, out, prev) + Arith.load(dtype, x, xi));
        }
    }
}
