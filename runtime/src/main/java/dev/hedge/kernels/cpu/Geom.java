package dev.hedge.kernels.cpu;

import dev.hedge.ir.Node;
import java.util.Arrays;

/**
 * Sliding-window geometry of one NCHW image for Conv-like and pooling nodes: {@code c} input channels (of one
 * group), plane {@code h x w}, kernel, strides, dilations, leading/trailing pads and the output plane. 1-D
 * nodes (rank-3 tensors) are seen as {@code h = kh = 1}.
 */
final class Geom {

    final long c;
    final long h;
    final long w;
    final long kh;
    final long kw;
    final long sh;
    final long sw;
    final long dh;
    final long dw;
    final long pt;
    final long pl;
    final long pb;
    final long pr;
    final long oh;
    final long ow;

    Geom(long c, long h, long w, long kh, long kw, long sh, long sw, long dh, long dw, long pt, long pl, long pb,
            long pr, long oh, long ow) {
        this.c = c;
        this.h = h;
        this.w = w;
        this.kh = kh;
        this.kw = kw;
        this.sh = sh;
        this.sw = sw;
        this.dh = dh;
        this.dw = dw;
        this.pt = pt;
        this.pl = pl;
        this.pb = pb;
        this.pr = pr;
        this.oh = oh;
        this.ow = ow;
    }

    long reduction() {
        return Math.multiplyExact(Math.multiplyExact(c, kh), kw);
    }

    long outPlane() {
        return Math.multiplyExact(oh, ow);
    }

    long inPlane() {
        return Math.multiplyExact(h, w);
    }

    long inBytes(int esize) {
        return Math.multiplyExact(Math.multiplyExact(c, inPlane()), esize);
    }

    boolean isPointwise() {
        return kh == 1 && kw == 1 && sh == 1 && sw == 1 && pt == 0 && pl == 0 && oh == h && ow == w;
    }

    /** Rejects values no kernel may see (the native kernels rely on this). */
    void check() {
        // no array of the values: the natives call this on every run, which must not allocate
        if (!inRange(c) || !inRange(h) || !inRange(w) || !inRange(kh) || !inRange(kw) || !inRange(sh) || !inRange(sw)
                || !inRange(dh) || !inRange(dw) || !inRange(oh) || !inRange(ow)) {
            throw new IllegalArgumentException("bad window geometry " + this);
        }
        if (pt < 0 || pl < 0 || pb < 0 || pr < 0 || pt > Integer.MAX_VALUE || pl > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("bad window geometry " + this);
        }
        try {
            Math.multiplyExact(Math.multiplyExact(reduction(), outPlane()), 4L);
            Math.multiplyExact(Math.multiplyExact(c, inPlane()), 4L);
            Math.multiplyExact(outPlane(), 4L * c);
        } catch (ArithmeticException e) {
            throw new IllegalArgumentException("window geometry too large " + this);
        }
    }

    private static boolean inRange(long v) {
        return v > 0 && v <= Integer.MAX_VALUE;
    }

    /**
     * Geometry of a Conv / pooling node from its attributes. {@code x} is the input shape (N, C, spatial...),
     * {@code kernel} the spatial kernel sizes, {@code channels} the channels one window spans.
     */
    /** The same window over {@code channels} channels (a block of a depthwise convolution). */
    Geom withChannels(long channels) {
        return new Geom(channels, h, w, kh, kw, sh, sw, dh, dw, pt, pl, pb, pr, oh, ow);
    }

