package dev.hedge.kernels.ref.linalg;

import static dev.hedge.kernels.ref.linalg.LinalgTesting.assertClose;
import static dev.hedge.kernels.ref.linalg.LinalgTesting.assertShape;
import static dev.hedge.kernels.ref.linalg.LinalgTesting.attrs;
import static dev.hedge.kernels.ref.linalg.LinalgTesting.next;
import static dev.hedge.kernels.ref.linalg.LinalgTesting.offset;
import static dev.hedge.kernels.ref.linalg.LinalgTesting.product;
import static dev.hedge.kernels.ref.linalg.LinalgTesting.randomFloats;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.hedge.ops.Op;
import dev.hedge.runtime.DType;
import dev.hedge.runtime.HedgeException;
import dev.hedge.runtime.Tensor;
import dev.hedge.runtime.UnsupportedModelException;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.Set;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;

/** MaxPool, AveragePool and the global pools against direct window loops. */
class PoolKernelTest {

    @Property(tries = 300)
    void randomPools(@ForAll Random rnd) {
        boolean max = rnd.nextBoolean();
        int r = 1 + rnd.nextInt(3);
        int[] kernel = new int[r];
        int[] strides = new int[r];
        int[] dilations = new int[r];
        int[] pads = new int[2 * r];
        int[] in = new int[r];
        String autoPad = ConvKernelTest.AUTO_PADS[rnd.nextInt(4)];
        boolean ceil = autoPad.equals("NOTSET") && rnd.nextBoolean();
        boolean countPad = !max && rnd.nextBoolean();
        int[] out = new int[r];
        int[] pb = new int[r];
        int[] pe = new int[r];
        for (int i = 0; i < r; i++) {
            kernel[i] = 1 + rnd.nextInt(3);
            strides[i] = 1 + rnd.nextInt(3);
            dilations[i] = 1 + rnd.nextInt(2);
            int span = (kernel[i] - 1) * dilations[i] + 1;
            pads[i] = rnd.nextInt(Math.min(3, span));
            pads[r + i] = rnd.nextInt(Math.min(3, span));
            in[i] = (autoPad.equals("VALID") ? span : Math.max(1, span - pads[i] - pads[r + i])) + rnd.nextInt(6);
            switch (autoPad) {
                case "NOTSET": {
                    pb[i] = pads[i];
                    pe[i] = pads[r + i];
                    int extent = in[i] + pads[i] + pads[r + i] - span;
                    out[i] = ceil ? -Math.floorDiv(-extent, strides[i]) + 1 : extent / strides[i] + 1;
                    if (ceil && (out[i] - 1) * strides[i] >= in[i] + pads[i]) {
                        out[i]--;
                    }
                    break;
                }
                case "VALID":
                    out[i] = (in[i] - span) / strides[i] + 1;
                    break;
                default: {
                    out[i] = (in[i] + strides[i] - 1) / strides[i];
                    int total = Math.max(0, (out[i] - 1) * strides[i] + span - in[i]);
                    pb[i] = autoPad.equals("SAME_UPPER") ? total / 2 : total - total / 2;
                    pe[i] = total - pb[i];
                }
            }
        }
        int batch = 1 + rnd.nextInt(2);
        int ch = 1 + rnd.nextInt(3);
        int[] xs = new int[r + 2];
        xs[0] = batch;
        xs[1] = ch;
        System.arraycopy(in, 0, xs, 2, r);
        int[] ys = xs.clone();
        System.arraycopy(out, 0, ys, 2, r);
        float[] x = randomFloats(rnd, product(xs));
        if (max && rnd.nextBoolean()) {
            // Ties: the first maximum in scan order wins.
            for (int i = 0; i < x.length; i++) {
                x[i] = Math.round(x[i] * 2);
            }
        }
        boolean colMajor = max && rnd.nextBoolean();
        boolean withIndices = max && rnd.nextBoolean();
        LinalgTesting.Attrs a = attrs().ints("kernel_shape", kernel).ints("strides", strides)
                .ints("dilations", dilations).i("ceil_mode", ceil ? 1 : 0);
        if (autoPad.equals("NOTSET")) {
            a.ints("pads", pads);
        } else {
            a.s("auto_pad", autoPad);
        }
        if (max) {
            a.i("storage_order", colMajor ? 1 : 0);
        } else {
            a.i("count_include_pad", countPad ? 1 : 0);
        }
        String what = (max ? "MaxPool" : "AveragePool") + " X" + Arrays.toString(xs) + " kernel="
                + Arrays.toString(kernel) + " strides=" + Arrays.toString(strides) + " dilations="
                + Arrays.toString(dilations) + " pads=" + Arrays.toString(pads) + " auto_pad=" + autoPad + " ceil="
                + ceil + " count_include_pad=" + countPad + " storage_order=" + (colMajor ? 1 : 0);
        List<Tensor> res = LinalgTesting.run(max ? Op.MaxPool : Op.AveragePool, a, List.of(Tensor.of(x, xs)),
                Set.of(), withIndices ? 2 : 1);
        Tensor y = res.get(0);
        assertShape(what, ys, y);

        double[] exp = new double[product(ys)];
        double[] scale = new double[exp.length];
        long[] expIdx = new long[exp.length];
        int[] o = new int[r];
        int[] t = new int[r];
        int[] xi = new int[r + 2];
        int[] yi = new int[r + 2];
        int plane = product(in);
        for (int n = 0; n < batch; n++) {
            for (int c = 0; c < ch; c++) {
                Arrays.fill(o, 0);
                do {
                    double best = 0;
                    long arg = -1;
                    double sum = 0;
                    double sc = 0;
                    int inside = 0;
                    int counted = 0;
                    Arrays.fill(t, 0);
                    do {
                        boolean in1 = true;
                        boolean inPad = true;
                        long cm = 0;
                        long mul = 1;
                        for (int d = 0; d < r; d++) {
                            int p = o[d] * strides[d] - pb[d] + t[d] * dilations[d];
                            in1 &= p >= 0 && p < in[d];
                            inPad &= p >= -pb[d] && p < in[d] + pe[d];
                            xi[d + 2] = p;
                            cm += p * mul;
                            mul *= in[d];
                        }
                        if (inPad) {
                            counted++;
                        }
                        if (in1) {
                            xi[0] = n;
                            xi[1] = c;
                            double v = x[offset(xs, xi)];
                            inside++;
                            sum += v;
                            sc += Math.abs(v);
                            if (arg < 0 || v > best) {
                                best = v;
                                arg = (long) (n * ch + c) * plane + (colMajor ? cm : offset(in, Arrays.copyOfRange(xi, 2, r + 2)));
                            }
                        }
                    } while (next(t, kernel));
                    yi[0] = n;
                    yi[1] = c;
                    System.arraycopy(o, 0, yi, 2, r);
                    int at = offset(ys, yi);
                    if (max) {
                        exp[at] = best;
                        expIdx[at] = arg;
                    } else {
                        exp[at] = sum / (countPad ? counted : inside);
                        scale[at] = sc / (countPad ? counted : inside);
                    }
                } while (next(o, out));
            }
        }
        assertClose(what, exp, scale, product(kernel), y.toFloatArray());
        if (withIndices) {
            assertEquals(DType.INT64, res.get(1).dtype());
            assertArrayEquals(expIdx, res.get(1).toLongArray(), what + ": indices");
        }
    }

