package dev.hedge.openblas;

import dev.hedge.ir.Node;
import dev.hedge.kernels.Kernel;
import dev.hedge.kernels.PrepareContext;
import dev.hedge.kernels.RunContext;
import dev.hedge.kernels.util.FusedActivation;
import dev.hedge.kernels.util.Tiles;
import dev.hedge.kernels.util.ScratchArrays;
import dev.hedge.runtime.DType;
import dev.hedge.runtime.Tensor;
import dev.hedge.runtime.UnsupportedModelException;
import java.nio.ByteBuffer;
import java.nio.FloatBuffer;
import java.util.Arrays;

/**
 * 1-D and 2-D Conv (groups, strides, dilations, pads / auto_pad, bias, fused activation) as
 * {@code Y_g = W_g * col_g} per image and group. W is used where it is stored: {@code [M, C/g, kh, kw]} is
 * already the row-major {@code M x (C/g * kh * kw)} matrix, so weights stay in the memory-mapped file. A 1x1
 * convolution with unit strides and no padding multiplies the input itself; otherwise the im2col matrix is
 * built in the step's arena scratch, one column chunk at a time (at most {@value #COL_BUDGET} bytes, or 64
 * columns when even those are larger).
 *
 * <p>Two parallel phases per chunk: im2col tiles (one input channel each), then product tiles
 * ({@link Tiles}, fixed by shape, so results do not depend on the thread count). Bias and activation
 * are applied to each product tile as it is finished.
 */
final class BlasConvKernel implements Kernel {

    static final int COL_BUDGET = 4 << 20;
    private static final int IM2COL_TILE = 1 << 16;
    /** Largest im2col of one channel (taps x columns) built from a gather table. */
    private static final int GATHER_MAX = 1 << 14;

    // header longs
    private static final int X = 0;
    private static final int Y = 1;
    private static final int W = 2;
    private static final int IMAGE = 3;
    private static final int CHUNK = 4;
    private static final int COL = 5;

    private final Node node;
    private final FusedActivation act;
    private int batch;
    private int channels;
    private int height;
    private int width;
    private int maps;
    private int groups;
    private int cg;
    private int mg;
    private int kh;
    private int kw;
    private int sh;
    private int sw;
    private int dh;
    private int dw;
    private int padT;
    private int padL;
    private int oh;
    private int ow;
    private int kg;
    private int cols;
    private boolean pointwise;
    private Tiles tiling;
    /** Column tiles per chunk, and the chunk width in columns. */
    private int chunkTiles;
    private int chunkCols;
    private int chunks;
    /** Input channels per im2col tile (their rows: about {@value #IM2COL_TILE} floats). */
    private int channelsPerTile;
    /**
     * For a single-chunk im2col of at most {@value #GATHER_MAX} entries per channel: entry (tap, column) is the
     * offset in the channel's input plane, or -1 for padding. Small images spend most of a row-by-row im2col on
     * each row's bounds (silero's 1-D convolutions over 3 positions: 10 us of 11 for 129 channels).
     */
    private int[] gather;
    private Operands.Constant wConst;
    private boolean hasBias;
    private float[] bias;
    private final RunContext.TileTask im2col = this::im2colTile;
    private final RunContext.TileTask product = this::productTile;

    BlasConvKernel(Node node) {
        this.node = node;
        this.act = FusedActivation.of(node);
    }

