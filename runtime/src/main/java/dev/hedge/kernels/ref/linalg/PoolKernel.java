package dev.hedge.kernels.ref.linalg;

import dev.hedge.ir.Node;
import dev.hedge.kernels.Kernel;
import dev.hedge.kernels.PrepareContext;
import dev.hedge.kernels.RunContext;
import dev.hedge.kernels.ref.quant.QFixed;
import dev.hedge.kernels.util.ScratchArrays;
import dev.hedge.kernels.util.Tiles;
import dev.hedge.ops.Op;
import dev.hedge.runtime.DType;
import dev.hedge.runtime.Tensor;
import dev.hedge.runtime.UnsupportedModelException;
import java.nio.LongBuffer;
import java.util.Arrays;

/**
 * MaxPool (with the optional Indices output) and AveragePool over 1 to 3 spatial dimensions: strides,
 * dilations, pads/auto_pad, ceil_mode, count_include_pad, storage_order.
 *
 * <p>A window is separable, so for every output index along every dimension the range of kernel taps that
 * fall inside the input, and the number that fall inside input plus explicit padding (the divisor when
 * count_include_pad is set; taps only added by ceil_mode never count), are computed at prepare time. Max
 * takes the first largest value in scan order, like the ONNX reference; a window with no input element
 * gives 0 (index -1) for max and NaN for average. Indices are flat over N x C x spatial, row-major, or
 * column-major over the spatial dimensions when storage_order is 1.
 *
 * <p>QLinearAveragePool (UINT8 / INT8) shares the windows: the integer sum of {@code x - x_zero_point} over the
 * taps inside the input (padding adds 0, the input's real zero), divided and requantized as {@link QFixed}
 * defines; a window with no tap at all gives y_zero_point.
 *
 * <p>Planes run in tiles on the intra-op threads (each plane computed whole by one thread, so results do
 * not depend on the thread count).
 *
 * <p>Scratch (per thread): slot 0 one input plane, slot 1 one output plane.
 */
final class PoolKernel implements Kernel, RunContext.TileTask {

    private final Node node;
    private final boolean max;
    /** QLinearAveragePool's fixed-point parameters, else null. */
    private QFixed.Average qavg;
    private DType dtype;
    private ConvGeometry g;
    private int planes;
    private boolean countPad;
    private boolean columnMajor;
    private boolean indices;
    /** Per normalised dimension and output index: first and one-past-last kernel tap inside the input. */
    private int[][] tapLo;
    private int[][] tapHi;
    /** Per normalised dimension and output index: taps inside the input or its explicit padding. */
    private int[][] padded;
    private int planesPerTile;
    private int tiles;

    PoolKernel(Node node) {
        this.node = node;
        this.max = node.op() == Op.MaxPool;
    }

    @Override
    public void prepare(PrepareContext ctx) {
        dtype = ctx.inputType(0);
        boolean bytes = dtype == DType.INT8 || dtype == DType.UINT8;
        boolean quantized = node.op() == Op.QLinearAveragePool;
        if (quantized && !bytes) {
            throw new UnsupportedModelException(node.describe() + ": input X has type " + dtype
                    + "; INT8 or UINT8 expected");
        }
        if (!quantized && !FloatData.isFloat(dtype) && !(max && bytes)) {
            throw new UnsupportedModelException(node.describe() + ": input has type " + dtype + "; supported: "
                    + (max ? "FLOAT32, FLOAT16, BFLOAT16, FLOAT64, INT8, UINT8" : "FLOAT32, FLOAT16, BFLOAT16, FLOAT64"));
        }
        int[] xs = ctx.inputShape(0);
        if (xs.length < 3) {
            throw new IllegalArgumentException("input shape " + Arrays.toString(xs)
                    + " needs rank 3 to 5 (N, C, spatial...)");
        }
        int r = xs.length - 2;
        int[] kernel = ConvGeometry.poolKernel(node, r);
        long ceil = node.intAttr("ceil_mode");
        g = ConvGeometry.pool(node, Arrays.copyOfRange(xs, 2, xs.length), kernel, ceil != 0);
        planes = Math.multiplyExact(xs[0], xs[1]);
        if (max) {
            long so = node.intAttr("storage_order");
            if (so != 0 && so != 1) {
                throw new IllegalArgumentException("storage_order " + so + " is not 0 or 1");
            }
            columnMajor = so == 1;
            indices = ctx.hasOutput(1);
            if (bytes && ctx.inputQuant(0) != null) {
                ctx.setOutputQuant(0, ctx.inputQuant(0)); // max commutes with dequantization
            }
        } else {
            countPad = node.intAttr("count_include_pad") != 0;
        }
        int[] out = new int[r + 2];
        out[0] = xs[0];
        out[1] = xs[1];
        System.arraycopy(g.outShape(), 0, out, 2, r);
        ctx.setOutput(0, dtype, out);
        if (indices) {
            ctx.setOutput(1, DType.INT64, out);
        }
        tapLo = new int[ConvGeometry.DIMS][];
        tapHi = new int[ConvGeometry.DIMS][];
        padded = new int[ConvGeometry.DIMS][];
        for (int d = 0; d < ConvGeometry.DIMS; d++) {
            int o = g.out[d];
            tapLo[d] = new int[o];
            tapHi[d] = new int[o];
            padded[d] = new int[o];
            int dil = g.dilation[d];
            int kn = g.kernel[d];
            for (int i = 0; i < o; i++) {
                int start = i * g.stride[d] - g.padBegin[d];
                tapLo[d][i] = Im2Col.firstInside(start, dil, kn);
                tapHi[d][i] = Math.max(tapLo[d][i], Im2Col.endInside(start, dil, kn, g.in[d]));
                int lo = Im2Col.firstInside(start + g.padBegin[d], dil, kn);
                int hi = Im2Col.endInside(start + g.padBegin[d], dil, kn, g.in[d] + g.padBegin[d] + g.padEnd[d]);
                padded[d][i] = Math.max(0, hi - lo);
            }
        }
        if (quantized) {
            qavg = QFixed.average(ctx, node, 1, g.kernel[0] * g.kernel[1] * g.kernel[2]);
        }
        double perPlane = (double) g.outSize() * g.kernel[0] * g.kernel[1] * g.kernel[2];
        tiles = Tiles.pieces(planes, perPlane);
        planesPerTile = Tiles.ceilDiv(Math.max(planes, 1), tiles);
        tiles = Tiles.ceilDiv(planes, planesPerTile);
    }

