package dev.hedge.kernels.ref.linalg;

import static dev.hedge.kernels.ref.linalg.LinalgTesting.ACTIVATIONS;
import static dev.hedge.kernels.ref.linalg.LinalgTesting.activate;
import static dev.hedge.kernels.ref.linalg.LinalgTesting.addActivation;
import static dev.hedge.kernels.ref.linalg.LinalgTesting.assertClose;
import static dev.hedge.kernels.ref.linalg.LinalgTesting.assertShape;
import static dev.hedge.kernels.ref.linalg.LinalgTesting.attrs;
import static dev.hedge.kernels.ref.linalg.LinalgTesting.next;
import static dev.hedge.kernels.ref.linalg.LinalgTesting.offset;
import static dev.hedge.kernels.ref.linalg.LinalgTesting.product;
import static dev.hedge.kernels.ref.linalg.LinalgTesting.randomFloats;
import static dev.hedge.kernels.ref.linalg.LinalgTesting.roundTo;
import static dev.hedge.kernels.ref.linalg.LinalgTesting.tensor;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.hedge.ops.Op;
import dev.hedge.runtime.DType;
import dev.hedge.runtime.HedgeException;
import dev.hedge.runtime.Tensor;
import dev.hedge.runtime.UnsupportedModelException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;

/** Conv against direct convolution loops in double, over random geometry, groups and options. */
class ConvKernelTest {

    static final String[] AUTO_PADS = {"NOTSET", "SAME_UPPER", "SAME_LOWER", "VALID"};

    /** A random Conv problem and its reference result. */
    static final class Case {
        final int r;
        final int batch;
        final int groups;
        final int cg;
        final int mg;
        final int[] kernel;
        final int[] strides;
        final int[] dilations;
        final int[] pads;
        final String autoPad;
        final int[] in;
        final boolean bias;
        final String[] act;
        final float[] x;
        final float[] w;
        final float[] b;

        Case(Random rnd, boolean depthwise, boolean pointwise) {
            r = 1 + rnd.nextInt(3);
            batch = 1 + rnd.nextInt(2);
            if (depthwise) {
                groups = 2 + rnd.nextInt(4);
                cg = 1;
                mg = 1 + rnd.nextInt(2);
            } else {
                groups = 1 + rnd.nextInt(3);
                cg = 1 + rnd.nextInt(4);
                mg = 1 + rnd.nextInt(4);
            }
            kernel = new int[r];
            strides = new int[r];
            dilations = new int[r];
            pads = new int[2 * r];
            in = new int[r];
            autoPad = pointwise ? "NOTSET" : AUTO_PADS[rnd.nextInt(AUTO_PADS.length)];
            for (int i = 0; i < r; i++) {
                kernel[i] = pointwise ? 1 : 1 + rnd.nextInt(r == 3 ? 2 : 3);
                strides[i] = pointwise ? 1 : 1 + rnd.nextInt(3);
                dilations[i] = 1 + rnd.nextInt(2);
                pads[i] = pointwise ? 0 : rnd.nextInt(3);
                pads[r + i] = pointwise ? 0 : rnd.nextInt(3);
                int span = (kernel[i] - 1) * dilations[i] + 1;
                int minIn = autoPad.equals("NOTSET") ? Math.max(1, span - pads[i] - pads[r + i])
                        : autoPad.equals("VALID") ? span : 1;
                in[i] = minIn + rnd.nextInt(r == 3 ? 4 : 7);
            }
            bias = rnd.nextBoolean();
            act = ACTIVATIONS[rnd.nextInt(ACTIVATIONS.length)];
            x = randomFloats(rnd, batch * groups * cg * product(in));
            w = randomFloats(rnd, groups * mg * cg * product(kernel));
            b = randomFloats(rnd, groups * mg);
        }

        int[] xShape() {
            int[] s = new int[r + 2];
            s[0] = batch;
            s[1] = groups * cg;
            System.arraycopy(in, 0, s, 2, r);
            return s;
        }

        int[] wShape() {
            int[] s = new int[r + 2];
            s[0] = groups * mg;
            s[1] = cg;
            System.arraycopy(kernel, 0, s, 2, r);
            return s;
        }

        /** Output size and begin padding per spatial dimension, from the ONNX formulas. */
        int[][] geometry() {
            int[] out = new int[r];
            int[] pb = new int[r];
            for (int i = 0; i < r; i++) {
                int span = (kernel[i] - 1) * dilations[i] + 1;
                switch (autoPad) {
                    case "NOTSET":
                        pb[i] = pads[i];
                        out[i] = (in[i] + pads[i] + pads[r + i] - span) / strides[i] + 1;
                        break;
                    case "VALID":
                        out[i] = (in[i] - span) / strides[i] + 1;
                        break;
                    default: {
                        out[i] = (in[i] + strides[i] - 1) / strides[i];
                        int total = Math.max(0, (out[i] - 1) * strides[i] + span - in[i]);
                        pb[i] = autoPad.equals("SAME_UPPER") ? total / 2 : total - total / 2;
                    }
                }
            }
            return new int[][] {out, pb};
        }

