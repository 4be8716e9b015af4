package dev.hedge.kernels.ref.rnn;

import dev.hedge.ir.Node;
import dev.hedge.runtime.Tensor;

/**
 * ONNX LSTM (gate order i, o, f, c; peepholes P in order i, o, f). {@code input_forget} couples the gates
 * as f = 1 - i. As in ONNX Runtime, {@code clip} bounds the inputs of the gate activations, not the cell
 * state fed to h.
 */
public final class LstmKernel extends RecurrentKernel {

    private static final int P_INPUT = 7;

    private final boolean inputForget;
    private final boolean peepholes;

    public LstmKernel(Node node) {
        super(node, 4, Activation.SIGMOID, Activation.TANH, Activation.TANH);
        this.inputForget = node.intAttr("input_forget") != 0;
        this.peepholes = node.hasInput(P_INPUT);
    }

    @Override
    int peepholeInput() {
        return P_INPUT;
    }

    @Override
    boolean hasCell() {
        return true;
    }

    @Override
    int extraSize() {
        return 3 * hidden;
    }

    @Override
    void packBiasAndExtra(Tensor b, Tensor p, int d, float[] dst, int off) {
        int gh = 4 * hidden;
        for (int i = 0; i < gh; i++) {
            dst[off + i] = bias(b, d * 2 * gh + i) + bias(b, d * 2 * gh + gh + i);
        }
        for (int i = 0; i < 3 * hidden; i++) {
            dst[off + gh + i] = p == null ? 0f : p.getFloat(d * 3 * hidden + i);
        }
    }

    @Override
    void step(float[] w, int wOff, float[] ws, int[] lens, int s, int d) {
        int h = hidden;
        int gh = 4 * h;
        recurrentProduct(w, wOff, ws, d);
        Activation f = acts[d * 3];
        Activation g = acts[d * 3 + 1];
        Activation hAct = acts[d * 3 + 2];
        int pOff = extraOffset(wOff);
        for (int b = 0; b < batch; b++) {
            if (s >= lens[b]) {
                continue;
            }
            int gi = gOff + b * gh;
            int go = gi + h;
            int gf = go + h;
            int gc = gf + h;
            int c = cOff + b * h;
            if (peepholes) {
                for (int j = 0; j < h; j++) {
                    ws[gi + j] += w[pOff + j] * ws[c + j];
                }
            }
            f.apply(ws, gi, h, clip);
            if (inputForget) {
                for (int j = 0; j < h; j++) {
                    ws[gf + j] = 1f - ws[gi + j];
                }
            } else {
                if (peepholes) {
                    for (int j = 0; j < h; j++) {
                        ws[gf + j] += w[pOff + 2 * h + j] * ws[c + j];
                    }
                }
                f.apply(ws, gf, h, clip);
            }
            g.apply(ws, gc, h, clip);
            for (int j = 0; j < h; j++) {
                ws[c + j] = ws[gf + j] * ws[c + j] + ws[gi + j] * ws[gc + j];
            }
            if (peepholes) {
                for (int j = 0; j < h; j++) {
                    ws[go + j] += w[pOff + h + j] * ws[c + j];
                }
            }
            f.apply(ws, go, h, clip);
            // h(C) goes through the tmp row so the vectorised activation can be used
            int t = tOff + b * h;
            System.arraycopy(ws, c, ws, t, h);
            hAct.apply(ws, t, h, Float.POSITIVE_INFINITY);
            int hb = hOff + b * h;
            for (int j = 0; j < h; j++) {
                ws[hb + j] = ws[go + j] * ws[t + j];
            }
        }
    }
}
