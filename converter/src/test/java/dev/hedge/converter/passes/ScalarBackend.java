package dev.hedge.converter.passes;

import dev.hedge.ir.Node;
import dev.hedge.kernels.Backend;
import dev.hedge.kernels.Kernel;
import dev.hedge.kernels.PrepareContext;
import dev.hedge.kernels.RunContext;
import dev.hedge.kernels.util.FusedActivation;
import dev.hedge.runtime.DType;
import dev.hedge.runtime.Tensor;
import java.util.Arrays;
import java.util.List;

/**
 * Plain scalar float32 kernels for the ops the pass tests use, written directly from the ONNX operator
 * definitions: an independent reference so the passes' numerical tests do not depend on the runtime's
 * kernels (which are tested on their own). Only the forms the tests build are supported (4-D NCHW
 * convolutions, 2-D Gemm, MatMul with a 2-D right side); anything else is refused.
 */
public final class ScalarBackend implements Backend {

    public static final ScalarBackend INSTANCE = new ScalarBackend();

    @Override
    public String name() {
        return "scalar-test";
    }

    @Override
    public Kernel create(Node node, List<PrepareContext.ValueType> inputs) {
        switch (node.op()) {
            case Conv: return new Conv(node, false);
            case ConvTranspose: return new Conv(node, true);
            case Gemm: return new Gemm(node);
            case MatMul: return new MatMul(node);
            case BatchNormalization: return new BatchNorm(node);
            case Relu: case LeakyRelu: case Sigmoid: case HardSigmoid: case HardSwish: case Tanh: case Neg:
            case Identity: case Clip:
                return new Unary(node);
            case Dropout: return new Dropout(node);
            case Add: case Mul: return new Binary(node);
            case Transpose: return new Transpose(node);
            case Shape: return new Shape(node);
            case Reshape: return new Reshape();
            case ConstantOfShape: return new ConstantOfShape(node);
            default: return null;
        }
    }

    private abstract static class Simple implements Kernel {
        @Override
        public void prepare(PrepareContext ctx) {
            for (int i = 0; i < ctx.inputCount(); i++) {
                if (ctx.hasInput(i) && ctx.inputType(i) != DType.FLOAT32 && !acceptsNonFloat(i)) {
                    throw new IllegalArgumentException("scalar test kernels take float32 only");
                }
            }
            prepareFloat(ctx);
        }

        boolean acceptsNonFloat(int input) {
            return false;
        }

        abstract void prepareFloat(PrepareContext ctx);
    }

    private static final class Unary extends Simple {
        private final Node node;

        Unary(Node node) {
            this.node = node;
        }

        @Override
        void prepareFloat(PrepareContext ctx) {
            ctx.setOutput(0, DType.FLOAT32, ctx.inputShape(0));
        }

        @Override
        public void run(RunContext ctx) {
            Tensor x = ctx.input(0);
            Tensor y = ctx.output(0);
            float lo = node.hasInput(1) ? ctx.input(1).getFloat(0) : Float.NEGATIVE_INFINITY;
            float hi = node.hasInput(2) ? ctx.input(2).getFloat(0) : Float.POSITIVE_INFINITY;
            for (int i = 0; i < x.elementCount(); i++) {
                double v = x.getFloat(i);
                double r;
                switch (node.op()) {
                    case Relu: r = Math.max(v, 0); break;
                    case LeakyRelu: r = v < 0 ? node.floatAttr("alpha") * v : v; break;
                    case Sigmoid: r = 1 / (1 + Math.exp(-v)); break;
                    case HardSigmoid:
                        r = Math.max(0, Math.min(1, node.floatAttr("alpha") * v + node.floatAttr("beta")));
                        break;
                    case HardSwish: r = v * Math.max(0, Math.min(1, v / 6 + 0.5)); break;
                    case Tanh: r = Math.tanh(v); break;
                    case Neg: r = -v; break;
                    case Clip: r = Math.min(Math.max(v, lo), hi); break;
                    default: r = v;
                }
                y.setFloat(i, (float) r);
            }
        }
    }

