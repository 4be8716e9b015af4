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
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.hedge.ops.Op;
import dev.hedge.runtime.HedgeException;
import dev.hedge.runtime.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;

/** ConvTranspose against a direct scatter loop in double. */
class ConvTransposeKernelTest {

    @Property(tries = 250)
    void randomTransposedConvolutions(@ForAll Random rnd) {
        int r = 1 + rnd.nextInt(3);
        int batch = 1 + rnd.nextInt(2);
        int groups = 1 + rnd.nextInt(3);
        int cg = 1 + rnd.nextInt(3);
        int mg = 1 + rnd.nextInt(3);
        int[] in = new int[r];
        int[] kernel = new int[r];
        int[] strides = new int[r];
        int[] dilations = new int[r];
        int[] pads = new int[2 * r];
        int[] outPad = new int[r];
        // 0: pads (or VALID), 1: output_shape, 2: SAME_UPPER, 3: SAME_LOWER
        int mode = rnd.nextInt(4);
        boolean valid = mode == 0 && rnd.nextInt(4) == 0;
        int[] full = new int[r];
        int[] outShape = new int[r];
        int[] pb = new int[r];
        for (int i = 0; i < r; i++) {
            in[i] = 1 + rnd.nextInt(r == 3 ? 3 : 5);
            kernel[i] = 1 + rnd.nextInt(r == 3 ? 2 : 3);
            strides[i] = 1 + rnd.nextInt(3);
            dilations[i] = 1 + rnd.nextInt(2);
            outPad[i] = rnd.nextInt(Math.max(strides[i], dilations[i]));
            full[i] = strides[i] * (in[i] - 1) + outPad[i] + (kernel[i] - 1) * dilations[i] + 1;
            if (mode == 0 && !valid) {
                pads[i] = rnd.nextInt(2);
                pads[r + i] = rnd.nextInt(2);
                if (pads[i] + pads[r + i] >= full[i]) {
                    pads[i] = 0;
                    pads[r + i] = 0;
                }
            }
        }
        for (int i = 0; i < r; i++) {
            if (mode == 0) {
                pb[i] = pads[i];
                outShape[i] = full[i] - pads[i] - pads[r + i];
            } else {
                int target = mode == 1 ? Math.max(1, full[i] - 2 + rnd.nextInt(5)) : in[i] * strides[i];
                int total = full[i] - target;
                pb[i] = mode == 2 ? Math.floorDiv(total, 2) : total - Math.floorDiv(total, 2);
                outShape[i] = target;
            }
        }
        boolean bias = rnd.nextBoolean();
        String[] act = ACTIVATIONS[rnd.nextInt(ACTIVATIONS.length)];
        int c = groups * cg;
        int m = groups * mg;
        int[] xs = concat(new int[] {batch, c}, in);
        int[] ws = concat(new int[] {c, mg}, kernel);
        int[] ys = concat(new int[] {batch, m}, outShape);
        float[] x = randomFloats(rnd, product(xs));
        float[] w = randomFloats(rnd, product(ws));
        float[] b = randomFloats(rnd, m);

        LinalgTesting.Attrs a = attrs().i("group", groups).ints("strides", strides).ints("dilations", dilations);
        if (rnd.nextBoolean() || Arrays.stream(outPad).anyMatch(v -> v != 0)) {
            a.ints("output_padding", outPad);
        }
        switch (mode) {
            case 0:
                if (valid) {
                    a.s("auto_pad", "VALID");
                } else {
                    a.ints("pads", pads);
                }
                break;
            case 1:
                a.ints("output_shape", outShape);
                break;
            default:
                a.s("auto_pad", mode == 2 ? "SAME_UPPER" : "SAME_LOWER");
        }
        if (rnd.nextBoolean()) {
            a.ints("kernel_shape", kernel);
        }
        addActivation(a, act);
        List<Tensor> inputs = new ArrayList<>(List.of(Tensor.of(x, xs), Tensor.of(w, ws)));
        if (bias) {
            inputs.add(Tensor.of(b, m));
        }
        Set<Integer> constants = new HashSet<>();
        if (rnd.nextBoolean()) {
            constants.add(1);
        }
        if (rnd.nextBoolean()) {
            constants.add(2);
        }
        String what = "ConvTranspose X" + Arrays.toString(xs) + " W" + Arrays.toString(ws) + " group=" + groups
                + " strides=" + Arrays.toString(strides) + " dilations=" + Arrays.toString(dilations) + " mode=" + mode
                + " pads=" + Arrays.toString(pads) + " output_padding=" + Arrays.toString(outPad) + " out="
                + Arrays.toString(outShape) + " bias=" + bias + " act=" + act[0] + " constants=" + constants;
        Tensor y = LinalgTesting.run(Op.ConvTranspose, a, inputs, constants, 1).get(0);
        assertShape(what, ys, y);

        double[] sum = new double[product(ys)];
        double[] scale = new double[sum.length];
        int[] xi = new int[r + 2];
        int[] wi = new int[r + 2];
        int[] yi = new int[r + 2];
        int[] p = new int[r];
        int[] kk = new int[r];
        for (int n = 0; n < batch; n++) {
            for (int ic = 0; ic < c; ic++) {
                int grp = ic / cg;
                Arrays.fill(p, 0);
                do {
                    for (int om = 0; om < mg; om++) {
                        Arrays.fill(kk, 0);
                        do {
                            boolean inside = true;
                            for (int d = 0; d < r; d++) {
                                int o = p[d] * strides[d] - pb[d] + kk[d] * dilations[d];
                                inside &= o >= 0 && o < outShape[d];
                                yi[d + 2] = o;
                                xi[d + 2] = p[d];
                                wi[d + 2] = kk[d];
                            }
                            if (inside) {
                                xi[0] = n;
                                xi[1] = ic;
                                wi[0] = ic;
                                wi[1] = om;
                                yi[0] = n;
                                yi[1] = grp * mg + om;
                                double t = (double) x[offset(xs, xi)] * w[offset(ws, wi)];
                                sum[offset(ys, yi)] += t;
                                scale[offset(ys, yi)] += Math.abs(t);
                            }
                        } while (next(kk, kernel));
                    }
                } while (next(p, in));
            }
        }
        int plane = product(outShape);
        double[] exp = new double[sum.length];
        for (int i = 0; i < sum.length; i++) {
            double bv = bias ? b[(i / plane) % m] : 0;
            exp[i] = activate(act, sum[i] + bv);
            scale[i] += Math.abs(bv);
        }
        assertClose(what, exp, scale, cg * product(kernel), y.toFloatArray());
    }

    private static int[] concat(int[] a, int[] b) {
        int[] r = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, r, a.length, b.length);
        return r;
    }

    @Example
    void rejectsMismatchedWeights() {
        Tensor x = Tensor.of(new float[2 * 9], 1, 2, 3, 3);
        Tensor w = Tensor.of(new float[3 * 9], 3, 1, 3, 3);
        HedgeException e = assertThrows(HedgeException.class, () -> LinalgTesting.run(Op.ConvTranspose, attrs(),
                List.of(x, w), Set.of(1), 1));
        assertTrue(e.getMessage().contains("ConvTranspose node 'n'") && e.getMessage().contains("input channels"),
                e.getMessage());
        e = assertThrows(HedgeException.class, () -> LinalgTesting.run(Op.ConvTranspose,
                attrs().ints("output_shape", 5), List.of(x, Tensor.of(new float[2 * 9], 2, 1, 3, 3)), Set.of(1), 1));
        assertTrue(e.getMessage().contains("output_shape"), e.getMessage());
    }
}
