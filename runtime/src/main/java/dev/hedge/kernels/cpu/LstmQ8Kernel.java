package dev.hedge.kernels.cpu;

import dev.hedge.ir.Node;
import dev.hedge.kernels.Kernel;
import dev.hedge.kernels.PrepareContext;
import dev.hedge.kernels.PrepareContext.ValueType;
import dev.hedge.kernels.RunContext;
import dev.hedge.runtime.DType;
import dev.hedge.runtime.QuantParams;
import dev.hedge.runtime.Tensor;
import dev.hedge.runtime.UnsupportedModelException;
import java.nio.ByteBuffer;
import java.util.List;

/**
 * ONNX LSTM whose W and R are int8 weight-only constants (a DequantizeLinear of int8 with one scale per gate row,
 * zero points 0: the converter's {@code int8-weight} LSTM), on AVX-512 ({@code hk_lstm.h}). The kernel reads the
 * int8 weights as stored (the planner binds them, see {@link dev.hedge.kernels.Offer#readsEncoded}), transposed
 * at prepare to [K][4 hidden]; activations and state stay float32. A step at batch 1 is a pass over the weights,
 * a quarter of the float bytes here.
 *
 * <p>Covers layout 0, any direction, the default activations (Sigmoid, Tanh, Tanh), no clip, no peepholes, no
 * {@code input_forget}, no sequence_lens, hidden size a multiple of 16; other LSTMs stay on the reference
 * backend. Results are float: they match the reference within rounding (the sums run in another order, and
 * exp is a polynomial), not bit for bit.
 */
final class LstmQ8Kernel implements Kernel {

    private final Node node;
    private final int isa;
    private int dirs;
    private boolean reverse;
    private int seq;
    private int batch;
    private int in;
    private int hidden;
    /** Per direction: int8 Wᵀ [in][4H], Rᵀ [hidden][4H], float bias (W + R parts) [4H]. */
    private ByteBuffer[] wt;
    private ByteBuffer[] rt;
    private ByteBuffer[] bias;
    /** W and R scales per gate row [4H] (DequantizeLinear's axis 1: shared by the directions). */
    private ByteBuffer ws;
    private ByteBuffer rs;

    LstmQ8Kernel(Node node, int isa) {
        this.node = node;
        this.isa = isa;
    }

    /** Null when this kernel runs the node (constants as stored), else why not. */
    static String declines(Node node, List<ValueType> inputs, List<Tensor> constants, int isa) {
        if (isa != Native.ISA_AVX512) {
            return "needs AVX-512";
        }
        if (node.hasAttr("clip") || node.intAttr("input_forget") != 0 || node.intAttr("layout") != 0
                || node.hasAttr("activation_alpha") || node.hasAttr("activation_beta")) {
            return "clip, input_forget, layout 1 or activation parameters";
        }
        if (node.hasAttr("activations")) {
            List<String> acts = node.stringsAttr("activations");
            for (int i = 0; i < acts.size(); i++) {
                if (!acts.get(i).equalsIgnoreCase(i % 3 == 0 ? "Sigmoid" : "Tanh")) {
                    return "activations other than Sigmoid, Tanh, Tanh";
                }
            }
        }
        if (node.hasInput(4) || node.hasInput(7)) {
            return "sequence_lens or peepholes";
        }
        ValueType x = inputs.get(0);
        if (x == null || x.dtype() != DType.FLOAT32 || x.shape() == null || x.shape().length != 3) {
            return "X is not a FLOAT32 tensor of known rank-3 shape";
        }
        for (int i = 1; i <= 2; i++) {
            Tensor w = i < constants.size() ? constants.get(i) : null;
            QuantParams q = w == null ? null : w.quant();
            if (w == null || w.dtype() != DType.INT8 || q == null || w.rank() != 3 || q.blockSize() != 0
                    || !(q.isPerTensor() || q.axis() == 1)) {
                return (i == 1 ? "W" : "R") + " is not an int8 constant with per-row scales";
            }
            for (long z : q.zeroPoints()) {
                if (z != 0) {
                    return (i == 1 ? "W" : "R") + " has non-zero zero points";
                }
            }
        }
        int hidden = constants.get(2).dim(2);
        if (hidden % 16 != 0 || node.hasAttr("hidden_size") && node.intAttr("hidden_size") != hidden) {
            return "hidden size " + hidden + " is not a multiple of 16";
        }
        if (node.hasInput(3) && (constants.size() < 4 || constants.get(3) == null)) {
            return "B is not constant";
        }
        return null;
    }