    @Example
    void maxPoolOnBytesAndHalfFloats() {
        byte[] v = {5, -3, 7, 7, 0, -128, 127, 1, 2};
        Tensor x8 = Tensor.ofBytes(DType.INT8, v, 1, 1, 3, 3);
        Tensor y = LinalgTesting.run(Op.MaxPool, attrs().ints("kernel_shape", 2, 2), List.of(x8), Set.of(), 1).get(0);
        assertEquals(DType.INT8, y.dtype());
        assertArrayEquals(new long[] {7, 7, 127, 2}, y.toLongArray());
        Tensor xu = Tensor.ofBytes(DType.UINT8, v, 1, 1, 3, 3);
        y = LinalgTesting.run(Op.MaxPool, attrs().ints("kernel_shape", 2, 2), List.of(xu), Set.of(), 1).get(0);
        assertArrayEquals(new long[] {253, 253, 127, 128}, y.toLongArray());
        Tensor h = LinalgTesting.tensor(DType.FLOAT16, new float[] {1, 2, 3, 4}, 1, 1, 4);
        y = LinalgTesting.run(Op.AveragePool, attrs().ints("kernel_shape", 2), List.of(h), Set.of(), 1).get(0);
        assertEquals(DType.FLOAT16, y.dtype());
        assertArrayEquals(new float[] {1.5f, 2.5f, 3.5f}, y.toFloatArray());
    }

