package dev.hedge.kernels.ref.rnn;

import dev.hedge.ir.Node;
import dev.hedge.runtime.Tensor;

/**
 * ONNX GRU (gate order z, r, h). With {@code linear_before_reset} the reset gate multiplies
 * (H·Rhᵀ + Rbh); otherwise it multiplies H before the recurrent product.
 */
public final class GruKernel extends RecurrentKernel {

    private final boolean linearBeforeReset;

    public GruKernel(Node node) {
        super(node, 3, Activation.SIGMOID, Activation.TANH);
        this.linearBeforeReset = node.intAttr("linear_before_reset") != 0;
    }

    @Override
    int extraSize() {
        return hidden;
    }

    /** Input bias: Wb + Rb for z and r; for h, Wbh alone when Rbh goes inside the reset product. */
    @Override
    void packBiasAndExtra(Tensor b, Tensor p, int d, float[] dst, int off) {
        int h = hidden;
        int gh = 3 * h;
        int wb = d * 2 * gh;
        int rb = wb + gh;
        for (int i = 0; i < gh; i++) {
            boolean hGate = i >= 2 * h;
            dst[off + i] = bias(b, wb + i) + (hGate && linearBeforeReset ? 0f : bias(b, rb + i));
        }
        for (int i = 0; i < h; i++) {
            dst[off + gh + i] = linearBeforeReset ? bias(b, rb + 2 * h + i) : 0f;
        }
    }

    @Override
    void step(float[] w, int wOff, float[] ws, int[] lens, int s, int d) {
        int h = hidden;
        int gh = 3 * h;
        int rOff = recurrentOffset(wOff);
        Activation f = acts[d * 2];
        Activation g = acts[d * 2 + 1];
        gemm(batch, 2 * h, h, ws, hOff, h, w, rOff, gh, ws, gOff, gh);
        for (int b = 0; b < batch; b++) {
            if (s < lens[b]) {
                int gz = gOff + b * gh;
                f.apply(ws, gz, 2 * h, clip);
            }
        }
        if (linearBeforeReset) {
            int rbh = extraOffset(wOff);
            for (int b = 0; b < batch; b++) {
                System.arraycopy(w, rbh, ws, tOff + b * h, h);
            }
            gemm(batch, h, h, ws, hOff, h, w, rOff + 2 * h, gh, ws, tOff, h);
            for (int b = 0; b < batch; b++) {
                if (s < lens[b]) {
                    int gr = gOff + b * gh + h;
                    int t = tOff + b * h;
                    for (int j = 0; j < h; j++) {
                        ws[gr + h + j] += ws[gr + j] * ws[t + j];
                    }
                }
            }
        } else {
            for (int b = 0; b < batch; b++) {
                int gr = gOff + b * gh + h;
                int t = tOff + b * h;
                int hb = hOff + b * h;
                for (int j = 0; j < h; j++) {
                    ws[t + j] = ws[gr + j] * ws[hb + j];
                }
            }
            gemm(batch, h, h, ws, tOff, h, w, rOff + 2 * h, gh, ws, gOff + 2 * h, gh);
        }
        for (int b = 0; b < batch; b++) {
            if (s >= lens[b]) {
                continue;
            }
            int gz = gOff + b * gh;
            int gn = gz + 2 * h;
            g.apply(ws, gn, h, clip);
            int hb = hOff + b * h;
            for (int j = 0; j < h; j++) {
                float z = ws[gz + j];
                ws[hb + j] = (1f - z) * ws[gn + j] + z * ws[hb + j];
            }
        }
    }
}
