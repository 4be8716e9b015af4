package dev.hedge.kernels.ref.linalg;

import dev.hedge.ir.Node;
import dev.hedge.runtime.UnsupportedModelException;
import java.util.Arrays;

/**
 * The spatial geometry of a Conv, ConvTranspose or pooling node: input and output sizes, kernel, strides,
 * dilations and resolved pads, normalised to three spatial dimensions (a 1-D or 2-D op gets leading unit
 * dimensions: size 1, kernel 1, stride 1, dilation 1, no padding) so that one loop nest serves all ranks.
 * Index 0 is depth, 1 height, 2 width; for a rank-r op its r dimensions are the last r of these.
 */
final class ConvGeometry {

    static final int DIMS = 3;

    /** Number of spatial dimensions of the op (1 to 3). */
    final int rank;
    final int[] in = filled(1);
    final int[] out = filled(1);
    final int[] kernel = filled(1);
    final int[] stride = filled(1);
    final int[] dilation = filled(1);
    final int[] padBegin = new int[DIMS];
    final int[] padEnd = new int[DIMS];

    private ConvGeometry(int rank) {
        this.rank = rank;
    }

    private static int[] filled(int v) {
        int[] a = new int[DIMS];
        Arrays.fill(a, v);
        return a;
    }

    int inSize() {
        return in[0] * in[1] * in[2];
    }

    int outSize() {
        return out[0] * out[1] * out[2];
    }

    int kernelSize() {
        return kernel[0] * kernel[1] * kernel[2];
    }

    /** Extent of the dilated kernel along dimension d. */
    int span(int d) {
        return (kernel[d] - 1) * dilation[d] + 1;
    }

    /** The op's output spatial shape (its own rank, not normalised). */
    int[] outShape() {
        return Arrays.copyOfRange(out, DIMS - rank, DIMS);
    }

    boolean isPointwise() {
        for (int d = 0; d < DIMS; d++) {
            if (kernel[d] != 1 || stride[d] != 1 || padBegin[d] != 0 || padEnd[d] != 0) {
                return false;
            }
        }
        return true;
    }

    /** Conv: output from input, kernel, strides, dilations and pads or auto_pad. */
    static ConvGeometry conv(Node node, int[] inSpatial, int[] kernelSpatial) {
        ConvGeometry g = common(node, inSpatial, kernelSpatial);
        String autoPad = autoPad(node);
        for (int d = DIMS - g.rank; d < DIMS; d++) {
            int span = g.span(d);
            if (autoPad.equals("SAME_UPPER") || autoPad.equals("SAME_LOWER")) {
                g.same(d, autoPad);
            } else {
                if (autoPad.equals("VALID")) {
                    g.padBegin[d] = 0;
                    g.padEnd[d] = 0;
                }
                int padded = g.in[d] + g.padBegin[d] + g.padEnd[d];
                if (padded < span) {
                    throw new IllegalArgumentException("kernel extent " + span
                            + " exceeds padded input size " + padded + " in spatial dimension " + g.opDim(d));
                }
                g.out[d] = (padded - span) / g.stride[d] + 1;
            }
        }
        return g;
    }

    /**
     * MaxPool/AveragePool: as Conv, plus ceil_mode, under which a last window that would start in the
     * right padding is dropped.
     */
    static ConvGeometry pool(Node node, int[] inSpatial, int[] kernelSpatial, boolean ceilMode) {
        ConvGeometry g = common(node, inSpatial, kernelSpatial);
        String autoPad = autoPad(node);
        for (int d = DIMS - g.rank; d < DIMS; d++) {
            int span = g.span(d);
            if (autoPad.equals("SAME_UPPER") || autoPad.equals("SAME_LOWER")) {
                g.same(d, autoPad);
                continue;
            }
            if (autoPad.equals("VALID")) {
                g.padBegin[d] = 0;
                g.padEnd[d] = 0;
            }
            int padded = g.in[d] + g.padBegin[d] + g.padEnd[d];
            if (padded < span) {
                throw new IllegalArgumentException("kernel extent " + span
                        + " exceeds padded input size " + padded + " in spatial dimension " + g.opDim(d));
            }
            int s = g.stride[d];
            if (ceilMode) {
                int o = (padded - span + s - 1) / s + 1;
                if ((o - 1) * s >= g.in[d] + g.padBegin[d]) {
                    o--;
                }
                g.out[d] = o;
            } else {
                g.out[d] = (padded - span) / s + 1;
            }
        }
        return g;
    }