        LinalgTesting.Attrs attrs(Random rnd) {
            LinalgTesting.Attrs a = LinalgTesting.attrs().i("group", groups).ints("strides", strides)
                    .ints("dilations", dilations);
            if (autoPad.equals("NOTSET")) {
                a.ints("pads", pads);
            } else {
                a.s("auto_pad", autoPad);
            }
            if (rnd.nextBoolean()) {
                a.ints("kernel_shape", kernel);
            }
            addActivation(a, act);
            return a;
        }

        void check(String what, float[] xv, float[] wv, float[] bv, Tensor y) {
            check(what, xv, wv, bv, y, 0);
        }

        void check(String what, float[] xv, float[] wv, float[] bv, Tensor y, double outputRounding) {
            int[][] geo = geometry();
            int[] out = geo[0];
            int[] pb = geo[1];
            int m = groups * mg;
            int c = groups * cg;
            int[] yShape = new int[r + 2];
            yShape[0] = batch;
            yShape[1] = m;
            System.arraycopy(out, 0, yShape, 2, r);
            assertShape(what + " " + this, yShape, y);
            int[] xs = xShape();
            int[] ws = wShape();
            double[] exp = new double[product(yShape)];
            double[] scale = new double[exp.length];
            int[] o = new int[r];
            int[] kk = new int[r];
            int[] xi = new int[r + 2];
            int[] wi = new int[r + 2];
            int[] yi = new int[r + 2];
            for (int n = 0; n < batch; n++) {
                for (int oc = 0; oc < m; oc++) {
                    int grp = oc / mg;
                    Arrays.fill(o, 0);
                    do {
                        double s = bias ? bv[oc] : 0;
                        double sc = Math.abs(s);
                        for (int ic = 0; ic < cg; ic++) {
                            Arrays.fill(kk, 0);
                            do {
                                boolean inside = true;
                                for (int d = 0; d < r; d++) {
                                    int p = o[d] * strides[d] - pb[d] + kk[d] * dilations[d];
                                    inside &= p >= 0 && p < in[d];
                                    xi[d + 2] = p;
                                    wi[d + 2] = kk[d];
                                }
                                if (inside) {
                                    xi[0] = n;
                                    xi[1] = grp * cg + ic;
                                    wi[0] = oc;
                                    wi[1] = ic;
                                    double t = (double) xv[offset(xs, xi)] * wv[offset(ws, wi)];
                                    s += t;
                                    sc += Math.abs(t);
                                }
                            } while (next(kk, kernel));
                        }
                        yi[0] = n;
                        yi[1] = oc;
                        System.arraycopy(o, 0, yi, 2, r);
                        int at = offset(yShape, yi);
                        exp[at] = activate(act, s);
                        scale[at] = sc;
                    } while (next(o, out));
                }
            }
            assertClose(what + " " + this, exp, scale, cg * product(kernel), outputRounding, y.toFloatArray());
        }

        @Override
        public String toString() {
            return "X" + Arrays.toString(xShape()) + " W" + Arrays.toString(wShape()) + " group=" + groups
                    + " strides=" + Arrays.toString(strides) + " dilations=" + Arrays.toString(dilations) + " pads="
                    + Arrays.toString(pads) + " auto_pad=" + autoPad + " bias=" + bias + " act=" + act[0];
        }
    }

    static void runAndCheck(Case c, Random rnd) {
        boolean constW = rnd.nextBoolean();
        boolean constB = rnd.nextBoolean();
        List<Tensor> inputs = new ArrayList<>();
        inputs.add(Tensor.of(c.x, c.xShape()));
        inputs.add(Tensor.of(c.w, c.wShape()));
        if (c.bias) {
            inputs.add(Tensor.of(c.b, c.b.length));
        }
        Set<Integer> constants = new HashSet<>();
        if (constW) {
            constants.add(1);
        }
        if (constB) {
            constants.add(2);
        }
        Tensor y = LinalgTesting.run(Op.Conv, c.attrs(rnd), inputs, constants, 1).get(0);
        c.check("Conv (const W " + constW + ", const B " + constB + ")", c.x, c.w, c.b, y);
    }

    @Property(tries = 250)
    void randomConvolutions(@ForAll Random rnd) {
        runAndCheck(new Case(rnd, false, false), rnd);
    }

    @Property(tries = 80)
    void depthwiseConvolutions(@ForAll Random rnd) {
        runAndCheck(new Case(rnd, true, false), rnd);
    }

    @Property(tries = 60)
    void pointwiseConvolutions(@ForAll Random rnd) {
        runAndCheck(new Case(rnd, false, true), rnd);
    }