    @Override
    public void prepare(PrepareContext ctx) {
        Operands.requireFloat(ctx, 0, "input X");
        Operands.requireFloat(ctx, 1, "weights W");
        hasBias = ctx.hasInput(2);
        if (hasBias) {
            Operands.requireFloat(ctx, 2, "bias B");
        }
        int[] xs = ctx.inputShape(0);
        int[] ws = ctx.inputShape(1);
        if (xs.length != 3 && xs.length != 4) {
            throw new UnsupportedModelException(node.describe() + ": openblas runs 1-D and 2-D convolutions, input is "
                    + Arrays.toString(xs));
        }
        if (ws.length != xs.length) {
            throw new IllegalArgumentException(node.describe() + ": weight shape " + Arrays.toString(ws)
                    + " has not the rank of input shape " + Arrays.toString(xs));
        }
        boolean oneD = xs.length == 3;
        batch = xs[0];
        channels = xs[1];
        height = oneD ? 1 : xs[2];
        width = xs[xs.length - 1];
        maps = ws[0];
        kh = oneD ? 1 : ws[2];
        kw = ws[ws.length - 1];
        long g = node.intAttr("group");
        if (g < 1 || channels % g != 0 || maps % g != 0 || ws[1] != channels / g) {
            throw new IllegalArgumentException(node.describe() + ": group " + g + " does not fit input channels "
                    + channels + ", weight shape " + Arrays.toString(ws));
        }
        groups = (int) g;
        cg = channels / groups;
        mg = maps / groups;
        int r = xs.length - 2;
        long[] kshape = node.intsAttr("kernel_shape");
        if (kshape != null && (kshape.length != r || kshape[r - 1] != kw || (!oneD && kshape[0] != kh))) {
            throw new IllegalArgumentException(node.describe() + ": kernel_shape " + Arrays.toString(kshape)
                    + " does not match weight shape " + Arrays.toString(ws));
        }
        long[] strides = attr("strides", r, 1);
        long[] dil = attr("dilations", r, 1);
        sh = oneD ? 1 : (int) strides[0];
        sw = (int) strides[r - 1];
        dh = oneD ? 1 : (int) dil[0];
        dw = (int) dil[r - 1];
        if (sh < 1 || sw < 1 || dh < 1 || dw < 1) {
            throw new IllegalArgumentException(node.describe() + ": strides " + Arrays.toString(strides)
                    + " and dilations " + Arrays.toString(dil) + " must be positive");
        }
        int[] pads = pads(r, oneD);
        padT = pads[0];
        padL = pads[1];
        oh = outSize(height, kh, sh, dh, pads[0], pads[2]);
        ow = outSize(width, kw, sw, dw, pads[1], pads[3]);
        if (oh < 1 || ow < 1) {
            throw new IllegalArgumentException(node.describe() + ": input " + Arrays.toString(xs) + " with kernel "
                    + Arrays.toString(ws) + " and pads " + Arrays.toString(pads) + " gives an empty output");
        }
        int[] out = oneD ? new int[] {batch, maps, ow} : new int[] {batch, maps, oh, ow};
        ctx.setOutput(0, DType.FLOAT32, out);
        if (hasBias) {
            int[] bs = ctx.inputShape(2);
            if (bs.length != 1 || bs[0] != maps) {
                throw new IllegalArgumentException(node.describe() + ": bias shape " + Arrays.toString(bs)
                        + " is not [" + maps + "]");
            }
        }
        kg = cg * kh * kw;
        cols = oh * ow;
        pointwise = kh == 1 && kw == 1 && sh == 1 && sw == 1 && pads[0] == 0 && pads[1] == 0 && pads[2] == 0
                && pads[3] == 0;
        long colBytesPerColumn = 4L * groups * kg;
        int budgetCols = (int) Math.max(1, COL_BUDGET / colBytesPerColumn);
        tiling = pointwise ? new Tiles(mg, cols, kg) : new Tiles(mg, cols, kg, true, budgetCols);
        chunkTiles = pointwise ? tiling.tilesN : Math.max(1, Math.min(tiling.tilesN, budgetCols / tiling.nBlock));
        chunkCols = Math.min(cols, chunkTiles * tiling.nBlock);
        chunks = Tiles.ceilDiv(tiling.tilesN, chunkTiles);
        channelsPerTile = Math.max(1, Math.min(channels, IM2COL_TILE / Math.max(1, kh * kw * chunkCols)));
        gather = !pointwise && chunks == 1 && (long) kh * kw * cols <= GATHER_MAX ? gatherTable() : null;
        Tensor w = ctx.isConstant(1) ? ctx.inputValue(1) : null;
        wConst = w != null ? new Operands.Constant(w) : null;
        if (wConst != null) {
            ctx.reportPackedBytes(wConst.copiedBytes);
        }
        Tensor b = hasBias && ctx.isConstant(2) ? ctx.inputValue(2) : null;
        bias = b != null ? b.toFloatArray() : null;
        ctx.requestScratch(Operands.HEADER + (pointwise ? 0 : colBytesPerColumn * chunkCols));
    }

    private long[] attr(String name, int r, long dflt) {
        long[] v = node.intsAttr(name);
        if (v == null) {
            v = new long[r];
            Arrays.fill(v, dflt);
        } else if (v.length != r) {
            throw new IllegalArgumentException(node.describe() + ": " + name + " " + Arrays.toString(v) + " needs "
                    + r + " values");
        }
        return v;
    }

