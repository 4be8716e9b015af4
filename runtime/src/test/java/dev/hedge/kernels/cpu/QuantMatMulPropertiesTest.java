package dev.hedge.kernels.cpu;

import static dev.hedge.kernels.cpu.NativeRun.bytes;
import static dev.hedge.kernels.cpu.NativeRun.map;
import static dev.hedge.kernels.cpu.NativeRun.outputScale;
import static dev.hedge.kernels.cpu.NativeRun.randomZeroPoint;
import static dev.hedge.kernels.cpu.NativeRun.requantize;
import static dev.hedge.kernels.cpu.NativeRun.scale;
import static dev.hedge.kernels.cpu.NativeRun.value;
import static dev.hedge.kernels.cpu.NativeRun.zeroPoint;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import dev.hedge.ir.Attr;
import dev.hedge.ir.Node;
import dev.hedge.ops.Op;
import dev.hedge.runtime.DType;
import dev.hedge.runtime.Tensor;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.lifecycle.AddLifecycleHook;

/**
 * QLinearMatMul and MatMulInteger on every instruction set this CPU has, against a scalar reference:
 * random (odd) sizes, batches with broadcasting, u8/s8 on both sides, per-column weight scales and zero
 * points, per-row activation zero points, fused Relu/Clip, constant and run-time B, the INT32 bias input.
 */
@AddLifecycleHook(NeedsNative.class)
class QuantMatMulPropertiesTest {

    @Provide
    Arbitrary<String> isas() {
        return NativeRun.isas();
    }

    @Property(tries = 150)
    void qlinearMatMulMatchesTheReference(@ForAll("isas") String isa, @ForAll long seed,
            @ForAll @IntRange(min = 1, max = 40) int m, @ForAll @IntRange(min = 1, max = 90) int k,
            @ForAll @IntRange(min = 1, max = 80) int n, @ForAll @IntRange(min = 0, max = 5) int variant) {
        Random r = new Random(seed);
        DType ta = r.nextBoolean() ? DType.UINT8 : DType.INT8;
        DType tb = r.nextInt(4) == 0 ? DType.UINT8 : DType.INT8;
        DType ty = r.nextBoolean() ? DType.UINT8 : DType.INT8;
        int[] batch = variant == 1 ? new int[] {2} : variant == 2 ? new int[] {3, 1} : new int[0];
        int[] aShape = concat(batch, m, k);
        int[] bShape = variant == 2 ? new int[] {2, k, n} : new int[] {k, n};
        Tensor a = bytes(ta, r, aShape);
        Tensor b = bytes(tb, r, bShape);
        if (r.nextInt(3) == 0 && tb == DType.INT8) {
            narrow(b, r); // small weights take the exact vpmaddubsw path on AVX2
        }
        boolean perColumn = r.nextBoolean();
        int za = randomZeroPoint(ta, r);
        float aScale = scale(r);
        float[] bScale = new float[perColumn ? n : 1];
        int[] zb = new int[perColumn ? n : 1];
        for (int i = 0; i < bScale.length; i++) {
            bScale[i] = scale(r);
            zb[i] = tb == DType.INT8 && r.nextBoolean() ? 0 : randomZeroPoint(tb, r);
        }
        float yScale = outputScale(r, 50);
        if (variant == 5) {
            // power-of-two multipliers: many products land exactly on .5 (ties to even)
            aScale = (float) Math.scalb(1.0, -1 - r.nextInt(8));
            Arrays.fill(bScale, 1f);
            yScale = 1f;
        }
        int yzp = randomZeroPoint(ty, r);
        boolean bConstant = variant != 3;
        boolean withBias = variant == 4;
        int[] bias = new int[n];
        for (int i = 0; i < n; i++) {
            bias[i] = withBias ? r.nextInt(20001) - 10000 : 0;
        }
        String act = r.nextInt(3) == 0 ? "Relu" : r.nextInt(3) == 0 ? "Clip" : "";
        float alpha = (r.nextFloat() - 0.6f) * 5;
        float beta = alpha + r.nextFloat() * 8;

        Map<String, Tensor> consts = map("as", Tensor.of(new float[] {aScale}), "az", zeroPoint(ta, za),
                "bs", Tensor.of(bScale, bScale.length), "bz", zbTensor(tb, zb),
                "ys", Tensor.of(new float[] {yScale}), "yz", zeroPoint(ty, yzp));
        Map<String, Tensor> inputs = map("a", a);
        if (bConstant) {
            consts.put("b", b);
        } else {
            inputs.put("b", b);
        }
        List<String> ins = new java.util.ArrayList<>(List.of("a", "as", "az", "b", "bs", "bz", "ys", "yz"));
        if (withBias) {
            consts.put("bias", Tensor.of(bias, n));
            ins.add("bias");
        }
        Node node = Node.of("mm", Op.QLinearMatMul, ins, List.of("y"));
        if (!act.isEmpty()) {
            node = node.withAttr("fused_activation", new Attr.Str(act));
            node = node.withAttr("fused_alpha", new Attr.Float(alpha)).withAttr("fused_beta", new Attr.Float(beta));
        }
        Tensor y = NativeRun.run(isa, node, inputs, consts);

        int[] bounds = NativeRun.outputBounds(ty, act, alpha, beta, yScale, yzp);
        int lo = bounds[0];
        int hi = bounds[1];
        int batches = Tensor.elementCount(variant == 2 ? new int[] {3, 2} : batch);
        int[] want = new int[batches * m * n];
        for (int bi = 0; bi < batches; bi++) {
            int aOff = (variant == 2 ? bi / 2 : bi) * m * k;
            int bOff = (variant == 2 ? bi % 2 : 0) * k * n;
            for (int i = 0; i < m; i++) {
                for (int j = 0; j < n; j++) {
                    int acc = bias[j];
                    int zbj = zb[perColumn ? j : 0];
                    for (int kk = 0; kk < k; kk++) {
                        acc += (value(a, aOff + i * k + kk) - za) * (value(b, bOff + kk * n + j) - zbj);
                    }
                    float mult = aScale * bScale[perColumn ? j : 0] / yScale;
                    want[(bi * m + i) * n + j] = requantize(acc, mult, yzp, lo, hi);
                }
            }
        }
        assertArrayEquals(variant == 2 ? new int[] {3, 2, m, n} : concat(batch, m, n), y.shape());
        assertNull(NativeRun.mismatch(y, want), () -> "isa " + isa + " variant " + variant + " " + ta + "x" + tb
                + "->" + ty + " act " + act + ": " + NativeRun.mismatch(y, want));
    }