    private static final class Dropout extends Simple {
        private final Node node;

        Dropout(Node node) {
            this.node = node;
        }

        @Override
        boolean acceptsNonFloat(int input) {
            return input == 2;
        }

        @Override
        void prepareFloat(PrepareContext ctx) {
            ctx.setOutput(0, DType.FLOAT32, ctx.inputShape(0));
            ctx.setOutput(1, DType.BOOL, ctx.inputShape(0));
        }

        @Override
        public void run(RunContext ctx) {
            Tensor x = ctx.input(0);
            boolean training = node.hasInput(2) && ctx.input(2).getLong(0) != 0;
            if (training) {
                throw new IllegalStateException("the test backend runs Dropout in inference mode only");
            }
            for (int i = 0; i < x.elementCount(); i++) {
                ctx.output(0).setFloat(i, x.getFloat(i));
                if (!node.output(1).isEmpty()) {
                    ctx.output(1).setLong(i, 1);
                }
            }
        }
    }

    /** Numpy broadcasting. */
    private static final class Binary extends Simple {
        private final Node node;

        Binary(Node node) {
            this.node = node;
        }

        @Override
        void prepareFloat(PrepareContext ctx) {
            int[] a = ctx.inputShape(0);
            int[] b = ctx.inputShape(1);
            int r = Math.max(a.length, b.length);
            int[] o = new int[r];
            for (int i = 0; i < r; i++) {
                int da = i - (r - a.length) >= 0 ? a[i - (r - a.length)] : 1;
                int db = i - (r - b.length) >= 0 ? b[i - (r - b.length)] : 1;
                if (da != db && da != 1 && db != 1) {
                    throw new IllegalArgumentException("cannot broadcast " + Arrays.toString(a) + " and "
                            + Arrays.toString(b));
                }
                o[i] = Math.max(da, db);
            }
            ctx.setOutput(0, DType.FLOAT32, o);
        }

        @Override
        public void run(RunContext ctx) {
            Tensor a = ctx.input(0);
            Tensor b = ctx.input(1);
            Tensor y = ctx.output(0);
            int[] o = y.shape();
            for (int i = 0; i < y.elementCount(); i++) {
                float x1 = a.getFloat(broadcastIndex(i, o, a.shape()));
                float x2 = b.getFloat(broadcastIndex(i, o, b.shape()));
                y.setFloat(i, node.op() == dev.hedge.ops.Op.Add ? x1 + x2 : x1 * x2);
            }
        }
    }

    static int broadcastIndex(int flat, int[] out, int[] in) {
        int idx = 0;
        int stride = 1;
        int rem = flat;
        int[] coords = new int[out.length];
        for (int d = out.length - 1; d >= 0; d--) {
            coords[d] = rem % out[d];
            rem /= out[d];
        }
        for (int d = in.length - 1; d >= 0; d--) {
            int c = in[d] == 1 ? 0 : coords[d + out.length - in.length];
            idx += c * stride;
            stride *= in[d];
        }
        return idx;
    }

    /** Conv / ConvTranspose on N x C x H x W, NOTSET padding, no output_padding. */
    private static final class Conv extends Simple {
        private final Node node;
        private final boolean transpose;
        private int group;
        private int[] pads;
        private int[] strides;
        private int[] dilations;

        Conv(Node node, boolean transpose) {
            this.node = node;
            this.transpose = transpose;
        }

        private static int[] ints(long[] v, int n, int def) {
            int[] r = new int[n];
            Arrays.fill(r, def);
            if (v != null) {
                for (int i = 0; i < n; i++) {
                    r[i] = (int) v[i];
                }
            }
            return r;
        }

