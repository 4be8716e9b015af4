package dev.hedge.kernels.ref.quant;

import dev.hedge.ir.Node;
import dev.hedge.kernels.Kernel;
import dev.hedge.kernels.PrepareContext;
import dev.hedge.kernels.RunContext;
import dev.hedge.kernels.util.Shapes;
import dev.hedge.runtime.DType;
import java.nio.ByteBuffer;
import java.util.Arrays;

/**
 * QLinearGlobalAveragePool (NCHW, any number of spatial axes, kept with size 1): per (N, C) plane the integer
 * sum of {@code x - x_zero_point}, divided and requantized as {@link QFixed} defines.
 */
public final class QLinearGlobalPoolKernel implements Kernel {

    private final Node node;
    private QFixed.Average p;
    private boolean unsigned;
    private int planes;
    private int planeSize;

    public QLinearGlobalPoolKernel(Node node) {
        this.node = node;
    }

    @Override
    public void prepare(PrepareContext ctx) {
        int[] xs = ctx.inputShape(0);
        if (xs.length < 3) {
            throw new IllegalArgumentException("input shape " + Arrays.toString(xs)
                    + " needs rank >= 3 (N, C, spatial...)");
        }
        planes = Math.multiplyExact(xs[0], xs[1]);
        planeSize = Shapes.product(xs, 2, xs.length);
        if (planeSize == 0 && planes > 0) {
            throw new IllegalArgumentException("the average of an empty plane is undefined (input "
                    + Arrays.toString(xs) + ")");
        }
        p = QFixed.average(ctx, node, planeSize, planeSize);
        unsigned = p.type() == DType.UINT8;
        int[] out = xs.clone();
        Arrays.fill(out, 2, out.length, 1);
        ctx.setOutput(0, p.type(), out);
    }

    @Override
    public void run(RunContext ctx) {
        ByteBuffer x = ctx.input(0).data();
        ByteBuffer y = ctx.output(0).data();
        QFixed.Average q = p;
        int zx = q.zx();
        for (int pl = 0, i = 0; pl < planes; pl++) {
            long sum = 0;
            for (int e = 0; e < planeSize; e++, i++) {
                sum += QTypes.get8(x, i, unsigned) - zx;
            }
            y.put(pl, (byte) q.apply(sum, planeSize));
        }
    }
}