    @Property(tries = 100)
    void matMulIntegerMatchesTheReference(@ForAll("isas") String isa, @ForAll long seed,
            @ForAll @IntRange(min = 1, max = 30) int m, @ForAll @IntRange(min = 1, max = 70) int k,
            @ForAll @IntRange(min = 1, max = 50) int n, @ForAll boolean bConstant, @ForAll boolean oneD) {
        Random r = new Random(seed);
        DType ta = r.nextBoolean() ? DType.UINT8 : DType.INT8;
        DType tb = r.nextBoolean() ? DType.UINT8 : DType.INT8;
        int rows = oneD ? 1 : m;
        Tensor a = oneD ? bytes(ta, r, k) : bytes(ta, r, m, k);
        Tensor b = bytes(tb, r, k, n);
        int[] za = new int[r.nextBoolean() && !oneD ? rows : 1];
        for (int i = 0; i < za.length; i++) {
            za[i] = randomZeroPoint(ta, r);
        }
        int[] zb = new int[r.nextBoolean() ? n : 1];
        for (int i = 0; i < zb.length; i++) {
            zb[i] = randomZeroPoint(tb, r);
        }
        Map<String, Tensor> consts = map("az", zbTensor(ta, za), "bz", zbTensor(tb, zb));
        Map<String, Tensor> inputs = map("a", a);
        (bConstant ? consts : inputs).put("b", b);
        Node node = Node.of("mmi", Op.MatMulInteger, List.of("a", "b", "az", "bz"), List.of("y"));
        Tensor y = NativeRun.run(isa, node, inputs, consts);
        int[] want = new int[rows * n];
        for (int i = 0; i < rows; i++) {
            for (int j = 0; j < n; j++) {
                int acc = 0;
                for (int kk = 0; kk < k; kk++) {
                    acc += (value(a, i * k + kk) - za[za.length == 1 ? 0 : i]) * (value(b, kk * n + j) - zb[zb.length == 1 ? 0 : j]);
                }
                want[i * n + j] = acc;
            }
        }
        assertArrayEquals(oneD ? new int[] {n} : new int[] {m, n}, y.shape());
        assertNull(NativeRun.mismatch(y, want), () -> "isa " + isa + ": " + NativeRun.mismatch(y, want));
    }

    /** Weights within [-64, 64]: no vpmaddubsw pair can saturate. */
    private static void narrow(Tensor b, Random r) {
        for (int i = 0; i < b.elementCount(); i++) {
            b.data().put(i, (byte) (r.nextInt(129) - 64));
        }
    }

    private static Tensor zbTensor(DType t, int[] z) {
        byte[] v = new byte[z.length];
        for (int i = 0; i < z.length; i++) {
            v[i] = (byte) z[i];
        }
        return z.length == 1 ? Tensor.ofBytes(t, v) : Tensor.ofBytes(t, v, z.length);
    }

    private static int[] concat(int[] batch, int... tail) {
        int[] s = Arrays.copyOf(batch, batch.length + tail.length);
        System.arraycopy(tail, 0, s, batch.length, tail.length);
        return s;
    }
}
