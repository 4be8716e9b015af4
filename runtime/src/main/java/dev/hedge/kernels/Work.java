package dev.hedge.kernels;

import dev.hedge.ir.Node;
import dev.hedge.kernels.PrepareContext.ValueType;

/**
 * Units of work of a node, the quantity {@link KernelCost}s are per: multiply-adds for the convolutions
 * and matrix products (dense, whatever their dtype), elements of the largest input otherwise. An estimate
 * for choosing kernels, not a validation: malformed shapes give {@link Double#NaN}, as do unknown ones.
 */
public final class Work {

    private Work() {
    }

    public static double of(Node node, java.util.List<ValueType> inputs) {
        try {
            switch (node.op()) {
                case Conv: case ConvInteger: return conv(node, shape(inputs, 0), shape(inputs, 1));
                case QLinearConv: return conv(node, shape(inputs, 0), shape(inputs, 3));
                case ConvTranspose: return convTranspose(node, shape(inputs, 0), shape(inputs, 1));
                case Gemm: return gemm(node, shape(inputs, 0), shape(inputs, 1));
                case MatMul: case MatMulInteger: return matmul(shape(inputs, 0), shape(inputs, 1));
                case QLinearMatMul: return matmul(shape(inputs, 0), shape(inputs, 3));
                default: return largestInput(inputs);
            }
        } catch (RuntimeException e) {
            return Double.NaN;
        }
    }

    /**
     * Weight elements a linear-algebra node reads per call (its second operand: the weights of a layer), 0 for
     * the other ops; the quantity a {@link KernelCost}'s weight term is per. NaN when the shape is unknown.
     */
    public static double weights(Node node, java.util.List<ValueType> inputs) {
        try {
            switch (node.op()) {
                case Conv: case ConvInteger: case ConvTranspose: case Gemm: case MatMul: case MatMulInteger:
                    return elements(shape(inputs, 1));
                case QLinearConv: case QLinearMatMul:
                    return elements(shape(inputs, 3));
                default:
                    return 0;
            }
        } catch (RuntimeException e) {
            return Double.NaN;
        }
    }

    /**
     * Rows of a linear-algebra node's product (output pixels of a convolution, rows of a Gemm or MatMul, over the
     * batch): its work over its weights; 0 for the other ops. The quantity a {@link KernelCost}'s row term is per.
     */
    public static double rows(Node node, java.util.List<ValueType> inputs) {
        double w = weights(node, inputs);
        return w > 0 ? of(node, inputs) / w : 0;
    }

    private static double elements(int[] shape) {
        double n = 1;
        for (int d : shape) {
            n *= d;
        }
        return n;
    }

    private static int[] shape(java.util.List<ValueType> inputs, int i) {
        ValueType t = i < inputs.size() ? inputs.get(i) : null;
        if (t == null || t.shape() == null) {
            throw new IllegalArgumentException("unknown shape");
        }
        return t.shape();
    }

    private static double largestInput(java.util.List<ValueType> inputs) {
        double max = 0;
        for (ValueType t : inputs) {
            if (t != null) {
                if (t.shape() == null) {
                    return Double.NaN;
                }
                double n = 1;
                for (int d : t.shape()) {
                    n *= d;
                }
                max = Math.max(max, n);
            }
        }
        return max;
    }

    /** Output spatial size from the conv attributes (pads, strides, dilations, auto_pad). */
    static double conv(Node node, int[] x, int[] w) {
        int r = x.length - 2;
        long[] strides = node.hasAttr("strides") ? node.intsAttr("strides") : null;
        long[] dil = node.hasAttr("dilations") ? node.intsAttr("dilations") : null;
        long[] pads = node.hasAttr("pads") ? node.intsAttr("pads") : null;
        String auto = node.hasAttr("auto_pad") ? node.stringAttr("auto_pad") : "NOTSET";
        double out = 1;
        double kernel = 1;
        for (int d = 0; d < r; d++) {
            long s = strides != null ? strides[d] : 1;
            long dl = dil != null ? dil[d] : 1;
            long k = w[2 + d];
            long in = x[2 + d];
            long o;
            if (auto.startsWith("SAME")) {
                o = (in + s - 1) / s;
            } else {
                long p = pads != null ? pads[d] + pads[d + r] : 0;
                o = Math.max(0, (in + p - dl * (k - 1) - 1) / s + 1);
            }
            out *= o;
            kernel *= k;
        }
        // weights are [M, C/group, k...]: each output element takes C/group * kernel multiply-adds
        return (double) x[0] * w[0] * out * w[1] * kernel;
    }

    private static double convTranspose(Node node, int[] x, int[] w) {
        double in = 1;
        double kernel = 1;
        for (int d = 2; d < x.length; d++) {
            in *= x[d];
            kernel *= w[d];
        }
        // weights are [C, M/group, k...]: each input element feeds M/group * kernel outputs
        return (double) x[0] * x[1] * in * w[1] * kernel;
    }

    private static double gemm(Node node, int[] a, int[] b) {
        boolean ta = node.intAttr("transA") != 0;
        boolean tb = node.intAttr("transB") != 0;
        double m = ta ? a[1] : a[0];
        double k = ta ? a[0] : a[1];
        double n = tb ? b[0] : b[1];
        return m * n * k;
    }

    private static double matmul(int[] a, int[] b) {
        double m = a.length == 1 ? 1 : a[a.length - 2];
        double k = a[a.length - 1];
        double n = b.length == 1 ? 1 : b[b.length - 1];
        double batch = 1;
        int ra = Math.max(0, a.length - 2);
        int rb = Math.max(0, b.length - 2);
        for (int i = 0; i < Math.max(ra, rb); i++) {
            int da = i < ra ? a[ra - 1 - i] : 1;
            int db = i < rb ? b[rb - 1 - i] : 1;
            batch *= Math.max(da, db);
        }
        return batch * m * n * k;
    }
}