    /**
     * Max over every window of one plane, without indices: the same scan order and first-largest rule as
     * the general loop (so NaNs and signed zeros come out alike), without its index bookkeeping.
     */
    private void maxPlane(float[] xa, float[] ya) {
        int[] in = g.in;
        int[] out = g.out;
        int[] st = g.stride;
        int[] dl = g.dilation;
        int[] pb = g.padBegin;
        int o = 0;
        for (int od = 0; od < out[0]; od++) {
            int sd = od * st[0] - pb[0];
            int d0 = tapLo[0][od];
            int d1 = tapHi[0][od];
            for (int oh = 0; oh < out[1]; oh++) {
                int sh = oh * st[1] - pb[1];
                int h0 = tapLo[1][oh];
                int h1 = tapHi[1][oh];
                for (int ow = 0; ow < out[2]; ow++, o++) {
                    int sw = ow * st[2] - pb[2];
                    int w0 = tapLo[2][ow];
                    int w1 = tapHi[2][ow];
                    if (d0 >= d1 || h0 >= h1 || w0 >= w1) {
                        ya[o] = 0f;
                        continue;
                    }
                    float best = xa[((sd + d0 * dl[0]) * in[1] + sh + h0 * dl[1]) * in[2] + sw + w0 * dl[2]];
                    for (int kd = d0; kd < d1; kd++) {
                        int id = sd + kd * dl[0];
                        for (int kh = h0; kh < h1; kh++) {
                            int row = (id * in[1] + sh + kh * dl[1]) * in[2] + sw;
                            for (int kw = w0; kw < w1; kw++) {
                                float v = xa[row + kw * dl[2]];
                                best = v > best ? v : best; // a conditional move: maxima of noise mispredict
                            }
                        }
                    }
                    ya[o] = best;
                }
            }
        }
    }

    @Override
    public void run(RunContext ctx) {
        ctx.parallelFor(tiles, this);
    }

