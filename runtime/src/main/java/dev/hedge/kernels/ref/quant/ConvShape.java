package dev.hedge.kernels.ref.quant;

import dev.hedge.ir.Node;
import dev.hedge.runtime.UnsupportedModelException;
import java.util.Arrays;

/**
 * Geometry of a convolution (QLinearConv, ConvInteger, and the converter's view of Conv inputs): ONNX Conv rules
 * for kernel_shape, strides, dilations, pads and auto_pad, with 1-D and 2-D convolutions given leading unit
 * dimensions so one loop nest over (depth, height, width) serves ranks 1 to 3.
 */
public final class ConvShape {

    static final int DIMS = 3;

    final int rank;
    public final int batch;
    public final int channels;
    public final int maps;
    public final int groups;
    final int[] in = {1, 1, 1};
    final int[] out = {1, 1, 1};
    final int[] kernel = {1, 1, 1};
    final int[] stride = {1, 1, 1};
    final int[] dilation = {1, 1, 1};
    final int[] padBegin = new int[DIMS];

    /**
     * @param x input shape {@code [N, C, spatial...]}
     * @param w weight shape {@code [M, C / group, kernel...]}
     */
    public ConvShape(Node node, int[] x, int[] w) {
        if (x.length < 3 || x.length > 5) {
            if (x.length > 5) {
                throw new UnsupportedModelException(node.describe() + ": input shape " + Arrays.toString(x)
                        + " has more than 3 spatial dimensions");
            }
            throw new IllegalArgumentException("input shape " + Arrays.toString(x)
                    + " needs rank 3 to 5 (N, C, spatial...)");
        }
        if (w.length != x.length) {
            throw new IllegalArgumentException("weight shape " + Arrays.toString(w)
                    + " has not the rank of input shape " + Arrays.toString(x));
        }
        rank = x.length - 2;
        batch = x[0];
        channels = x[1];
        maps = w[0];
        long g = node.intAttr("group");
        if (g < 1 || channels % g != 0 || maps % g != 0) {
            throw new IllegalArgumentException("group " + g + " does not divide input channels "
                    + channels + " and output channels " + maps);
        }
        groups = (int) g;
        if (w[1] != channels / groups) {
            throw new IllegalArgumentException("weight shape " + Arrays.toString(w) + " needs "
                    + channels / groups + " input channels per group (input has " + channels + ", group " + groups
                    + ")");
        }
        long[] ks = node.intsAttr("kernel_shape");
        if (ks != null && !Arrays.equals(ks, Arrays.stream(w, 2, w.length).asLongStream().toArray())) {
            throw new IllegalArgumentException("kernel_shape " + Arrays.toString(ks)
                    + " does not match weight shape " + Arrays.toString(w));
        }
        int[] strides = ints(node, "strides", rank, 1);
        int[] dilations = ints(node, "dilations", rank, 1);
        int[] pads = ints(node, "pads", 2 * rank, 0);
        String autoPad = node.stringAttr("auto_pad");
        for (int i = 0; i < rank; i++) {
            int d = DIMS - rank + i;
            in[d] = x[2 + i];
            kernel[d] = w[2 + i];
            if (kernel[d] < 1) {
                throw new IllegalArgumentException("weight shape " + Arrays.toString(w)
                        + " has an empty kernel");
            }
            stride[d] = strides[i];
            dilation[d] = dilations[i];
            int span = (kernel[d] - 1) * dilation[d] + 1;
            switch (autoPad == null ? "NOTSET" : autoPad) {
                case "SAME_UPPER": case "SAME_LOWER": {
                    out[d] = (in[d] + stride[d] - 1) / stride[d];
                    int total = Math.max(0, (out[d] - 1) * stride[d] + span - in[d]);
                    padBegin[d] = autoPad.equals("SAME_UPPER") ? total / 2 : total - total / 2;
                    break;
                }
                case "VALID":
                    padBegin[d] = 0;
                    out[d] = in[d] < span ? 0 : (in[d] - span) / stride[d] + 1;
                    break;
                case "NOTSET": case "": {
                    padBegin[d] = pads[i];
                    int padded = in[d] + pads[i] + pads[rank + i];
                    if (padded < span) {
                        throw new IllegalArgumentException("kernel extent " + span
                                + " exceeds the padded input size " + padded + " in spatial dimension " + i);
                    }
                    out[d] = (padded - span) / stride[d] + 1;
                    break;
                }
                default:
                    throw new IllegalArgumentException("auto_pad '" + autoPad
                            + "' is not one of NOTSET, SAME_UPPER, SAME_LOWER, VALID");
            }
        }
    }