    /** {top, left, bottom, right} from pads or auto_pad. */
    private int[] pads(int r, boolean oneD) {
        String auto = node.stringAttr("auto_pad");
        int[] in = {height, width};
        int[] k = {kh, kw};
        int[] s = {sh, sw};
        int[] d = {dh, dw};
        int[] p = new int[4];
        if (auto == null || auto.equals("NOTSET")) {
            long[] pads = node.intsAttr("pads");
            if (pads != null) {
                if (pads.length != 2 * r) {
                    throw new IllegalArgumentException(node.describe() + ": pads " + Arrays.toString(pads) + " needs "
                            + 2 * r + " values");
                }
                for (long v : pads) {
                    if (v < 0) {
                        throw new UnsupportedModelException(node.describe() + ": negative pads "
                                + Arrays.toString(pads));
                    }
                }
                p[0] = oneD ? 0 : (int) pads[0];
                p[1] = (int) pads[r - 1];
                p[2] = oneD ? 0 : (int) pads[r];
                p[3] = (int) pads[2 * r - 1];
            }
        } else if (auto.equals("SAME_UPPER") || auto.equals("SAME_LOWER")) {
            for (int i = 0; i < 2; i++) {
                int o = (in[i] + s[i] - 1) / s[i];
                int total = Math.max(0, (o - 1) * s[i] + (k[i] - 1) * d[i] + 1 - in[i]);
                int small = total / 2;
                p[i] = auto.equals("SAME_UPPER") ? small : total - small;
                p[i + 2] = total - p[i];
            }
        } else if (!auto.equals("VALID")) {
            throw new IllegalArgumentException(node.describe() + ": unknown auto_pad '" + auto + "'");
        }
        return p;
    }

    private static int outSize(int in, int k, int s, int d, int p0, int p1) {
        long span = (long) (k - 1) * d + 1;
        long v = in + (long) p0 + p1 - span;
        return v < 0 ? 0 : (int) (v / s + 1);
    }

    @Override
    public void run(RunContext ctx) {
        ByteBuffer h = ctx.scratch();
        long scratch = Blas.address(h);
        Operands.header(h, X, Operands.address(ctx.input(0), 0));
        Operands.header(h, Y, Blas.address(ctx.output(0).data()));
        Operands.header(h, W, wConst != null ? wConst.address : Operands.address(ctx.input(1), 1));
        Operands.header(h, COL, scratch + Operands.HEADER);
        int productTiles = groups * tiling.tilesM * chunkTiles;
        for (int n = 0; n < batch; n++) {
            Operands.header(h, IMAGE, n);
            for (int c = 0; c < chunks; c++) {
                Operands.header(h, CHUNK, c);
                if (!pointwise) {
                    ctx.parallelFor(Tiles.ceilDiv(channels, channelsPerTile), im2col);
                }
                ctx.parallelFor(productTiles, product);
            }
        }
    }

    private int[] gatherTable() {
        int[] t = new int[kh * kw * cols];
        for (int ki = 0; ki < kh; ki++) {
            for (int kj = 0; kj < kw; kj++) {
                for (int o = 0; o < cols; o++) {
                    int iy = (o / ow) * sh - padT + ki * dh;
                    int ix = (o % ow) * sw - padL + kj * dw;
                    boolean inside = iy >= 0 && iy < height && ix >= 0 && ix < width;
                    t[(ki * kw + kj) * cols + o] = inside ? iy * width + ix : -1;
                }
            }
        }
        return t;
    }

    /** Columns of chunk {@code c}: {@code [c0, c1)}. */
    private int chunkStart(int c) {
        return c * chunkCols;
    }

    /**
     * Writes the im2col rows of input channels {@code [tile * channelsPerTile, ...)} for this chunk. Channel c
     * owns rows {@code [c * kh * kw, (c + 1) * kh * kw)} of the (all groups) matrix, so a tile's rows are one
     * contiguous block, built in an array and written with one copy (its input planes read with one too).
     */
    private void im2colTile(RunContext ctx, int tile, int worker) {
        ByteBuffer h = ctx.scratch();
        int n = (int) Operands.header(h, IMAGE);
        int c0 = chunkStart((int) Operands.header(h, CHUNK));
        int c1 = Math.min(cols, c0 + chunkCols);
        int len = c1 - c0;
        int plane = height * width;
        int ch0 = tile * channelsPerTile;
        int chs = Math.min(channels, ch0 + channelsPerTile) - ch0;
        int taps = kh * kw;
        float[] x = ScratchArrays.floats(0, chs * plane);
        float[] rows = ScratchArrays.floats(1, chs * taps * len);
        Blas.read(Operands.header(h, X) + 4L * ((long) n * channels + ch0) * plane, x, 0, chs * plane);
        if (gather != null) {
            int[] g = gather;
            for (int c = 0; c < chs; c++) {
                int xo = c * plane;
                int ro = c * g.length;
                for (int t = 0; t < g.length; t++) {
                    int i = g[t];
                    rows[ro + t] = i < 0 ? 0f : x[xo + i];
                }
            }
        } else {
            for (int c = 0; c < chs; c++) {
                for (int ki = 0; ki < kh; ki++) {
                    for (int kj = 0; kj < kw; kj++) {
                        fillRow(x, c * plane, rows, ((c * kh + ki) * kw + kj) * len, c0, c1, ki, kj);
                    }
                }
            }
        }
        long col = Operands.header(h, COL);
        if (len == chunkCols) {
            Blas.write(rows, 0, chs * taps * len, col + 4L * ch0 * taps * chunkCols);
        } else {
            // the last chunk is narrower than the matrix's rows
            for (int r = 0; r < chs * taps; r++) {
                Blas.write(rows, r * len, len, col + 4L * ((long) ch0 * taps + r) * chunkCols);
            }
        }
    }

