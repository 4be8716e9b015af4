package dev.hedge.kernels.ref.rnn;

import dev.hedge.ir.Node;
import dev.hedge.kernels.Kernel;
import dev.hedge.kernels.PrepareContext;
import dev.hedge.kernels.RunContext;
import dev.hedge.kernels.ref.linalg.Sgemm;
import dev.hedge.kernels.util.ScratchArrays;
import dev.hedge.kernels.util.Shapes;
import dev.hedge.runtime.DType;
import dev.hedge.runtime.Tensor;
import dev.hedge.runtime.UnsupportedModelException;
import java.nio.FloatBuffer;
import java.util.Arrays;
import java.util.List;

/**
 * What LSTM, GRU and RNN share (ONNX semantics): attribute and shape checks, weight packing, the input
 * projection X·Wᵀ for all time steps at once, directions, layouts, sequence lengths and the outputs. A
 * subclass supplies one recurrence step for the whole batch.
 *
 * <p>Inputs: X, W, R, B, sequence_lens, initial_h, (LSTM: initial_c, P). Outputs: Y, Y_h, (LSTM: Y_c).
 *
 * <p>Weights are packed per direction as one block of {@link #dirStride} floats: Wᵀ [input, G·hidden],
 * Rᵀ [hidden, G·hidden], the bias added to the input projection [G·hidden], then {@link #extraSize} floats
 * of op-specific data (LSTM peepholes, GRU recurrent bias of the hidden gate). When W, R, B and P are
 * constants they are packed once at prepare time, otherwise into scratch on every run.
 *
 * <p>Computation is in float32 (FLOAT16 tensors are widened on read and rounded on write). Scratch lives
 * in {@link ScratchArrays}: slot 0 the input (floats) and sequence lengths (ints), slot 1 the input
 * projection, slot 2 the state and gates, slot 3 weights packed at run time.
 */
abstract class RecurrentKernel implements Kernel {

    protected final Node node;
    /** Gates per direction: LSTM 4, GRU 3, RNN 1. */
    protected final int gates;
    private final int actsPerDir;
    private final Activation[] defaultActs;

    protected int numDir;
    private boolean reverse;
    protected int hidden;
    private int inputSize;
    private int seqLen;
    protected int batch;
    private int layout;
    private DType dtype;
    /** Activations, {@code actsPerDir} per direction. */
    protected Activation[] acts;
    protected float clip = Float.POSITIVE_INFINITY;
    /** Weights packed at prepare time, or null when they are packed per run. */
    private float[] packed;
    /**
     * Per direction, Wᵀ and Rᵀ of {@link #packed} as constant right-hand sides for {@link Sgemm} (null where
     * packing does not pay): a product with a plain array packs its right-hand side on every call, which for
     * one sequence step of batch 1 is most of the step.
     */
    private Sgemm.PackedB[] inputB;
    private Sgemm.PackedB[] recurrentB;
    protected int dirStride;

    // offsets of the per-step work area (slot 2)
    protected int hOff;
    protected int cOff;
    protected int gOff;
    protected int tOff;
    private int workSize;

    RecurrentKernel(Node node, int gates, Activation... defaultActs) {
        this.node = node;
        this.gates = gates;
        this.actsPerDir = defaultActs.length;
        this.defaultActs = defaultActs;
    }

    /** Floats of op-specific packed data per direction after the bias. */
    abstract int extraSize();

    /**
     * Fills the bias added to the input projection ({@code gates·hidden} floats at {@code off}) and the extra
     * data, for direction {@code d}. {@code b} and {@code p} may be null (absent inputs).
     */
    abstract void packBiasAndExtra(Tensor b, Tensor p, int d, float[] dst, int off);

    /**
     * One time step for the whole batch. On entry {@code ws[gOff + b·G·H ...]} holds the input projection plus
     * bias of each active row and the state holds the previous step; on exit the state of active rows
     * ({@code lens[b] > s}) is updated and inactive rows are untouched.
     */
    abstract void step(float[] w, int wOff, float[] ws, int[] lens, int s, int d);