    @Example
    void largeImageIsProcessedInColumnBlocks() {
        // 64 channels x 3x3 = 576 rows; 50x50 outputs exceed the im2col budget, so several column blocks run.
        Random rnd = new Random(3);
        int c = 64;
        int m = 5;
        float[] x = randomFloats(rnd, c * 50 * 50);
        float[] w = randomFloats(rnd, m * c * 9);
        float[] b = randomFloats(rnd, m);
        Tensor y = LinalgTesting.run(Op.Conv, attrs().ints("pads", 1, 1, 1, 1), List.of(Tensor.of(x, 1, c, 50, 50),
                Tensor.of(w, m, c, 3, 3), Tensor.of(b, m)), Set.of(1, 2), 1).get(0);
        assertTrue(y.elementCount() == m * 2500);
        double[] exp = new double[m * 2500];
        double[] scale = new double[exp.length];
        for (int oc = 0; oc < m; oc++) {
            for (int oh = 0; oh < 50; oh++) {
                for (int ow = 0; ow < 50; ow++) {
                    double s = b[oc];
                    double sc = Math.abs(s);
                    for (int ic = 0; ic < c; ic++) {
                        for (int kh = 0; kh < 3; kh++) {
                            for (int kw = 0; kw < 3; kw++) {
                                int ih = oh - 1 + kh;
                                int iw = ow - 1 + kw;
                                if (ih >= 0 && ih < 50 && iw >= 0 && iw < 50) {
                                    double t = (double) x[(ic * 50 + ih) * 50 + iw] * w[((oc * c + ic) * 3 + kh) * 3 + kw];
                                    s += t;
                                    sc += Math.abs(t);
                                }
                            }
                        }
                    }
                    exp[(oc * 50 + oh) * 50 + ow] = s;
                    scale[(oc * 50 + oh) * 50 + ow] = sc;
                }
            }
        }
        assertClose("blocked im2col", exp, scale, c * 9, y.toFloatArray());
    }

    @Property(tries = 30)
    void float16AndFloat64ComputeThroughFloat32(@ForAll Random rnd) {
        Case c = new Case(rnd, rnd.nextBoolean(), false);
        DType t = rnd.nextBoolean() ? DType.FLOAT16 : DType.FLOAT64;
        float[] x = roundTo(t, c.x);
        float[] w = roundTo(t, c.w);
        float[] b = roundTo(t, c.b);
        List<Tensor> inputs = new ArrayList<>();
        inputs.add(tensor(t, x, c.xShape()));
        inputs.add(tensor(t, w, c.wShape()));
        if (c.bias) {
            inputs.add(tensor(t, b, b.length));
        }
        Tensor y = LinalgTesting.run(Op.Conv, c.attrs(rnd), inputs, rnd.nextBoolean() ? Set.of(1) : Set.of(), 1).get(0);
        assertTrue(y.dtype() == t, "output dtype " + y.dtype());
        // A float16 result is rounded to 11 significant bits on the way out.
        c.check("Conv " + t, x, w, b, y, t == DType.FLOAT16 ? 1e-3 : 0);
    }

    @Example
    void rejectsBadModelsWithPreciseMessages() {
        Tensor x = Tensor.of(new float[2 * 4 * 4], 1, 2, 4, 4);
        Tensor w = Tensor.of(new float[3 * 2 * 9], 3, 2, 3, 3);
        HedgeException e = assertThrows(HedgeException.class, () -> LinalgTesting.run(Op.Conv,
                attrs().i("group", 2), List.of(x, w), Set.of(1), 1));
        assertTrue(e.getMessage().contains("Conv node 'n'") && e.getMessage().contains("group 2"), e.getMessage());
        e = assertThrows(HedgeException.class, () -> LinalgTesting.run(Op.Conv,
                attrs().ints("strides", 1), List.of(x, w), Set.of(1), 1));
        assertTrue(e.getMessage().contains("strides"), e.getMessage());
        e = assertThrows(HedgeException.class, () -> LinalgTesting.run(Op.Conv,
                attrs().ints("kernel_shape", 2, 2), List.of(x, w), Set.of(1), 1));
        assertTrue(e.getMessage().contains("kernel_shape"), e.getMessage());
        Tensor big = Tensor.of(new float[3 * 2 * 49], 3, 2, 7, 7);
        e = assertThrows(HedgeException.class, () -> LinalgTesting.run(Op.Conv, attrs(), List.of(x, big),
                Set.of(1), 1));
        assertTrue(e.getMessage().contains("exceeds padded input"), e.getMessage());
        Tensor xi = Tensor.of(new int[2 * 4 * 4], 1, 2, 4, 4);
        Tensor wi = Tensor.of(new int[3 * 2 * 9], 3, 2, 3, 3);
        e = assertThrows(UnsupportedModelException.class, () -> LinalgTesting.run(Op.Conv, attrs(),
                List.of(xi, wi), Set.of(1), 1));
        assertTrue(e.getMessage().contains("INT32"), e.getMessage());
    }
}