    /**
     * ConvTranspose: output from output_shape (pads then derived) or from pads/auto_pad and output_padding.
     */
    static ConvGeometry convTranspose(Node node, int[] inSpatial, int[] kernelSpatial) {
        ConvGeometry g = common(node, inSpatial, kernelSpatial);
        String autoPad = autoPad(node);
        int r = g.rank;
        int[] outPad = ints(node, "output_padding", r, 0, 0);
        long[] outShapeAttr = node.intsAttr("output_shape");
        int[] outShape = null;
        if (outShapeAttr != null) {
            if (outShapeAttr.length != r && outShapeAttr.length != r + 2) {
                throw new IllegalArgumentException("output_shape " + Arrays.toString(outShapeAttr)
                        + " has " + outShapeAttr.length + " values for " + r + " spatial dimensions");
            }
            outShape = new int[r];
            for (int i = 0; i < r; i++) {
                long v = outShapeAttr[outShapeAttr.length - r + i];
                if (v < 1 || v > Integer.MAX_VALUE) {
                    throw new IllegalArgumentException("output_shape "
                            + Arrays.toString(outShapeAttr) + " has a non-positive or too large dimension");
                }
                outShape[i] = (int) v;
            }
        }
        boolean same = autoPad.equals("SAME_UPPER") || autoPad.equals("SAME_LOWER");
        for (int i = 0; i < r; i++) {
            int d = DIMS - r + i;
            int full = g.stride[d] * (g.in[d] - 1) + outPad[i] + g.span(d);
            if (outShape != null || same) {
                int target = outShape != null ? outShape[i] : g.in[d] * g.stride[d];
                int total = full - target;
                if (autoPad.equals("SAME_UPPER")) {
                    g.padBegin[d] = Math.floorDiv(total, 2);
                    g.padEnd[d] = total - g.padBegin[d];
                } else {
                    g.padEnd[d] = Math.floorDiv(total, 2);
                    g.padBegin[d] = total - g.padEnd[d];
                }
                g.out[d] = target;
            } else {
                if (autoPad.equals("VALID")) {
                    g.padBegin[d] = 0;
                    g.padEnd[d] = 0;
                }
                g.out[d] = full - g.padBegin[d] - g.padEnd[d];
                if (g.out[d] < 1) {
                    throw new IllegalArgumentException("pads " + g.padBegin[d] + "+" + g.padEnd[d]
                            + " leave no output in spatial dimension " + i);
                }
            }
        }
        return g;
    }

    /** SAME_UPPER/SAME_LOWER: output ceil(in / stride), total padding split with the odd one at the end/start. */
    private void same(int d, String autoPad) {
        int s = stride[d];
        out[d] = (in[d] + s - 1) / s;
        int total = Math.max(0, (out[d] - 1) * s + span(d) - in[d]);
        if (autoPad.equals("SAME_UPPER")) {
            padBegin[d] = total / 2;
        } else {
            padBegin[d] = total - total / 2;
        }
        padEnd[d] = total - padBegin[d];
    }

    private int opDim(int d) {
        return d - (DIMS - rank);
    }

    private static String autoPad(Node node) {
        String a = node.stringAttr("auto_pad");
        if (a == null || a.isEmpty()) {
            return "NOTSET";
        }
        switch (a) {
            case "NOTSET": case "SAME_UPPER": case "SAME_LOWER": case "VALID":
                return a;
            default:
                throw new IllegalArgumentException("auto_pad '" + a
                        + "' is not one of NOTSET, SAME_UPPER, SAME_LOWER, VALID");
        }
    }