        @Override
        void prepareFloat(PrepareContext ctx) {
            int[] x = ctx.inputShape(0);
            int[] w = ctx.inputShape(1);
            if (x.length != 4 || w.length != 4 || !node.stringAttr("auto_pad").equals("NOTSET")
                    || node.hasAttr("output_padding") || node.hasAttr("output_shape")) {
                throw new IllegalArgumentException("scalar test Conv supports 4-D explicit padding only");
            }
            group = (int) node.intAttr("group");
            pads = ints(node.intsAttr("pads"), 4, 0);
            strides = ints(node.intsAttr("strides"), 2, 1);
            dilations = ints(node.intsAttr("dilations"), 2, 1);
            int[] out = new int[4];
            out[0] = x[0];
            out[1] = transpose ? w[1] * group : w[0];
            for (int d = 0; d < 2; d++) {
                int k = (w[2 + d] - 1) * dilations[d] + 1;
                out[2 + d] = transpose ? (x[2 + d] - 1) * strides[d] + k - pads[d] - pads[2 + d]
                        : (x[2 + d] + pads[d] + pads[2 + d] - k) / strides[d] + 1;
            }
            ctx.setOutput(0, DType.FLOAT32, out);
        }

        @Override
        public void run(RunContext ctx) {
            Tensor x = ctx.input(0);
            Tensor w = ctx.input(1);
            Tensor y = ctx.output(0);
            int[] xs = x.shape();
            int[] ws = w.shape();
            int[] ys = y.shape();
            double[] acc = new double[y.elementCount()];
            for (int i = 0; i < acc.length; i++) {
                int oc = (i / (ys[2] * ys[3])) % ys[1];
                acc[i] = node.hasInput(2) ? ctx.input(2).getFloat(oc) : 0;
            }
            int cin = xs[1];
            int cinPerGroup = cin / group;
            int coutPerGroup = ys[1] / group;
            for (int n = 0; n < xs[0]; n++) {
                if (!transpose) {
                    for (int oc = 0; oc < ys[1]; oc++) {
                        int g = oc / coutPerGroup;
                        for (int oh = 0; oh < ys[2]; oh++) {
                            for (int ow = 0; ow < ys[3]; ow++) {
                                double s = 0;
                                for (int c = 0; c < cinPerGroup; c++) {
                                    for (int kh = 0; kh < ws[2]; kh++) {
                                        for (int kw = 0; kw < ws[3]; kw++) {
                                            int ih = oh * strides[0] - pads[0] + kh * dilations[0];
                                            int iw = ow * strides[1] - pads[1] + kw * dilations[1];
                                            if (ih < 0 || iw < 0 || ih >= xs[2] || iw >= xs[3]) {
                                                continue;
                                            }
                                            s += x.getFloat(((n * cin + g * cinPerGroup + c) * xs[2] + ih) * xs[3] + iw)
                                                    * w.getFloat(((oc * cinPerGroup + c) * ws[2] + kh) * ws[3] + kw);
                                        }
                                    }
                                }
                                acc[((n * ys[1] + oc) * ys[2] + oh) * ys[3] + ow] += s;
                            }
                        }
                    }
                } else {
                    for (int c = 0; c < cin; c++) {
                        int g = c / cinPerGroup;
                        for (int ih = 0; ih < xs[2]; ih++) {
                            for (int iw = 0; iw < xs[3]; iw++) {
                                double xv = x.getFloat(((n * cin + c) * xs[2] + ih) * xs[3] + iw);
                                for (int j = 0; j < ws[1]; j++) {
                                    int oc = g * coutPerGroup + j;
                                    for (int kh = 0; kh < ws[2]; kh++) {
                                        for (int kw = 0; kw < ws[3]; kw++) {
                                            int oh = ih * strides[0] - pads[0] + kh * dilations[0];
                                            int ow = iw * strides[1] - pads[1] + kw * dilations[1];
                                            if (oh < 0 || ow < 0 || oh >= ys[2] || ow >= ys[3]) {
                                                continue;
                                            }
                                            acc[((n * ys[1] + oc) * ys[2] + oh) * ys[3] + ow] +=
                                                    xv * w.getFloat(((c * ws[1] + j) * ws[2] + kh) * ws[3] + kw);
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            FusedActivation act = FusedActivation.of(node);
            for (int i = 0; i < acc.length; i++) {
                y.setFloat(i, act.apply((float) acc[i]));
            }
        }
    }

    private static final class Gemm extends Simple {
        private final Node node;

        Gemm(Node node) {
            this.node = node;
        }

        @Override
        void prepareFloat(PrepareContext ctx) {
            int[] a = ctx.inputShape(0);
            int[] b = ctx.inputShape(1);
            int m = node.intAttr("transA") != 0 ? a[1] : a[0];
            int n = node.intAttr("transB") != 0 ? b[0] : b[1];
            ctx.setOutput(0, DType.FLOAT32, m, n);
        }

        @Override
        public void run(RunContext ctx) {
            Tensor a = ctx.input(0);
            Tensor b = ctx.input(1);
            Tensor y = ctx.output(0);
            boolean ta = node.intAttr("transA") != 0;
            boolean tb = node.intAttr("transB") != 0;
            int m = y.dim(0);
            int n = y.dim(1);
            int k = ta ? a.dim(0) : a.dim(1);
            FusedActivation act = FusedActivation.of(node);
            for (int i = 0; i < m; i++) {
                for (int j = 0; j < n; j++) {
                    double s = 0;
                    for (int p = 0; p < k; p++) {
                        double av = ta ? a.getFloat(p * m + i) : a.getFloat(i * k + p);
                        double bv = tb ? b.getFloat(j * k + p) : b.getFloat(p * n + j);
                        s += av * bv;
                    }
                    s *= node.floatAttr("alpha");
                    if (node.hasInput(2)) {
                        Tensor c = ctx.input(2);
                        int at = broadcastIndex(i * n + j, new int[] {m, n}, c.shape());
                        s += node.floatAttr("beta") * c.getFloat(at);
                    }
                    y.setFloat(i * n + j, act.apply((float) s));
                }
            }
        }
    }

    /** A [..., M, K] x B [K, N]. */
    private static final class MatMul extends Simple {
        private final Node node;

        MatMul(Node node) {
            this.node = node;
        }

        @Override
        void prepareFloat(PrepareContext ctx) {
            int[] a = ctx.inputShape(0);
            int[] b = ctx.inputShape(1);
            if (b.length != 2 || a.length < 2 || a[a.length - 1] != b[0]) {
                throw new IllegalArgumentException("scalar test MatMul needs A[..., M, K] x B[K, N]");
            }
            int[] o = a.clone();
            o[o.length - 1] = b[1];
            ctx.setOutput(0, DType.FLOAT32, o);
        }

        @Override
        public void run(RunContext ctx) {
            Tensor a = ctx.input(0);
            Tensor b = ctx.input(1);
            Tensor y = ctx.output(0);
            int k = b.dim(0);
            int n = b.dim(1);
            int rows = a.elementCount() / k;
            FusedActivation act = FusedActivation.of(node);
            for (int r = 0; r < rows; r++) {
                for (int j = 0; j < n; j++) {
                    double s = 0;
                    for (int p = 0; p < k; p++) {
                        s += (double) a.getFloat(r * k + p) * b.getFloat(p * n + j);
                    }
                    y.setFloat(r * n + j, act.apply((float) s));
                }
            }
        }
    }

    private static final class BatchNorm extends Simple {
        private final Node node;

        BatchNorm(Node node) {
            this.node = node;
        }

        @Override
        void prepareFloat(PrepareContext ctx) {
            ctx.setOutput(0, DType.FLOAT32, ctx.inputShape(0));
        }

        @Override
        public void run(RunContext ctx) {
            Tensor x = ctx.input(0);
            Tensor y = ctx.output(0);
            int c = x.dim(1);
            int inner = x.elementCount() / (x.dim(0) * c);
            double eps = node.floatAttr("epsilon");
            for (int i = 0; i < x.elementCount(); i++) {
                int ch = (i / inner) % c;
                double v = (x.getFloat(i) - ctx.input(3).getFloat(ch)) / Math.sqrt(ctx.input(4).getFloat(ch) + eps);
                y.setFloat(i, (float) (v * ctx.input(1).getFloat(ch) + ctx.input(2).getFloat(ch)));
            }
        }
    }

    private static final class Transpose extends Simple {
        private final Node node;
        private int[] perm;

        Transpose(Node node) {
            this.node = node;
        }

        @Override
        void prepareFloat(PrepareContext ctx) {
            int[] s = ctx.inputShape(0);
            long[] p = node.intsAttr("perm");
            perm = new int[s.length];
            int[] o = new int[s.length];
            for (int i = 0; i < s.length; i++) {
                perm[i] = p == null ? s.length - 1 - i : (int) p[i];
                o[i] = s[perm[i]];
            }
            ctx.setOutput(0, DType.FLOAT32, o);
        }

        @Override
        public void run(RunContext ctx) {
            Tensor x = ctx.input(0);
            Tensor y = ctx.output(0);
            int[] xs = x.shape();
            int[] ys = y.shape();
            for (int i = 0; i < y.elementCount(); i++) {
                int rem = i;
                int[] oc = new int[ys.length];
                for (int d = ys.length - 1; d >= 0; d--) {
                    oc[d] = rem % ys[d];
                    rem /= ys[d];
                }
                int[] ic = new int[xs.length];
                for (int d = 0; d < ys.length; d++) {
                    ic[perm[d]] = oc[d];
                }
                int idx = 0;
                for (int d = 0; d < xs.length; d++) {
                    idx = idx * xs[d] + ic[d];
                }
                y.setFloat(i, x.getFloat(idx));
            }
        }
    }

    private static final class Shape implements Kernel {
        private final Node node;

        Shape(Node node) {
            this.node = node;
        }

        @Override
        public void prepare(PrepareContext ctx) {
            if (node.hasAttr("start") || node.hasAttr("end")) {
                throw new IllegalArgumentException("scalar test Shape takes no start/end");
            }
            int[] s = ctx.inputShape(0);
            long[] v = new long[s.length];
            for (int i = 0; i < s.length; i++) {
                v[i] = s[i];
            }
            ctx.setOutputValue(0, Tensor.of(v, v.length));
        }

        @Override
        public void run(RunContext ctx) {
            throw new IllegalStateException("Shape is computed while planning");
        }
    }

    /** Reshape with 0 (copy) and -1 (infer), allowzero 0. */
    private static final class Reshape implements Kernel {
        @Override
        public void prepare(PrepareContext ctx) {
            int[] in = ctx.inputShape(0);
            long[] s = ctx.requireValue(1).toLongArray();
            int[] o = new int[s.length];
            int infer = -1;
            long known = 1;
            for (int i = 0; i < s.length; i++) {
                o[i] = s[i] == 0 ? in[i] : (int) s[i];
                if (s[i] == -1) {
                    infer = i;
                } else {
                    known *= o[i];
                }
            }
            if (infer >= 0) {
                o[infer] = (int) (Tensor.elementCount(in) / known);
            }
            if (Tensor.elementCount(o) != Tensor.elementCount(in)) {
                throw new IllegalArgumentException("cannot reshape " + Arrays.toString(in) + " to "
                        + Arrays.toString(o));
            }
            ctx.setOutput(0, ctx.inputType(0), o);
        }

        @Override
        public void run(RunContext ctx) {
            ctx.input(0).copyTo(ctx.output(0));
        }
    }

    private static final class ConstantOfShape implements Kernel {
        private final Node node;

        ConstantOfShape(Node node) {
            this.node = node;
        }

        @Override
        public void prepare(PrepareContext ctx) {
            long[] s = ctx.requireValue(0).toLongArray();
            int[] o = new int[s.length];
            for (int i = 0; i < s.length; i++) {
                o[i] = (int) s[i];
            }
            ctx.setOutput(0, DType.FLOAT32, o);
        }

        @Override
        public void run(RunContext ctx) {
            Tensor v = node.tensorAttr("value");
            float f = v == null ? 0f : v.getFloat(0);
            Tensor y = ctx.output(0);
            for (int i = 0; i < y.elementCount(); i++) {
                y.setFloat(i, f);
            }
        }
    }
}