    /** Offset of Rᵀ in the packed weights of the direction starting at {@code wOff}. */
    final int recurrentOffset(int wOff) {
        return wOff + inputSize * gates * hidden;
    }

    /** Offset of the op-specific data in the packed weights of the direction starting at {@code wOff}. */
    final int extraOffset(int wOff) {
        return wOff + (inputSize + hidden + 1) * gates * hidden;
    }

    /** Index of the optional peephole input, or -1. */
    int peepholeInput() {
        return -1;
    }

    /** Whether this op has a cell state (LSTM). */
    boolean hasCell() {
        return false;
    }

    @Override
    public void prepare(PrepareContext ctx) {
        dtype = ctx.inputType(0);
        if (dtype != DType.FLOAT32 && dtype != DType.FLOAT16) {
            throw new UnsupportedModelException(node.describe() + ": " + dtype + " is not supported (FLOAT32 and"
                    + " FLOAT16 are)");
        }
        String dir = node.stringAttr("direction");
        switch (dir) {
            case "forward": numDir = 1; reverse = false; break;
            case "reverse": numDir = 1; reverse = true; break;
            case "bidirectional": numDir = 2; reverse = false; break;
            default:
                throw new IllegalArgumentException("direction '" + dir + "' is not forward, reverse or bidirectional");
        }
        layout = (int) node.intAttr("layout");
        if (layout != 0 && layout != 1) {
            throw new IllegalArgumentException("layout " + layout + " is not 0 or 1");
        }
        if (node.hasAttr("clip")) {
            clip = node.floatAttr("clip");
            if (!(clip > 0)) {
                throw new IllegalArgumentException("clip " + clip + " must be positive");
            }
        }
        resolveActivations();

        int[] xs = ctx.inputShape(0);
        if (xs.length != 3) {
            throw new IllegalArgumentException("X must have rank 3, got " + Shapes.str(xs));
        }
        seqLen = layout == 0 ? xs[0] : xs[1];
        batch = layout == 0 ? xs[1] : xs[0];
        inputSize = xs[2];
        int[] rs = ctx.inputShape(2);
        if (rs.length != 3) {
            throw new IllegalArgumentException("R must have rank 3, got " + Shapes.str(rs));
        }
        hidden = node.hasAttr("hidden_size") ? Math.toIntExact(node.intAttr("hidden_size")) : rs[2];
        if (hidden <= 0) {
            throw new IllegalArgumentException("hidden_size " + hidden + " must be positive");
        }
        int gh = gates * hidden;
        expectShape(ctx, 1, "W", dtype, numDir, gh, inputSize);
        expectShape(ctx, 2, "R", dtype, numDir, gh, hidden);
        if (ctx.hasInput(3)) {
            expectShape(ctx, 3, "B", dtype, numDir, 2 * gh);
        }
        if (ctx.hasInput(4)) {
            DType lt = ctx.inputType(4);
            if (lt != DType.INT32 && lt != DType.INT64) {
                throw new IllegalArgumentException("sequence_lens must be INT32, got " + lt);
            }
            expectShape(ctx, 4, "sequence_lens", lt, batch);
        }
        int[] stateShape = layout == 0 ? new int[] {numDir, batch, hidden} : new int[] {batch, numDir, hidden};
        if (ctx.hasInput(5)) {
            expectShape(ctx, 5, "initial_h", dtype, stateShape);
        }
        if (hasCell() && ctx.hasInput(6)) {
            expectShape(ctx, 6, "initial_c", dtype, stateShape);
        }
        int pIn = peepholeInput();
        if (pIn >= 0 && ctx.hasInput(pIn)) {
            expectShape(ctx, pIn, "P", dtype, numDir, 3 * hidden);
        }

        dirStride = Math.addExact(Math.addExact(Math.multiplyExact(inputSize, gh), Math.multiplyExact(hidden, gh)),
                gh + extraSize());
        if ((long) seqLen * batch * Math.max(gh, inputSize) > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("X " + Shapes.str(xs) + " with hidden_size " + hidden + " is too large");
        }
        int bh = batch * hidden;
        hOff = 0;
        cOff = bh;
        gOff = 2 * bh;
        tOff = gOff + batch * gh;
        workSize = tOff + bh;

        boolean constant = ctx.isConstant(1) && ctx.isConstant(2) && (!ctx.hasInput(3) || ctx.isConstant(3))
                && (pIn < 0 || !ctx.hasInput(pIn) || ctx.isConstant(pIn));
        packed = null;
        if (constant) {
            float[] w = new float[Math.multiplyExact(numDir, dirStride)];
            pack(ctx.inputValue(1), ctx.inputValue(2), ctx.hasInput(3) ? ctx.inputValue(3) : null,
                    pIn >= 0 && ctx.hasInput(pIn) ? ctx.inputValue(pIn) : null, w);
            packed = w;
            inputB = new Sgemm.PackedB[numDir];
            recurrentB = new Sgemm.PackedB[numDir];
            for (int d = 0; d < numDir; d++) {
                if (Sgemm.packingPays(seqLen * batch, gh)) {
                    inputB[d] = Sgemm.pack(false, inputSize, gh, w, null, d * dirStride, gh);
                }
                if (Sgemm.packingPays(batch, gh)) {
                    recurrentB[d] = Sgemm.pack(false, hidden, gh, w, null, recurrentOffset(d * dirStride), gh);
                }
            }
        } else {
            inputB = null;
            recurrentB = null;
        }

        int[] yShape = layout == 0 ? new int[] {seqLen, numDir, batch, hidden}
                : new int[] {batch, seqLen, numDir, hidden};
        ctx.setOutput(0, dtype, yShape);
        ctx.setOutput(1, dtype, stateShape);
        if (hasCell()) {
            ctx.setOutput(2, dtype, stateShape);
        }
    }

