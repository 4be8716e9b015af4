package dev.hedge.kernels.ref.linalg;

import java.util.Arrays;

/**
 * The data movement of GEMM-based convolution, over the three normalised dimensions of a
 * {@link ConvGeometry}. Work is done in runs along the innermost (width) dimension, with the in-range part of
 * each run found arithmetically rather than tested per element.
 */
final class Im2Col {

    private Im2Col() {
    }

    /**
     * Conv: fills {@code col} ({@code channels * kernelSize} rows of {@code nb} columns, row-major) with the
     * input patches seen by output positions {@code [n0, n0 + nb)}, zero where a tap falls in the padding.
     * Row {@code (c, kd, kh, kw)} holds channel c's samples for that kernel tap. {@code x} holds the
     * channels' planes of {@code g.inSize()} elements from {@code xOff}.
     */
    static void im2col(ConvGeometry g, float[] x, int xOff, int channels, float[] col, int n0, int nb) {
        int[] in = g.in;
        int[] k = g.kernel;
        int[] s = g.stride;
        int[] dl = g.dilation;
        int[] pb = g.padBegin;
        int outH = g.out[1];
        int outW = g.out[2];
        int inSize = g.inSize();
        int sw = s[2];
        int row = 0;
        for (int c = 0; c < channels; c++) {
            int xc = xOff + c * inSize;
            for (int kd = 0; kd < k[0]; kd++) {
                for (int kh = 0; kh < k[1]; kh++) {
                    for (int kw = 0; kw < k[2]; kw++, row++) {
                        int dst = row * nb;
                        int j = n0;
                        int end = n0 + nb;
                        int w0 = j % outW;
                        int h0 = (j / outW) % outH;
                        int d0 = j / outW / outH;
                        while (j < end) {
                            int len = Math.min(outW - w0, end - j);
                            int id = d0 * s[0] - pb[0] + kd * dl[0];
                            int ih = h0 * s[1] - pb[1] + kh * dl[1];
                            if (id < 0 || id >= in[0] || ih < 0 || ih >= in[1]) {
                                Arrays.fill(col, dst, dst + len, 0f);
                            } else {
                                int iw0 = w0 * sw - pb[2] + kw * dl[2];
                                int lo = firstInside(iw0, sw, len);
                                int hi = endInside(iw0, sw, len, in[2]);
                                int base = xc + (id * in[1] + ih) * in[2] + iw0;
                                if (hi <= lo) {
                                    Arrays.fill(col, dst, dst + len, 0f);
                                } else {
                                    Arrays.fill(col, dst, dst + lo, 0f);
                                    if (sw == 1) {
                                        System.arraycopy(x, base + lo, col, dst + lo, hi - lo);
                                    } else {
                                        for (int t = lo; t < hi; t++) {
                                            col[dst + t] = x[base + t * sw];
                                        }
                                    }
                                    Arrays.fill(col, dst + hi, dst + len, 0f);
                                }
                            }
                            dst += len;
                            j += len;
                            w0 = 0;
                            if (++h0 == outH) {
                                h0 = 0;
                                d0++;
                            }
                        }
                    }
                }
            }
        }
    }

    /**
     * ConvTranspose: adds {@code col} ({@code channels * kernelSize} rows of {@code nb} columns for input
     * positions {@code [n0, n0 + nb)}) into the output planes {@code y} (from {@code yOff}, {@code g.outSize()}
     * each): row {@code (m, kd, kh, kw)}, column i goes to output position {@code i * stride - pad + k * dilation}
     * of channel m; positions outside the output are dropped.
     */
    static void col2im(ConvGeometry g, float[] col, int channels, int n0, int nb, float[] y, int yOff) {
        int[] out = g.out;
        int[] k = g.kernel;
        int[] s = g.stride;
        int[] dl = g.dilation;
        int[] pb = g.padBegin;
        int inH = g.in[1];
        int inW = g.in[2];
        int outSize = g.outSize();
        int sw = s[2];
        int row = 0;
        for (int m = 0; m < channels; m++) {
            int yc = yOff + m * outSize;
            for (int kd = 0; kd < k[0]; kd++) {
                for (int kh = 0; kh < k[1]; kh++) {
                    for (int kw = 0; kw < k[2]; kw++, row++) {
                        int src = row * nb;
                        int j = n0;
                        int end = n0 + nb;
                        int w0 = j % inW;
                        int h0 = (j / inW) % inH;
                        int d0 = j / inW / inH;
                        while (j < end) {
                            int len = Math.min(inW - w0, end - j);
                            int od = d0 * s[0] - pb[0] + kd * dl[0];
                            int oh = h0 * s[1] - pb[1] + kh * dl[1];
                            if (od >= 0 && od < out[0] && oh >= 0 && oh < out[1]) {
                                int ow0 = w0 * sw - pb[2] + kw * dl[2];
                                int lo = firstInside(ow0, sw, len);
                                int hi = endInside(ow0, sw, len, out[2]);
                                int base = yc + (od * out[1] + oh) * out[2] + ow0;
                                for (int t = lo; t < hi; t++) {
                                    y[base + t * sw] += col[src + t];
                                }
                            }
                            src += len;
                            j += len;
                            w0 = 0;
                            if (++h0 == inH) {
                                h0 = 0;
                                d0++;
                            }
                        }
                    }
                }
            }
        }
    }

    /** First t in [0, len] with {@code start + t * step >= 0}. */
    static int firstInside(int start, int step, int len) {
        if (start >= 0) {
            return 0;
        }
        return Math.min(len, (-start + step - 1) / step);
    }

    /** One past the last t in [0, len) with {@code start + t * step < size} (0 when none). */
    static int endInside(int start, int step, int len, int size) {
        if (start >= size) {
            return 0;
        }
        return Math.min(len, (size - 1 - start) / step + 1);
    }
}
