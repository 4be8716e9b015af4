package dev.hedge.kernels.cpu;

import static dev.hedge.kernels.cpu.NativeRun.map;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.hedge.ir.Attr;
import dev.hedge.ir.Node;
import dev.hedge.ops.Op;
import dev.hedge.runtime.Tensor;
import java.util.List;
import java.util.Random;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.lifecycle.AddLifecycleHook;

/**
 * Float32 MaxPool, AveragePool (with and without count_include_pad), GlobalMaxPool and GlobalAveragePool on
 * every instruction set this CPU has: bit for bit against a scalar reference written here and against the
 * Java reference backend, on random windows (1-D / 2-D, strides, dilations, explicit and automatic pads up to
 * all-padding windows, ceil_mode) and inputs with ties, signed zeros and NaNs.
 */
@AddLifecycleHook(NeedsNative.class)
class PoolF32PropertiesTest {

    @Provide
    Arbitrary<String> isas() {
        return NativeRun.isas();
    }

    /** Values drawn from a small set (ties), with signed zeros and, when asked, NaNs. */
    private static Tensor input(Random r, boolean nans, int... shape) {
        float[] v = new float[Tensor.elementCount(shape)];
        for (int i = 0; i < v.length; i++) {
            int k = r.nextInt(20);
            v[i] = k == 0 ? -0f : k == 1 ? 0f : k == 2 && nans ? Float.NaN : (r.nextInt(9) - 4) * 0.75f + (k % 3) * 1e-3f;
        }
        return Tensor.of(v, shape);
    }

    private static void assertSameBits(float[] want, Tensor y, String what) {
        float[] got = y.toFloatArray();
        assertEquals(want.length, got.length, what + ": output size");
        for (int i = 0; i < want.length; i++) {
            int w = Float.floatToRawIntBits(want[i]);
            int g = Float.floatToRawIntBits(got[i]);
            // every NaN is the same answer
            if (w != g && !(Float.isNaN(want[i]) && Float.isNaN(got[i]))) {
                throw new AssertionError(what + ": element " + i + " is " + got[i] + ", expected " + want[i]);
            }
        }
    }

