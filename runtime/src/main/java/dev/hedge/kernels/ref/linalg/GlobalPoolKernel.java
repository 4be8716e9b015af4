package dev.hedge.kernels.ref.linalg;

import dev.hedge.ir.Node;
import dev.hedge.kernels.Kernel;
import dev.hedge.kernels.PrepareContext;
import dev.hedge.kernels.RunContext;
import dev.hedge.kernels.util.ScratchArrays;
import dev.hedge.kernels.util.Shapes;
import dev.hedge.ops.Op;
import dev.hedge.runtime.DType;
import dev.hedge.runtime.Tensor;
import java.nio.ByteBuffer;
import java.util.Arrays;

/**
 * GlobalAveragePool and GlobalMaxPool: one value per (N, C) plane over all spatial dimensions, which are
 * kept with size 1. Averages accumulate in double. A NaN anywhere in a plane gives NaN for both ops.
 * GlobalMaxPool also takes UINT8 / INT8 (the max commutes with dequantization, so quantization passes through).
 *
 * <p>Scratch (per thread): slot 0 one input plane, slot 1 the output values.
 */
final class GlobalPoolKernel implements Kernel {

    private final Node node;
    private final boolean max;
    private DType bytes;
    private int planes;
    private int planeSize;

    GlobalPoolKernel(Node node) {
        this.node = node;
        this.max = node.op() == Op.GlobalMaxPool;
    }

    @Override
    public void prepare(PrepareContext ctx) {
        DType t = ctx.inputType(0);
        bytes = max && (t == DType.INT8 || t == DType.UINT8) ? t : null;
        if (bytes == null) {
            FloatData.require(node, "input X", t);
        } else if (ctx.inputQuant(0) != null) {
            ctx.setOutputQuant(0, ctx.inputQuant(0));
        }
        int[] xs = ctx.inputShape(0);
        if (xs.length < 2) {
            throw new IllegalArgumentException("input shape " + Arrays.toString(xs)
                    + " needs rank >= 2 (N, C, spatial...)");
        }
        planes = Math.multiplyExact(xs[0], xs[1]);
        planeSize = Shapes.product(xs, 2, xs.length);
        if (max && planeSize == 0 && planes > 0) {
            throw new IllegalArgumentException("the max of an empty plane is undefined (input "
                    + Arrays.toString(xs) + ")");
        }
        int[] out = xs.clone();
        Arrays.fill(out, 2, out.length, 1);
        ctx.setOutput(0, t, out);
    }

    @Override
    public void run(RunContext ctx) {
        Tensor x = ctx.input(0);
        if (bytes != null) {
            maxBytes(x.data(), ctx.output(0).data());
            return;
        }
        float[] plane = ScratchArrays.floats(0, planeSize);
        float[] res = ScratchArrays.floats(1, planes);
        for (int p = 0; p < planes; p++) {
            FloatData.read(x, p * planeSize, plane, 0, planeSize);
            if (max) {
                float m = plane[0];
                for (int i = 1; i < planeSize && m == m; i++) {
                    if (!(plane[i] <= m)) {
                        m = plane[i];
                    }
                }
                res[p] = m;
            } else {
                double s = 0;
                for (int i = 0; i < planeSize; i++) {
                    s += plane[i];
                }
                res[p] = (float) (s / planeSize);
            }
        }
        FloatData.write(res, 0, ctx.output(0), 0, planes);
    }

    private void maxBytes(ByteBuffer x, ByteBuffer y) {
        boolean unsigned = bytes == DType.UINT8;
        for (int p = 0, i = 0; p < planes; p++) {
            int m = Integer.MIN_VALUE;
            for (int e = 0; e < planeSize; e++, i++) {
                int v = unsigned ? x.get(i) & 0xff : x.get(i);
                m = Math.max(m, v);
            }
            y.put(p, (byte) m);
        }
    }
}