    private void resolveActivations() {
        List<String> names = node.stringsAttr("activations");
        if (names == null) {
            if (node.floatsAttr("activation_alpha") != null || node.floatsAttr("activation_beta") != null) {
                // alpha/beta only parameterise listed activations; the defaults take none
                throw new IllegalArgumentException("activation_alpha/activation_beta given without activations");
            }
            acts = new Activation[actsPerDir * numDir];
            for (int d = 0; d < numDir; d++) {
                System.arraycopy(defaultActs, 0, acts, d * actsPerDir, actsPerDir);
            }
            return;
        }
        Activation[] parsed = Activation.parse(names, node.floatsAttr("activation_alpha"),
                node.floatsAttr("activation_beta"));
        if (parsed.length != actsPerDir * numDir) {
            throw new IllegalArgumentException("activations lists " + parsed.length + " functions, expected "
                    + actsPerDir * numDir + " (" + actsPerDir + " per direction)");
        }
        acts = parsed;
    }

    private static void expectShape(PrepareContext ctx, int i, String name, DType dt, int... shape) {
        DType t = ctx.inputType(i);
        if (t != dt) {
            throw new IllegalArgumentException(name + " must be " + dt + ", got " + t);
        }
        int[] s = ctx.inputShape(i);
        if (!Arrays.equals(s, shape)) {
            throw new IllegalArgumentException(name + " must have shape " + Shapes.str(shape) + ", got "
                    + Shapes.str(s));
        }
    }

    private void pack(Tensor w, Tensor r, Tensor b, Tensor p, float[] dst) {
        int gh = gates * hidden;
        for (int d = 0; d < numDir; d++) {
            int base = d * dirStride;
            transpose(w, d * gh * inputSize, gh, inputSize, dst, base);
            transpose(r, d * gh * hidden, gh, hidden, dst, base + inputSize * gh);
            packBiasAndExtra(b, p, d, dst, base + (inputSize + hidden) * gh);
        }
    }