    @Override
    public void prepare(PrepareContext ctx) {
        String dir = node.stringAttr("direction");
        dirs = dir.equals("bidirectional") ? 2 : 1;
        reverse = dir.equals("reverse");
        if (!dir.equals("forward") && !dir.equals("reverse") && dirs != 2) {
            throw new IllegalArgumentException("direction '" + dir + "' is not forward, reverse or bidirectional");
        }
        int[] xs = ctx.inputShape(0);
        seq = xs[0];
        batch = xs[1];
        in = xs[2];
        Tensor w = ctx.requireValue(1);
        Tensor r = ctx.requireValue(2);
        if (w.dtype() != DType.INT8 || r.dtype() != DType.INT8 || w.quant() == null || r.quant() == null) {
            throw new UnsupportedModelException(node.describe() + ": W and R must be int8 weight-only constants");
        }
        hidden = r.dim(2);
        int g = 4 * hidden;
        expect(w, "W", dirs, g, in);
        expect(r, "R", dirs, g, hidden);
        Tensor b = ctx.hasInput(3) ? ctx.requireValue(3) : null;
        if (b != null) {
            expect(b, "B", dirs, 2 * g);
        }
        int[] state = {dirs, batch, hidden};
        for (int i = 5; i <= 6; i++) {
            if (ctx.hasInput(i) && (ctx.inputType(i) != DType.FLOAT32
                    || !java.util.Arrays.equals(ctx.inputShape(i), state))) {
                throw new IllegalArgumentException((i == 5 ? "initial_h" : "initial_c") + " must be FLOAT32 "
                        + java.util.Arrays.toString(state));
            }
        }
        wt = new ByteBuffer[dirs];
        rt = new ByteBuffer[dirs];
        bias = new ByteBuffer[dirs];
        ws = rowScales(w.quant(), g);
        rs = rowScales(r.quant(), g);
        for (int d = 0; d < dirs; d++) {
            wt[d] = transposed(w, d, in, g);
            rt[d] = transposed(r, d, hidden, g);
            bias[d] = Native.allocate(4L * g);
            for (int j = 0; j < g; j++) {
                bias[d].putFloat(4 * j, b == null ? 0f : floatAt(b, d * 2 * g + j) + floatAt(b, d * 2 * g + g + j));
            }
        }
        ctx.reportPackedBytes((long) dirs * ((long) (in + hidden) * g + 4L * g) + 8L * g);
        if (ctx.hasOutput(0)) {
            ctx.setOutput(0, DType.FLOAT32, new int[] {seq, dirs, batch, hidden});
        }
        for (int i = 1; i <= 2; i++) {
            if (ctx.hasOutput(i)) {
                ctx.setOutput(i, DType.FLOAT32, state.clone());
            }
        }
        // per direction h and c, then the gates
        ctx.requestScratch(8L * dirs * batch * hidden + 16L * hidden);
    }

    private static void expect(Tensor t, String what, int... shape) {
        if (!java.util.Arrays.equals(t.shape(), shape)) {
            throw new IllegalArgumentException(what + " must have shape " + java.util.Arrays.toString(shape) + ", got "
                    + java.util.Arrays.toString(t.shape()));
        }
    }

    /** A bias element, dequantized when the constant came as int8 with its scales. */
    private static float floatAt(Tensor t, int i) {
        QuantParams q = t.quant();
        if (t.dtype() == DType.FLOAT32 || q == null) {
            return t.getFloat(i);
        }
        int k = q.isPerTensor() ? 0 : (int) ((i / stride(t, q.axis())) % t.dim(q.axis()));
        return q.scale(k) * (t.getLong(i) - q.zeroPoint(k));
    }

    private static long stride(Tensor t, int axis) {
        long s = 1;
        for (int a = axis + 1; a < t.rank(); a++) {
            s *= t.dim(a);
        }
        return s;
    }

    /** Direction d of [dirs][g][k] int8 as [k][g]. */
    private static ByteBuffer transposed(Tensor t, int d, int k, int g) {
        ByteBuffer src = t.data();
        ByteBuffer dst = Native.allocate((long) k * g);
        int base = d * g * k;
        for (int row = 0; row < g; row++) {
            for (int col = 0; col < k; col++) {
                dst.put(col * g + row, src.get(base + row * k + col));
            }
        }
        return dst;
    }

    private static ByteBuffer rowScales(QuantParams q, int g) {
        ByteBuffer s = Native.allocate(4L * g);
        for (int j = 0; j < g; j++) {
            s.putFloat(4 * j, q.isPerTensor() ? q.scale() : q.scale(j));
        }
        return s;
    }

    @Override
    public void run(RunContext ctx) {
        ByteBuffer scratch = ctx.scratch();
        long stateBytes = 4L * batch * hidden;
        ByteBuffer x = Staging.direct(ctx.input(0), 0);
        Tensor y = ctx.output(0);
        for (int d = 0; d < dirs; d++) {
            long hOff = 2 * d * stateBytes;
            long cOff = hOff + stateBytes;
            initial(node.hasInput(5) ? ctx.input(5) : null, d, scratch, hOff, stateBytes);
            initial(node.hasInput(6) ? ctx.input(6) : null, d, scratch, cOff, stateBytes);
            Native.lstmQ8(isa, x, 0, seq, batch, in, hidden, wt[d], ws, rt[d], rs, bias[d], scratch, hOff,
                    scratch, cOff, y == null ? null : y.data(), 4L * d * batch * hidden, (long) dirs * batch * hidden,
                    reverse || d == 1, scratch, 2L * dirs * stateBytes);
            for (int i = 1; i <= 2; i++) {
                Tensor out = ctx.output(i);
                if (out != null) {
                    ByteBuffer o = out.data();
                    long from = i == 1 ? hOff : cOff;
                    for (long k = 0; k < stateBytes; k += 4) {
                        o.putFloat((int) (d * stateBytes + k), scratch.getFloat((int) (from + k)));
                    }
                }
            }
        }
    }

    /** Direction d's initial state (t, or zeros when absent) into scratch. */
    private static void initial(Tensor t, int d, ByteBuffer scratch, long off, long bytes) {
        for (long k = 0; k < bytes; k += 4) {
            scratch.putFloat((int) (off + k), t == null ? 0f : t.data().getFloat((int) (d * bytes + k)));
        }
    }
}