    /** One im2col row at {@code row[off..]}: samples under tap (ki, kj) for output positions [c0, c1). */
    private void fillRow(float[] x, int xOff, float[] row, int off, int c0, int c1, int ki, int kj) {
        int shift = kj * dw - padL;
        // output columns whose input column is inside the image: ox in [lo, hi)
        int lo = shift >= 0 ? 0 : (-shift + sw - 1) / sw;
        int hi = width - 1 - shift < 0 ? 0 : Math.min(ow, (width - 1 - shift) / sw + 1);
        int o = c0;
        int j = off;
        while (o < c1) {
            int oy = o / ow;
            int ox = o - oy * ow;
            int end = Math.min(c1, (oy + 1) * ow);
            int segEnd = ox + (end - o);
            int iy = oy * sh - padT + ki * dh;
            if (iy < 0 || iy >= height) {
                Arrays.fill(row, j, j + (end - o), 0f);
            } else {
                int base = xOff + iy * width + shift;
                int a = Math.max(ox, Math.min(lo, segEnd));
                int b = Math.max(a, Math.min(hi, segEnd));
                Arrays.fill(row, j, j + (a - ox), 0f);
                int dst = j + (a - ox);
                if (sw == 1) {
                    if (b > a) { // with no sample in range base + a may be negative, which arraycopy rejects
                        System.arraycopy(x, base + a, row, dst, b - a);
                    }
                } else {
                    for (int q = a; q < b; q++) {
                        row[dst++] = x[base + q * sw];
                    }
                }
                Arrays.fill(row, j + (b - ox), j + (segEnd - ox), 0f);
            }
            j += end - o;
            o = end;
        }
    }

    private void productTile(RunContext ctx, int tile, int worker) {
        ByteBuffer h = ctx.scratch();
        int n = (int) Operands.header(h, IMAGE);
        int chunk = (int) Operands.header(h, CHUNK);
        int perGroup = tiling.tilesM * chunkTiles;
        int g = tile / perGroup;
        int rest = tile % perGroup;
        int rt = rest / chunkTiles;
        int ct = chunk * chunkTiles + rest % chunkTiles;
        if (ct >= tiling.tilesN) {
            return; // the last chunk has fewer column tiles
        }
        int t = rt * tiling.tilesN + ct;
        int m0 = tiling.m0(t);
        int m1 = tiling.m1(t);
        int n0 = tiling.n0(t);
        int n1 = tiling.n1(t);
        long yImage = Operands.header(h, Y) + 4L * n * maps * cols;
        long w = Operands.header(h, W) + 4L * ((long) g * mg + m0) * kg;
        long b;
        int ldb;
        if (pointwise) {
            b = Operands.header(h, X) + 4L * (((long) n * channels + (long) g * cg) * cols + n0);
            ldb = cols;
        } else {
            b = Operands.header(h, COL) + 4L * ((long) g * kg * chunkCols + (n0 - chunkStart(chunk)));
            ldb = chunkCols;
        }
        int row0 = g * mg + m0;
        Blas.gemm(false, false, m1 - m0, n1 - n0, kg, 1f, w, kg, b, ldb, 0f, yImage + 4L * ((long) row0 * cols + n0),
                cols);
        if (hasBias || !act.isNone()) {
            float[] bv = bias;
            if (hasBias && bv == null) {
                bv = ScratchArrays.floats(0, maps);
                FloatBuffer fb = ctx.input(2).floats();
                fb.get(0, bv, 0, maps);
            }
            Rows.epilogue(yImage, cols, row0, g * mg + m1, n0, n1, bv, 0, null, 1, cols, act);
        }
    }
}