    @Property(tries = 200)
    void windowedPoolsMatchTheReferences(@ForAll("isas") String isa, @ForAll long seed,
            @ForAll @IntRange(min = 0, max = 2) int kind) {
        Random r = new Random(seed);
        int rank = r.nextInt(4) == 0 ? 1 : 2;
        QuantConvPropertiesTest.Window win = new QuantConvPropertiesTest.Window(r, rank, true);
        if (r.nextInt(3) == 0) { // the common case: 3x3 (or 2x2) windows, strides 1 or 2, no dilation
            for (int i = 0; i < rank; i++) {
                win.k[i] = 2 + r.nextInt(2);
                win.d[i] = 1;
            }
        }
        boolean ceil = r.nextBoolean();
        boolean countPad = kind == 2;
        int batch = 1 + r.nextInt(2);
        int c = 1 + r.nextInt(4);
        int[] spatial = new int[rank];
        for (int i = 0; i < rank; i++) {
            spatial[i] = 1 + r.nextInt(40);
        }
        int[][] res = win.resolve(spatial, ceil);
        if (res == null) {
            return;
        }
        int[] shape = new int[rank + 2];
        shape[0] = batch;
        shape[1] = c;
        System.arraycopy(spatial, 0, shape, 2, rank);
        Tensor x = input(r, r.nextBoolean(), shape);
        Op op = kind == 0 ? Op.MaxPool : Op.AveragePool;
        Node node = win.apply(Node.of("pool", op, List.of("x"), List.of("y")))
                .withAttr("kernel_shape", new Attr.Ints(longs(win.k))).withAttr("ceil_mode", new Attr.Int(ceil ? 1 : 0));
        if (op == Op.AveragePool) {
            node = node.withAttr("count_include_pad", new Attr.Int(countPad ? 1 : 0));
        }
        Tensor y = NativeRun.run(isa, node, map("x", x), map());
        int oh = rank == 1 ? 1 : res[1][0];
        int ow = res[1][rank - 1];
        int ih = rank == 1 ? 1 : spatial[0];
        int iw = spatial[rank - 1];
        int kh = rank == 1 ? 1 : win.k[0];
        int kw = win.k[rank - 1];
        int sh = rank == 1 ? 1 : win.s[0];
        int sw = win.s[rank - 1];
        int dh = rank == 1 ? 1 : win.d[0];
        int dw = win.d[rank - 1];
        int pt = rank == 1 ? 0 : res[0][0];
        int pl = res[0][rank - 1];
        // the padded extent: explicit / automatic pads, not the taps ceil_mode adds
        int[] end = trailingPads(win, spatial);
        int ph = rank == 1 ? 0 : end[0];
        int pw = end[rank - 1];
        float[] x0 = x.toFloatArray();
        float[] want = new float[batch * c * oh * ow];
        for (int p = 0; p < batch * c; p++) {
            for (int a = 0; a < oh; a++) {
                for (int b = 0; b < ow; b++) {
                    float best = 0f;
                    float sum = 0f;
                    boolean any = false;
                    int inside = 0;
                    int padded = 0;
                    for (int i = 0; i < kh; i++) {
                        for (int j = 0; j < kw; j++) {
                            int yy = a * sh - pt + i * dh;
                            int xx = b * sw - pl + j * dw;
                            if (yy >= -pt && yy < ih + ph && xx >= -pl && xx < iw + pw) {
                                padded++;
                            }
                            if (yy < 0 || yy >= ih || xx < 0 || xx >= iw) {
                                continue;
                            }
                            float v = x0[(p * ih + yy) * iw + xx];
                            if (!any || v > best) { // the first largest in scan order
                                best = v;
                            }
                            any = true;
                            sum += v;
                            inside++;
                        }
                    }
                    int count = countPad ? padded : inside;
                    want[(p * oh + a) * ow + b] = kind == 0 ? (any ? best : 0f) : count == 0 ? Float.NaN : sum / count;
                }
            }
        }
        String what = "isa " + isa + " " + op + " countPad " + countPad + " " + win.autoPad + " ceil " + ceil + " k "
                + kh + "x" + kw + " s " + sh + "," + sw + " d " + dh + "," + dw + " in " + ih + "x" + iw;
        assertSameBits(want, y, what + " (scalar reference)");
        assertSameBits(NativeRun.runReference(node, map("x", x), map()).toFloatArray(), y, what + " (Java backend)");
    }

    /**
     * MaxPool 2 x 2, stride 2, without pads (the downsampling with a kernel of its own on AVX-512): widths across
     * the 16-output steps, odd sizes (the last row and column are dropped, or with ceil_mode padded: then the
     * generic kernel runs), ties, signed zeros and NaNs, bit for bit against the scalar order of the reference.
     */
    @Property(tries = 120)
    void maxPool2x2Stride2MatchesTheReferences(@ForAll("isas") String isa, @ForAll long seed) {
        Random r = new Random(seed);
        int c = 1 + r.nextInt(5);
        int h = 2 + r.nextInt(12);
        int w = 2 + r.nextInt(r.nextBoolean() ? 12 : 80);
        boolean ceil = r.nextInt(4) == 0;
        Tensor x = input(r, r.nextBoolean(), 1, c, h, w);
        Node node = Node.of("pool", Op.MaxPool, List.of("x"), List.of("y"))
                .withAttr("kernel_shape", new Attr.Ints(new long[] {2, 2}))
                .withAttr("strides", new Attr.Ints(new long[] {2, 2}))
                .withAttr("ceil_mode", new Attr.Int(ceil ? 1 : 0));
        Tensor y = NativeRun.run(isa, node, map("x", x), map());
        int oh = ceil ? (h + 1) / 2 : h / 2;
        int ow = ceil ? (w + 1) / 2 : w / 2;
        float[] x0 = x.toFloatArray();
        float[] want = new float[c * oh * ow];
        for (int p = 0; p < c; p++) {
            for (int a = 0; a < oh; a++) {
                for (int b = 0; b < ow; b++) {
                    float best = 0f;
                    boolean any = false;
                    for (int i = 0; i < 2; i++) {
                        for (int j = 0; j < 2; j++) {
                            int yy = 2 * a + i;
                            int xx = 2 * b + j;
                            if (yy >= h || xx >= w) {
                                continue;
                            }
                            float v = x0[(p * h + yy) * w + xx];
                            if (!any || v > best) {
                                best = v;
                            }
                            any = true;
                        }
                    }
                    want[(p * oh + a) * ow + b] = best;
                }
            }
        }
        String what = "isa " + isa + " MaxPool 2x2/2 in " + c + "x" + h + "x" + w + " ceil " + ceil;
        assertSameBits(want, y, what + " (scalar reference)");
        assertSameBits(NativeRun.runReference(node, map("x", x), map()).toFloatArray(), y, what + " (Java backend)");
    }