    /** dst[off + c·rows + r] = t[from + r·cols + c]: a [rows, cols] block stored transposed. */
    private static void transpose(Tensor t, int from, int rows, int cols, float[] dst, int off) {
        for (int r = 0; r < rows; r++) {
            int src = from + r * cols;
            for (int c = 0; c < cols; c++) {
                dst[off + c * rows + r] = t.getFloat(src + c);
            }
        }
    }

    @Override
    public void run(RunContext ctx) {
        int gh = gates * hidden;
        int rows = seqLen * batch;
        float[] w = packed;
        if (w == null) {
            w = ScratchArrays.floats(3, numDir * dirStride);
            int pIn = peepholeInput();
            pack(ctx.input(1), ctx.input(2), ctx.input(3), pIn >= 0 ? ctx.input(pIn) : null, w);
        }
        float[] x = ScratchArrays.floats(0, rows * inputSize);
        read(ctx.input(0), 0, x, 0, rows * inputSize);
        int[] lens = ScratchArrays.ints(0, batch);
        int maxLen = sequenceLengths(ctx.input(4), lens);
        float[] xw = ScratchArrays.floats(1, rows * gh);
        float[] ws = ScratchArrays.floats(2, workSize);
        Tensor y = ctx.output(0);
        Tensor yh = ctx.output(1);
        Tensor yc = hasCell() ? ctx.output(2) : null;
        Tensor h0 = ctx.input(5);
        Tensor c0 = hasCell() ? ctx.input(6) : null;

        for (int d = 0; d < numDir; d++) {
            boolean forward = !reverse && d == 0;
            int wOff = d * dirStride;
            int biasOff = wOff + (inputSize + hidden) * gh;
            for (int r = 0; r < rows; r++) {
                System.arraycopy(w, biasOff, xw, r * gh, gh);
            }
            if (inputB != null && inputB[d] != null) {
                Sgemm.sgemm(false, rows, 1f, x, null, 0, inputSize, inputB[d], 1f, xw, null, 0, gh, null, 0, null);
            } else {
                gemm(rows, gh, inputSize, x, 0, inputSize, w, wOff, gh, xw, 0, gh);
            }
            for (int b = 0; b < batch; b++) {
                int st = stateIndex(d, b);
                if (h0 != null) {
                    read(h0, st, ws, hOff + b * hidden, hidden);
                } else {
                    Arrays.fill(ws, hOff + b * hidden, hOff + (b + 1) * hidden, 0f);
                }
                if (c0 != null) {
                    read(c0, st, ws, cOff + b * hidden, hidden);
                } else {
                    Arrays.fill(ws, cOff + b * hidden, cOff + (b + 1) * hidden, 0f);
                }
            }
            for (int s = 0; s < maxLen; s++) {
                for (int b = 0; b < batch; b++) {
                    if (s < lens[b]) {
                        int t = forward ? s : lens[b] - 1 - s;
                        System.arraycopy(xw, xRow(t, b) * gh, ws, gOff + b * gh, gh);
                    } else {
                        Arrays.fill(ws, gOff + b * gh, gOff + (b + 1) * gh, 0f);
                    }
                }
                step(w, wOff, ws, lens, s, d);
                if (y != null) {
                    for (int b = 0; b < batch; b++) {
                        if (s < lens[b]) {
                            int t = forward ? s : lens[b] - 1 - s;
                            write(y, yIndex(t, d, b), ws, hOff + b * hidden, hidden);
                        }
                    }
                }
            }
            for (int b = 0; b < batch; b++) {
                if (y != null) {
                    for (int t = lens[b]; t < seqLen; t++) {
                        zero(y, yIndex(t, d, b), hidden);
                    }
                }
                int st = stateIndex(d, b);
                // a sequence of length 0 has no last step: its final state is zero, as in ONNX Runtime
                if (yh != null) {
                    if (lens[b] == 0) {
                        zero(yh, st, hidden);
                    } else {
                        write(yh, st, ws, hOff + b * hidden, hidden);
                    }
                }
                if (yc != null) {
                    if (lens[b] == 0) {
                        zero(yc, st, hidden);
                    } else {
                        write(yc, st, ws, cOff + b * hidden, hidden);
                    }
                }
            }
        }
    }