    static Geom of(Node node, int[] x, long[] kernel, long channels, boolean pool) {
        int rank = x.length - 2;
        if (rank != 1 && rank != 2) {
            throw new IllegalArgumentException("only 1-D and 2-D windows run natively, input is "
                    + Arrays.toString(x));
        }
        if (kernel.length != rank) {
            throw new IllegalArgumentException("kernel_shape " + Arrays.toString(kernel)
                    + " does not match input " + Arrays.toString(x));
        }
        long[] strides = ints(node, "strides", rank, 1);
        long[] dil = ints(node, "dilations", rank, 1);
        long[] pads = node.intsAttr("pads");
        if (pads == null) {
            pads = new long[2 * rank];
        } else if (pads.length != 2 * rank) {
            throw new IllegalArgumentException("pads " + Arrays.toString(pads) + " must have "
                    + 2 * rank + " values");
        } else {
            pads = pads.clone();
        }
        for (int i = 0; i < rank; i++) {
            if (strides[i] < 1 || dil[i] < 1 || kernel[i] < 1) {
                throw new IllegalArgumentException("kernel " + Arrays.toString(kernel) + ", strides "
                        + Arrays.toString(strides) + " and dilations " + Arrays.toString(dil) + " must be positive");
            }
        }
        for (long p : pads) {
            if (p < 0) {
                throw new IllegalArgumentException("negative pads " + Arrays.toString(pads));
            }
        }
        String autoPad = node.stringAttr("auto_pad");
        boolean ceil = pool && node.intAttr("ceil_mode") != 0;
        long[] out = new long[rank];
        for (int i = 0; i < rank; i++) {
            long in = x[2 + i];
            long dk = (kernel[i] - 1) * dil[i] + 1;
            switch (autoPad == null ? "NOTSET" : autoPad) {
                case "NOTSET":
                case "":
                    break;
                case "VALID":
                    pads[i] = 0;
                    pads[rank + i] = 0;
                    break;
                case "SAME_UPPER":
                case "SAME_LOWER": {
                    long o = (in + strides[i] - 1) / strides[i];
                    long total = Math.max(0, (o - 1) * strides[i] + dk - in);
                    long begin = autoPad.equals("SAME_UPPER") ? total / 2 : (total + 1) / 2;
                    pads[i] = begin;
                    pads[rank + i] = total - begin;
                    break;
                }
                default:
                    throw new IllegalArgumentException("unknown auto_pad '" + autoPad + "'");
            }
            long span = in + pads[i] + pads[rank + i] - dk;
            if (span < 0) {
                throw new IllegalArgumentException("kernel extent " + dk + " exceeds the padded input "
                        + (in + pads[i] + pads[rank + i]) + " on spatial axis " + i);
            }
            long o = ceil ? (span + strides[i] - 1) / strides[i] + 1 : span / strides[i] + 1;
            if (ceil && (o - 1) * strides[i] >= in + pads[i]) {
                o--; // a window may not start in the trailing padding
            }
            out[i] = o;
        }
        Geom g = rank == 1
                ? new Geom(channels, 1, x[2], 1, kernel[0], 1, strides[0], 1, dil[0], 0, pads[0], 0, pads[1], 1, out[0])
                : new Geom(channels, x[2], x[3], kernel[0], kernel[1], strides[0], strides[1], dil[0], dil[1], pads[0],
                        pads[1], pads[2], pads[3], out[0], out[1]);
        if (g.oh < 1 || g.ow < 1 || g.c < 1) {
            throw new IllegalArgumentException("empty output " + g);
        }
        g.check();
        return g;
    }

    private static long[] ints(Node node, String name, int rank, long dflt) {
        long[] v = node.intsAttr(name);
        if (v == null) {
            long[] d = new long[rank];
            Arrays.fill(d, dflt);
            return d;
        }
        if (v.length != rank) {
            throw new IllegalArgumentException(name + " " + Arrays.toString(v) + " must have "
                    + rank + " values");
        }
        return v;
    }

    /** The output shape (N, C, spatial...) for an input of rank {@code rank}. */
    int[] outputShape(int n, int channels, int rank) {
        return rank == 3 ? new int[] {n, channels, (int) ow} : new int[] {n, channels, (int) oh, (int) ow};
    }

    @Override
    public String toString() {
        return "c=" + c + " in=" + h + "x" + w + " k=" + kh + "x" + kw + " s=" + sh + "," + sw + " d=" + dh + "," + dw
                + " pads=" + pt + "," + pl + "," + pb + "," + pr + " out=" + oh + "x" + ow;
    }
}