    public int inSize() {
        return in[0] * in[1] * in[2];
    }

    public int outSize() {
        return out[0] * out[1] * out[2];
    }

    public int kernelSize() {
        return kernel[0] * kernel[1] * kernel[2];
    }

    /** Output shape {@code [N, M, spatial...]}. */
    int[] outputShape() {
        int[] s = new int[rank + 2];
        s[0] = batch;
        s[1] = maps;
        System.arraycopy(out, DIMS - rank, s, 2, rank);
        return s;
    }

    private static int[] ints(Node node, String name, int n, int dflt) {
        long[] v = node.intsAttr(name);
        int[] r = new int[n];
        if (v == null) {
            Arrays.fill(r, dflt);
            return r;
        }
        if (v.length != n) {
            throw new IllegalArgumentException(name + " " + Arrays.toString(v) + " has "
                    + v.length + " values, expected " + n);
        }
        int min = dflt == 0 ? 0 : 1;
        for (int i = 0; i < n; i++) {
            if (v[i] < min || v[i] > 1 << 20) {
                throw new IllegalArgumentException(name + " " + Arrays.toString(v)
                        + " has a value outside [" + min + ", 2^20]");
            }
            r[i] = (int) v[i];
        }
        return r;
    }

    /**
     * Fills {@code col} ({@code cg * kernelSize()} rows of {@code nb} columns) with the zero-point-adjusted input
     * values seen by output positions {@code [n0, n0 + nb)}; taps in the padding are 0 (the zero point).
     * {@code x} holds the group's {@code cg} channel planes from {@code xOff}.
     */
    void im2col(int[] x, int xOff, int cg, int[] col, int n0, int nb) {
        int outH = out[1];
        int outW = out[2];
        int plane = inSize();
        int row = 0;
        for (int c = 0; c < cg; c++) {
            int xc = xOff + c * plane;
            for (int kd = 0; kd < kernel[0]; kd++) {
                for (int kh = 0; kh < kernel[1]; kh++) {
                    for (int kw = 0; kw < kernel[2]; kw++, row++) {
                        int dst = row * nb;
                        for (int j = n0; j < n0 + nb; j++, dst++) {
                            int ow = j % outW;
                            int oh = (j / outW) % outH;
                            int od = j / outW / outH;
                            int id = od * stride[0] - padBegin[0] + kd * dilation[0];
                            int ih = oh * stride[1] - padBegin[1] + kh * dilation[1];
                            int iw = ow * stride[2] - padBegin[2] + kw * dilation[2];
                            col[dst] = id < 0 || id >= in[0] || ih < 0 || ih >= in[1] || iw < 0 || iw >= in[2] ? 0
                                    : x[xc + (id * in[1] + ih) * in[2] + iw];
                        }
                    }
                }
            }
        }
    }

    /**
     * The rows of the convolution's implicit matrix: for output position {@code p} of one image, row {@code p}
     * holds the {@code cg * kernelSize()} input values its taps read (channel-major, then kernel taps), 0 in the
     * padding. {@code x} holds the group's {@code cg} channel planes from {@code xOff}; {@code rows} gets
     * {@code outSize()} rows.
     */
    public void rows(float[] x, int xOff, int cg, double[] rows) {
        int k = cg * kernelSize();
        int outH = out[1];
        int outW = out[2];
        int plane = inSize();
        for (int j = 0; j < outSize(); j++) {
            int ow = j % outW;
            int oh = (j / outW) % outH;
            int od = j / outW / outH;
            int col = 0;
            for (int c = 0; c < cg; c++) {
                int xc = xOff + c * plane;
                for (int kd = 0; kd < kernel[0]; kd++) {
                    for (int kh = 0; kh < kernel[1]; kh++) {
                        for (int kw = 0; kw < kernel[2]; kw++, col++) {
                            int id = od * stride[0] - padBegin[0] + kd * dilation[0];
                            int ih = oh * stride[1] - padBegin[1] + kh * dilation[1];
                            int iw = ow * stride[2] - padBegin[2] + kw * dilation[2];
                            rows[j * k + col] = id < 0 || id >= in[0] || ih < 0 || ih >= in[1] || iw < 0
                                    || iw >= in[2] ? 0 : x[xc + (id * in[1] + ih) * in[2] + iw];
                        }
                    }
                }
            }
        }
    }
}