    private static ConvGeometry common(Node node, int[] inSpatial, int[] kernelSpatial) {
        int r = inSpatial.length;
        if (r < 1) {
            throw new IllegalArgumentException("input needs at least one spatial dimension");
        }
        if (r > DIMS) {
            throw new UnsupportedModelException(node.describe() + ": " + r
                    + " spatial dimensions; at most 3 are supported");
        }
        ConvGeometry g = new ConvGeometry(r);
        int[] strides = ints(node, "strides", r, 1, 1);
        int[] dilations = ints(node, "dilations", r, 1, 1);
        int[] pads = ints(node, "pads", 2 * r, 0, 0);
        for (int i = 0; i < r; i++) {
            int d = DIMS - r + i;
            g.in[d] = inSpatial[i];
            g.kernel[d] = kernelSpatial[i];
            if (kernelSpatial[i] < 1) {
                throw new IllegalArgumentException("kernel shape " + Arrays.toString(kernelSpatial)
                        + " has a dimension below 1");
            }
            g.stride[d] = strides[i];
            g.dilation[d] = dilations[i];
            g.padBegin[d] = pads[i];
            g.padEnd[d] = pads[r + i];
        }
        return g;
    }

    /** An INTS attribute of exactly {@code n} values, each at least {@code min}, or {@code dflt} when absent. */
    private static int[] ints(Node node, String name, int n, int dflt, int min) {
        long[] v = node.intsAttr(name);
        int[] r = new int[n];
        if (v == null) {
            Arrays.fill(r, dflt);
            return r;
        }
        if (v.length != n) {
            throw new IllegalArgumentException("" + name + " " + Arrays.toString(v) + " has "
                    + v.length + " values, expected " + n);
        }
        for (int i = 0; i < n; i++) {
            if (v[i] < min || v[i] > Integer.MAX_VALUE) {
                throw new IllegalArgumentException("" + name + " " + Arrays.toString(v)
                        + " has a value below " + min + " or too large");
            }
            r[i] = (int) v[i];
        }
        return r;
    }

    /** The kernel's spatial shape: kernel_shape when given (checked against the weights), else the weights'. */
    static int[] kernelShape(Node node, int[] weightSpatial) {
        long[] ks = node.intsAttr("kernel_shape");
        if (ks == null) {
            return weightSpatial.clone();
        }
        if (ks.length != weightSpatial.length) {
            throw new IllegalArgumentException("kernel_shape " + Arrays.toString(ks)
                    + " does not match weight spatial shape " + Arrays.toString(weightSpatial));
        }
        for (int i = 0; i < ks.length; i++) {
            if (ks[i] != weightSpatial[i]) {
                throw new IllegalArgumentException("kernel_shape " + Arrays.toString(ks)
                        + " does not match weight spatial shape " + Arrays.toString(weightSpatial));
            }
        }
        return weightSpatial.clone();
    }

    /** Pooling: kernel_shape (required) has one value per spatial dimension. */
    static int[] poolKernel(Node node, int spatialRank) {
        // Required by the op table: Node throws when it is absent.
        long[] ks = node.intsAttr("kernel_shape");
        if (ks.length != spatialRank) {
            throw new IllegalArgumentException("kernel_shape " + Arrays.toString(ks) + " has "
                    + ks.length + " values for an input with " + spatialRank + " spatial dimensions");
        }
        int[] k = new int[ks.length];
        for (int i = 0; i < ks.length; i++) {
            if (ks[i] < 1 || ks[i] > Integer.MAX_VALUE) {
                throw new IllegalArgumentException("kernel_shape " + Arrays.toString(ks)
                        + " has a value below 1");
            }
            k[i] = (int) ks[i];
        }
        return k;
    }
}
