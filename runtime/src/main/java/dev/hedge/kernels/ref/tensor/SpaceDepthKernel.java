package dev.hedge.kernels.ref.tensor;

import dev.hedge.ir.Node;
import dev.hedge.kernels.Kernel;
import dev.hedge.kernels.PrepareContext;
import dev.hedge.kernels.RunContext;
import dev.hedge.ops.Op;
import dev.hedge.runtime.UnsupportedModelException;
import java.util.Arrays;

/**
 * DepthToSpace (DCR and CRD) and SpaceToDepth on NCHW: each is a reshape to 6-D, a transpose and a reshape
 * back, done as one strided copy.
 */
public final class SpaceDepthKernel implements Kernel {

    private final Node node;
    private StridedCopy copy;

    public SpaceDepthKernel(Node node) {
        this.node = node;
    }

    @Override
    public void prepare(PrepareContext ctx) {
        int[] in = ctx.inputShape(0);
        if (in.length != 4) {
            throw new IllegalArgumentException("input must be 4-D (NCHW), got " + Arrays.toString(in));
        }
        long bs = node.intAttr("blocksize");
        if (bs <= 0 || bs > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("blocksize " + bs + " must be positive");
        }
        int b = (int) bs;
        int n = in[0];
        int c = in[1];
        int h = in[2];
        int w = in[3];
        int[] view;
        int[] src;
        int[] out;
        if (node.op() == Op.DepthToSpace) {
            if (c % (b * b) != 0) {
                throw new IllegalArgumentException("channels " + c + " are not divisible by blocksize^2 = " + (b * b));
            }
            int c2 = c / (b * b);
            int hw = h * w;
            String mode = node.stringAttr("mode");
            // view [N, C/b^2, H, b, W, b]: the source strides depend on where the block indices sit in C
            if (mode.equals("DCR")) {
                src = new int[] {c * hw, hw, w, b * c2 * hw, 1, c2 * hw};
            } else if (mode.equals("CRD")) {
                src = new int[] {c * hw, b * b * hw, w, b * hw, 1, hw};
            } else {
                throw new UnsupportedModelException(node.describe() + ": mode '" + mode + "' is not DCR or CRD");
            }
            view = new int[] {n, c2, h, b, w, b};
            out = new int[] {n, c2, h * b, w * b};
        } else {
            if (h % b != 0 || w % b != 0) {
                throw new IllegalArgumentException("spatial size " + h + "x" + w + " is not divisible by blocksize " + b);
            }
            int hb = h / b;
            int wb = w / b;
            // view [N, b, b, C, H/b, W/b] over the input [N, C, H/b, b, W/b, b]
            view = new int[] {n, b, b, c, hb, wb};
            src = new int[] {c * h * w, w, 1, h * w, b * w, b};
            out = new int[] {n, c * b * b, hb, wb};
        }
        copy = new StridedCopy(view, src, 0, StridedCopy.strides(view), 0, ctx.inputType(0).bits());
        ctx.setOutput(0, ctx.inputType(0), out);
        Prep.passQuant(ctx, 0, 0, null);
    }

    @Override
    public void run(RunContext ctx) {
        copy.run(ctx.input(0).data(), ctx.output(0).data());
    }
}