    /** Trailing pads per axis as the ONNX attributes give them (auto_pad resolved). */
    private static int[] trailingPads(QuantConvPropertiesTest.Window win, int[] in) {
        int[] end = new int[win.rank];
        for (int i = 0; i < win.rank; i++) {
            int dk = (win.k[i] - 1) * win.d[i] + 1;
            if (win.autoPad.equals("VALID")) {
                end[i] = 0;
            } else if (win.autoPad.startsWith("SAME")) {
                int o = (in[i] + win.s[i] - 1) / win.s[i];
                int total = Math.max(0, (o - 1) * win.s[i] + dk - in[i]);
                int begin = win.autoPad.equals("SAME_UPPER") ? total / 2 : total - total / 2;
                end[i] = total - begin;
            } else {
                end[i] = win.pads[win.rank + i];
            }
        }
        return end;
    }

    @Property(tries = 100)
    void globalPoolsMatchTheReferences(@ForAll("isas") String isa, @ForAll long seed, @ForAll boolean max) {
        Random r = new Random(seed);
        int rank = 1 + r.nextInt(3);
        int[] shape = new int[rank + 2];
        shape[0] = 1 + r.nextInt(2);
        shape[1] = 1 + r.nextInt(11);
        for (int i = 0; i < rank; i++) {
            shape[2 + i] = 1 + r.nextInt(rank == 3 ? 5 : 15);
        }
        Tensor x = input(r, r.nextInt(4) == 0, shape);
        Node node = Node.of("gpool", max ? Op.GlobalMaxPool : Op.GlobalAveragePool, List.of("x"), List.of("y"));
        Tensor y = NativeRun.run(isa, node, map("x", x), map());
        int planes = shape[0] * shape[1];
        int size = Tensor.elementCount(shape) / planes;
        float[] x0 = x.toFloatArray();
        float[] want = new float[planes];
        for (int p = 0; p < planes; p++) {
            if (max) {
                float m = x0[p * size];
                for (int i = 1; i < size; i++) {
                    float v = x0[p * size + i];
                    m = Float.isNaN(m) || Float.isNaN(v) ? Float.NaN : v > m ? v : m;
                }
                want[p] = m;
            } else {
                double s = 0;
                for (int i = 0; i < size; i++) {
                    s += x0[p * size + i];
                }
                want[p] = (float) (s / size);
            }
        }
        int[] outShape = shape.clone();
        java.util.Arrays.fill(outShape, 2, outShape.length, 1);
        assertArrayEquals(outShape, y.shape());
        String what = "isa " + isa + " " + node.op() + " " + java.util.Arrays.toString(shape);
        assertSameBits(want, y, what + " (scalar reference)");
        assertSameBits(NativeRun.runReference(node, map("x", x), map()).toFloatArray(), y, what + " (Java backend)");
    }

    private static long[] longs(int[] v) {
        long[] l = new long[v.length];
        for (int i = 0; i < v.length; i++) {
            l[i] = v[i];
        }
        return l;
    }
}