    /** Fills {@code lens} (all seqLen when absent), checks the range and returns the longest. */
    private int sequenceLengths(Tensor t, int[] lens) {
        if (t == null) {
            Arrays.fill(lens, 0, batch, seqLen);
            return seqLen;
        }
        int max = 0;
        for (int b = 0; b < batch; b++) {
            long v = t.getLong(b);
            if (v < 0 || v > seqLen) {
                throw new IllegalArgumentException(node.describe() + ": sequence_lens[" + b + "] = " + v
                        + " is outside [0, " + seqLen + "]");
            }
            lens[b] = (int) v;
            max = Math.max(max, lens[b]);
        }
        return max;
    }

    /** Row of X (and of the input projection) holding time {@code t} of batch entry {@code b}. */
    private int xRow(int t, int b) {
        return layout == 0 ? t * batch + b : b * seqLen + t;
    }

    private int yIndex(int t, int d, int b) {
        return layout == 0 ? ((t * numDir + d) * batch + b) * hidden : ((b * seqLen + t) * numDir + d) * hidden;
    }

    private int stateIndex(int d, int b) {
        return layout == 0 ? (d * batch + b) * hidden : (b * numDir + d) * hidden;
    }

    static void read(Tensor t, int from, float[] dst, int off, int n) {
        if (t.dtype() == DType.FLOAT32) {
            t.floats().get(from, dst, off, n);
        } else {
            for (int i = 0; i < n; i++) {
                dst[off + i] = t.getFloat(from + i);
            }
        }
    }

    private static void write(Tensor t, int at, float[] src, int off, int n) {
        if (t.dtype() == DType.FLOAT32) {
            t.floats().put(at, src, off, n);
        } else {
            for (int i = 0; i < n; i++) {
                t.setFloat(at + i, src[off + i]);
            }
        }
    }

    private static void zero(Tensor t, int at, int n) {
        if (t.dtype() == DType.FLOAT32) {
            FloatBuffer f = t.floats();
            for (int i = 0; i < n; i++) {
                f.put(at + i, 0f);
            }
        } else {
            for (int i = 0; i < n; i++) {
                t.setFloat(at + i, 0f);
            }
        }
    }

    /**
     * The gates of one step, {@code ws[gOff..] += h · Rᵀ} for the whole batch (all {@code G·hidden} columns of
     * Rᵀ, as LSTM and RNN use it), with the right-hand side packed at prepare when there is one.
     */
    final void recurrentProduct(float[] w, int wOff, float[] ws, int d) {
        int gh = gates * hidden;
        Sgemm.PackedB b = recurrentB == null ? null : recurrentB[d];
        if (b != null) {
            Sgemm.sgemm(false, batch, 1f, ws, null, hOff, hidden, b, 1f, ws, null, gOff, gh, null, 0, null);
        } else {
            gemm(batch, gh, hidden, ws, hOff, hidden, w, recurrentOffset(wOff), gh, ws, gOff, gh);
        }
    }

    /** C[m×n] += A[m×k] · B[k×n], row-major with leading dimensions: the one matrix multiply of these kernels. */
    static void gemm(int m, int n, int k, float[] a, int aOff, int lda, float[] b, int bOff, int ldb, float[] c,
            int cOff, int ldc) {
        Sgemm.sgemm(false, false, m, n, k, 1f, a, aOff, lda, b, bOff, ldb, 1f, c, cOff, ldc);
    }

    /** Element {@code i} of input bias {@code b} (W part then R part), or 0 when absent. */
    static float bias(Tensor b, int i) {
        return b == null ? 0f : b.getFloat(i);
    }
}
