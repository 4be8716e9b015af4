package dev.hedge.kernels.ref.linalg;

import java.util.Arrays;

/**
 * Direct depthwise convolution (one input channel per group), built so that its inner loops are long,
 * contiguous and vectorisable.
 *
 * <p>Each input channel is first rewritten, per depth slice, as {@code strideH x strideW} zero-padded
 * <em>phase planes</em>: phase (py, px) holds input row {@code i * strideH + py - padH}, column
 * {@code j * strideW + px - padW} at (i, j), in rows of width {@code qw}. Then every kernel tap (kh, kw)
 * reads one phase plane at a constant offset for all output positions, if the output is computed on rows of
 * width {@code qw} too (the extra columns are dropped). So an output plane is a sum, over taps, of weight
 * times a contiguous slice of a phase plane: slices are copied to separate arrays (offset 0, as C2's
 * vectoriser wants) and summed {@link Sgemm#DEPTH} at a time by {@link Sgemm#rowUpdate}, one chunk of
 * {@value #CHUNK} outputs at a time so that the slices and the sums stay in L1.
 *
 * <p>Immutable (layout computed from the geometry once); working arrays are per thread and grow-only.
 */
final class Depthwise {

    /** Outputs per chunk: long enough for the vectorised loop, small enough for five arrays to fit in L1. */
    static final int CHUNK = 1024;

    private final ConvGeometry g;
    private final int qh;
    private final int qw;
    private final int phases;
    /** One phase plane: qh rows of qw, plus a row of zeros that tap slices may run into. */
    private final int planeSize;
    /** Elements of one wide output slice: out rows x qw. */
    private final int len;
    /** Per tap (kh, kw), kh-major: phase index and offset within the phase plane. */
    private final int[] tapPhase;
    private final int[] tapShift;

    private static final class Work {
        float[] q = new float[0];
        final float[] acc = new float[CHUNK];
        final float[][] t = {new float[CHUNK], new float[CHUNK], new float[CHUNK]};
        final float[] a = new float[3];
    }

    private static final ThreadLocal<Work> WORK = ThreadLocal.withInitial(Work::new);

    Depthwise(ConvGeometry g) {
        this.g = g;
        int sh = g.stride[1];
        int sw = g.stride[2];
        qh = g.out[1] + (g.kernel[1] - 1) * g.dilation[1] / sh;
        qw = g.out[2] + (g.kernel[2] - 1) * g.dilation[2] / sw;
        phases = sh * sw;
        planeSize = Math.multiplyExact(qh + 1, qw);
        len = Math.multiplyExact(g.out[1], qw);
        int taps = g.kernel[1] * g.kernel[2];
        tapPhase = new int[taps];
        tapShift = new int[taps];
        for (int kh = 0; kh < g.kernel[1]; kh++) {
            for (int kw = 0; kw < g.kernel[2]; kw++) {
                int rh = kh * g.dilation[1];
                int rw = kw * g.dilation[2];
                tapPhase[kh * g.kernel[2] + kw] = (rh % sh) * sw + rw % sw;
                tapShift[kh * g.kernel[2] + kw] = (rh / sh) * qw + rw / sw;
            }
        }
    }

