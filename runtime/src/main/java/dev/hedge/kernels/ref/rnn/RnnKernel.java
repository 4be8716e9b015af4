package dev.hedge.kernels.ref.rnn;

import dev.hedge.ir.Node;
import dev.hedge.runtime.Tensor;

/** ONNX RNN: H = f(X·Wᵀ + H·Rᵀ + Wb + Rb). */
public final class RnnKernel extends RecurrentKernel {

    public RnnKernel(Node node) {
        super(node, 1, Activation.TANH);
    }

    @Override
    int extraSize() {
        return 0;
    }

    @Override
    void packBiasAndExtra(Tensor b, Tensor p, int d, float[] dst, int off) {
        int h = hidden;
        for (int i = 0; i < h; i++) {
            dst[off + i] = bias(b, d * 2 * h + i) + bias(b, d * 2 * h + h + i);
        }
    }

    @Override
    void step(float[] w, int wOff, float[] ws, int[] lens, int s, int d) {
        int h = hidden;
        recurrentProduct(w, wOff, ws, d);
        Activation f = acts[d];
        for (int b = 0; b < batch; b++) {
            if (s < lens[b]) {
                int g = gOff + b * h;
                f.apply(ws, g, h, clip);
                System.arraycopy(ws, g, ws, hOff + b * h, h);
            }
        }
    }
}