    @Property(tries = 60)
    void globalPools(@ForAll Random rnd) {
        int r = rnd.nextInt(4);
        int[] xs = new int[r + 2];
        xs[0] = 1 + rnd.nextInt(2);
        xs[1] = 1 + rnd.nextInt(4);
        for (int i = 2; i < xs.length; i++) {
            xs[i] = 1 + rnd.nextInt(6);
        }
        float[] x = randomFloats(rnd, product(xs));
        boolean max = rnd.nextBoolean();
        Tensor y = LinalgTesting.run(max ? Op.GlobalMaxPool : Op.GlobalAveragePool, attrs(),
                List.of(Tensor.of(x, xs)), Set.of(), 1).get(0);
        int[] ys = xs.clone();
        Arrays.fill(ys, 2, ys.length, 1);
        assertShape("global pool", ys, y);
        int plane = product(Arrays.copyOfRange(xs, 2, xs.length));
        double[] exp = new double[xs[0] * xs[1]];
        double[] scale = new double[exp.length];
        for (int p = 0; p < exp.length; p++) {
            double m = Double.NEGATIVE_INFINITY;
            double s = 0;
            for (int i = 0; i < plane; i++) {
                m = Math.max(m, x[p * plane + i]);
                s += x[p * plane + i];
                scale[p] += Math.abs(x[p * plane + i]) / plane;
            }
            exp[p] = max ? m : s / plane;
        }
        assertClose((max ? "GlobalMaxPool " : "GlobalAveragePool ") + Arrays.toString(xs), exp, scale, plane,
                y.toFloatArray());
    }

    @Example
    void globalMaxPoolPropagatesNaN() {
        Tensor x = Tensor.of(new float[] {1, Float.NaN, 3, 4, 5, 6}, 2, 1, 3);
        Tensor y = LinalgTesting.run(Op.GlobalMaxPool, attrs(), List.of(x), Set.of(), 1).get(0);
        float[] v = y.toFloatArray();
        assertTrue(Float.isNaN(v[0]));
        assertEquals(6f, v[1]);
    }

    @Example
    void rejectsBadPools() {
        Tensor x = Tensor.of(new float[16], 1, 1, 4, 4);
        HedgeException e = assertThrows(HedgeException.class, () -> LinalgTesting.run(Op.MaxPool,
                attrs().ints("kernel_shape", 3), List.of(x), Set.of(), 1));
        assertTrue(e.getMessage().contains("MaxPool node 'n'") && e.getMessage().contains("kernel_shape"),
                e.getMessage());
        e = assertThrows(HedgeException.class, () -> LinalgTesting.run(Op.AveragePool,
                attrs().ints("kernel_shape", 3, 3).s("auto_pad", "SAME"), List.of(x), Set.of(), 1));
        assertTrue(e.getMessage().contains("auto_pad 'SAME'"), e.getMessage());
        Tensor xi = Tensor.of(new int[16], 1, 1, 4, 4);
        assertThrows(UnsupportedModelException.class, () -> LinalgTesting.run(Op.AveragePool,
                attrs().ints("kernel_shape", 2, 2), List.of(xi), Set.of(), 1));
    }
}