    /**
     * Convolves input channel plane {@code x[xOff..]} with {@code mult} kernels ({@code w} from {@code wOff},
     * {@code g.kernelSize()} each) into {@code mult} consecutive output planes of {@code out}, adding
     * {@code bias[biasOff + j]} to plane j ({@code bias} may be null).
     */
    void run(float[] x, int xOff, float[] w, int wOff, int mult, float[] bias, int biasOff, float[] out) {
        Work wk = WORK.get();
        int[] in = g.in;
        int[] o = g.out;
        int depthSlices = in[0];
        int qSize = Math.multiplyExact(depthSlices * phases, planeSize);
        if (wk.q.length < qSize) {
            wk.q = new float[qSize];
        }
        float[] q = wk.q;
        buildPhases(x, xOff, q);
        float[] acc = wk.acc;
        float[][] t = wk.t;
        float[] a = wk.a;
        int depth = Sgemm.DEPTH;
        int taps = tapPhase.length;
        int outSize = g.outSize();
        int chunks = (len + CHUNK - 1) / CHUNK;
        int chunk = chunks == 0 ? 0 : (len + chunks - 1) / chunks;
        for (int mj = 0; mj < mult; mj++) {
            int wBase = wOff + mj * g.kernelSize();
            float b = bias != null ? bias[biasOff + mj] : 0f;
            for (int od = 0; od < o[0]; od++) {
                int dst = mj * outSize + od * o[1] * o[2];
                for (int o0 = 0; o0 < len; o0 += chunk) {
                    int cl = Math.min(chunk, len - o0);
                    Arrays.fill(acc, 0, cl, b);
                    for (int kd = 0; kd < g.kernel[0]; kd++) {
                        int id = od * g.stride[0] - g.padBegin[0] + kd * g.dilation[0];
                        if (id < 0 || id >= in[0]) {
                            continue;
                        }
                        int slice = id * phases * planeSize + o0;
                        for (int t0 = 0; t0 < taps; t0 += depth) {
                            for (int s = 0; s < depth; s++) {
                                int tap = t0 + s;
                                if (tap < taps) {
                                    System.arraycopy(q, slice + tapPhase[tap] * planeSize + tapShift[tap], t[s], 0,
                                            cl);
                                    a[s] = w[wBase + kd * taps + tap];
                                } else {
                                    // Zeros, not stale values: 0 * Inf would be NaN.
                                    Arrays.fill(t[s], 0, cl, 0f);
                                    a[s] = 0f;
                                }
                            }
                            Sgemm.rowUpdate(cl, a, t[0], t[1], t[2], acc);
                        }
                    }
                    extract(acc, o0, cl, out, dst);
                }
            }
        }
    }

    /** Copies the real output columns among wide positions {@code [o0, o0 + n)} to the output plane. */
    private void extract(float[] acc, int o0, int n, float[] out, int dst) {
        int ow = g.out[2];
        int p = o0;
        int end = o0 + n;
        while (p < end) {
            int oh = p / qw;
            int col = p - oh * qw;
            int rowEnd = Math.min(end, (oh + 1) * qw);
            if (col < ow) {
                System.arraycopy(acc, p - o0, out, dst + oh * ow + col, Math.min(ow, rowEnd - oh * qw) - col);
            }
            p = rowEnd;
        }
    }

    /** Writes the phase planes of every depth slice of the input plane at {@code xOff} into {@code q}. */
    private void buildPhases(float[] x, int xOff, float[] q) {
        int[] in = g.in;
        int sh = g.stride[1];
        int sw = g.stride[2];
        int ph = g.padBegin[1];
        int pw = g.padBegin[2];
        for (int id = 0; id < in[0]; id++) {
            for (int py = 0; py < sh; py++) {
                for (int px = 0; px < sw; px++) {
                    int base = ((id * sh + py) * sw + px) * planeSize;
                    int start = px - pw;
                    int lo = Im2Col.firstInside(start, sw, qw);
                    int hi = Math.max(lo, Im2Col.endInside(start, sw, qw, in[2]));
                    for (int i = 0; i < qh; i++) {
                        int row = base + i * qw;
                        int ih = i * sh + py - ph;
                        if (ih < 0 || ih >= in[1]) {
                            Arrays.fill(q, row, row + qw, 0f);
                            continue;
                        }
                        int src = xOff + (id * in[1] + ih) * in[2] + start;
                        Arrays.fill(q, row, row + lo, 0f);
                        if (sw == 1) {
                            System.arraycopy(x, src + lo, q, row + lo, hi - lo);
                        } else {
                            for (int j = lo; j < hi; j++) {
                                q[row + j] = x[src + j * sw];
                            }
                        }
                        Arrays.fill(q, row + hi, row + qw, 0f);
                    }
                    Arrays.fill(q, base + qh * qw, base + planeSize, 0f);
                }
            }
        }
    }
}