    /** Planes {@code [tile * planesPerTile, ...)}. */
    @Override
    public void run(RunContext ctx, int tile, int worker) {
        Tensor x = ctx.input(0);
        Tensor y = ctx.output(0);
        LongBuffer ib = indices ? ctx.output(1).longs() : null;
        int inSize = g.inSize();
        int outSize = g.outSize();
        float[] xa = ScratchArrays.floats(0, inSize);
        float[] ya = ScratchArrays.floats(1, outSize);
        int[] in = g.in;
        int[] out = g.out;
        int[] st = g.stride;
        int[] dl = g.dilation;
        int[] pb = g.padBegin;
        int pEnd = Math.min(planes, (tile + 1) * planesPerTile);
        for (int p = tile * planesPerTile; p < pEnd; p++) {
            readPlane(x, p * inSize, xa, inSize);
            if (max && ib == null) {
                maxPlane(xa, ya);
                writePlane(ya, y, p * outSize, outSize);
                continue;
            }
            int o = 0;
            for (int od = 0; od < out[0]; od++) {
                int sd = od * st[0] - pb[0];
                for (int oh = 0; oh < out[1]; oh++) {
                    int sh = oh * st[1] - pb[1];
                    for (int ow = 0; ow < out[2]; ow++, o++) {
                        int sw = ow * st[2] - pb[2];
                        if (max) {
                            float best = 0f;
                            int arg = -1;
                            for (int kd = tapLo[0][od]; kd < tapHi[0][od]; kd++) {
                                int id = sd + kd * dl[0];
                                for (int kh = tapLo[1][oh]; kh < tapHi[1][oh]; kh++) {
                                    int ih = sh + kh * dl[1];
                                    int row = (id * in[1] + ih) * in[2];
                                    for (int kw = tapLo[2][ow]; kw < tapHi[2][ow]; kw++) {
                                        int iw = sw + kw * dl[2];
                                        float v = xa[row + iw];
                                        if (arg < 0 || v > best) {
                                            best = v;
                                            arg = columnMajor ? id + in[0] * (ih + in[1] * iw) : row + iw;
                                        }
                                    }
                                }
                            }
                            ya[o] = best;
                            if (ib != null) {
                                ib.put(p * outSize + o, arg < 0 ? -1 : (long) p * inSize + arg);
                            }
                        } else if (qavg != null) {
                            ya[o] = quantAverage(xa, od, oh, ow);
                        } else {
                            float sum = 0f;
                            for (int kd = tapLo[0][od]; kd < tapHi[0][od]; kd++) {
                                int id = sd + kd * dl[0];
                                for (int kh = tapLo[1][oh]; kh < tapHi[1][oh]; kh++) {
                                    int row = (id * in[1] + sh + kh * dl[1]) * in[2] + sw;
                                    for (int kw = tapLo[2][ow]; kw < tapHi[2][ow]; kw++) {
                                        sum += xa[row + kw * dl[2]];
                                    }
                                }
                            }
                            int count = countPad ? padded[0][od] * padded[1][oh] * padded[2][ow]
                                    : (tapHi[0][od] - tapLo[0][od]) * (tapHi[1][oh] - tapLo[1][oh])
                                            * (tapHi[2][ow] - tapLo[2][ow]);
                            ya[o] = count == 0 ? Float.NaN : sum / count;
                        }
                    }
                }
            }
            writePlane(ya, y, p * outSize, outSize);
        }
    }

    /** QLinearAveragePool of one window: the plane holds the raw 8-bit values. */
    private int quantAverage(float[] xa, int od, int oh, int ow) {
        int[] in = g.in;
        int[] dl = g.dilation;
        int sd = od * g.stride[0] - g.padBegin[0];
        int sh = oh * g.stride[1] - g.padBegin[1];
        int sw = ow * g.stride[2] - g.padBegin[2];
        int zx = qavg.zx();
        long sum = 0;
        for (int kd = tapLo[0][od]; kd < tapHi[0][od]; kd++) {
            int id = sd + kd * dl[0];
            for (int kh = tapLo[1][oh]; kh < tapHi[1][oh]; kh++) {
                int row = (id * in[1] + sh + kh * dl[1]) * in[2] + sw;
                for (int kw = tapLo[2][ow]; kw < tapHi[2][ow]; kw++) {
                    sum += (int) xa[row + kw * dl[2]] - zx;
                }
            }
        }
        int count = countPad ? padded[0][od] * padded[1][oh] * padded[2][ow]
                : (tapHi[0][od] - tapLo[0][od]) * (tapHi[1][oh] - tapLo[1][oh]) * (tapHi[2][ow] - tapLo[2][ow]);
        return count == 0 ? Math.max(qavg.lo(), Math.min(qavg.hi(), qavg.zy())) : qavg.apply(sum, count);
    }

    private void readPlane(Tensor x, int off, float[] dst, int len) {
        if (dtype == DType.INT8) {
            for (int i = 0; i < len; i++) {
                dst[i] = x.data().get(off + i);
            }
        } else if (dtype == DType.UINT8) {
            for (int i = 0; i < len; i++) {
                dst[i] = x.data().get(off + i) & 0xff;
            }
        } else {
            FloatData.read(x, off, dst, 0, len);
        }
    }

    private void writePlane(float[] src, Tensor y, int off, int len) {
        if (dtype == DType.INT8 || dtype == DType.UINT8) {
            for (int i = 0; i < len; i++) {
                y.data().put(off + i, (byte) (int) src[i]);
            }
        } else {
            FloatData.write(src, 0, y, off, len);
        }
    }
}
