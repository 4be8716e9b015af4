package dev.hedge.kernels.cpu;

import static dev.hedge.kernels.cpu.NativeRun.map;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.hedge.ir.Attr;
import dev.hedge.ir.Node;
import dev.hedge.ops.Op;
import dev.hedge.runtime.DType;
import dev.hedge.runtime.Tensor;
import java.util.List;
import java.util.Map;
import java.util.Random;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.lifecycle.AddLifecycleHook;

/** Native QuantizeLinear / DequantizeLinear (one scale and zero point) against the Java reference, bit for bit. */
@AddLifecycleHook(NeedsNative.class)
class QdqPropertiesTest {

    @Provide
    Arbitrary<String> isas() {
        return NativeRun.isas();
    }

    /** Floats around the rounding ties and saturation edges of the scale, plus NaN, infinities and zeros. */
    private static float value(Random r, float scale) {
        switch (r.nextInt(8)) {
            case 0: return (r.nextInt(600) - 300 + 0.5f) * scale; // ties (as far as float division allows)
            case 1: return Float.NaN;
            case 2: return r.nextBoolean() ? Float.POSITIVE_INFINITY : Float.NEGATIVE_INFINITY;
            case 3: return r.nextBoolean() ? 0f : -0f;
            case 4: return (float) r.nextGaussian() * 1e6f;
            default: return (float) r.nextGaussian() * 200 * scale;
        }
    }

    @Property(tries = 150)
    void quantizeMatchesTheReference(@ForAll("isas") String isa, @ForAll long seed) {
        Random r = new Random(seed);
        int n = 1 + r.nextInt(r.nextBoolean() ? 40 : 3000);
        float scale = NativeRun.scale(r) * (r.nextBoolean() ? 1 : 1000);
        DType out = r.nextBoolean() ? DType.UINT8 : DType.INT8;
        int zp = NativeRun.randomZeroPoint(out, r);
        Tensor x = Tensor.allocate(DType.FLOAT32, 1, n);
        for (int i = 0; i < n; i++) {
            x.setFloat(i, value(r, scale));
        }
        boolean withZp = zp != 0 || out == DType.INT8 || r.nextBoolean();
        Map<String, Tensor> consts = withZp
                ? map("s", Tensor.of(new float[] {scale}), "z", NativeRun.zeroPoint(out, zp))
                : map("s", Tensor.of(new float[] {scale}));
        Node node = Node.of("q", Op.QuantizeLinear, withZp ? List.of("x", "s", "z") : List.of("x", "s"), List.of("y"));
        Tensor got = NativeRun.run(isa, node, map("x", x), consts);
        Tensor want = NativeRun.runReference(node, map("x", x), consts);
        assertEquals(out, got.dtype());
        assertArrayEquals(bytes(want), bytes(got), () -> "isa " + isa + " n " + n + " scale " + scale + " zp " + zp);
        // the formula, independently: NaN gives 0, the rest rounds half to even and saturates
        int lo = out == DType.UINT8 ? 0 : -128;
        int hi = out == DType.UINT8 ? 255 : 127;
        for (int i = 0; i < n; i++) {
            float v = x.getFloat(i);
            int q = Float.isNaN(v) ? 0 : (int) Math.max(lo, Math.min(hi, (float) Math.rint(v / scale) + zp));
            assertEquals(q, NativeRun.value(got, i), "element " + i + " = " + v);
        }
    }

    @Property(tries = 100)
    void dequantizeMatchesTheReference(@ForAll("isas") String isa, @ForAll long seed) {
        Random r = new Random(seed);
        int n = 1 + r.nextInt(r.nextBoolean() ? 40 : 3000);
        DType in = r.nextBoolean() ? DType.UINT8 : DType.INT8;
        int zp = NativeRun.randomZeroPoint(in, r);
        float scale = NativeRun.scale(r);
        Tensor x = NativeRun.bytes(in, r, 2, n);
        Map<String, Tensor> consts = map("s", Tensor.of(new float[] {scale}), "z", NativeRun.zeroPoint(in, zp));
        Node node = Node.of("dq", Op.DequantizeLinear, List.of("x", "s", "z"), List.of("y"));
        Tensor got = NativeRun.run(isa, node, map("x", x), consts);
        Tensor want = NativeRun.runReference(node, map("x", x), consts);
        for (int i = 0; i < 2 * n; i++) {
            float expect = (float) (NativeRun.value(x, i) - zp) * scale;
            assertEquals(Float.floatToRawIntBits(expect), Float.floatToRawIntBits(got.getFloat(i)), "element " + i);
            assertEquals(Float.floatToRawIntBits(want.getFloat(i)), Float.floatToRawIntBits(got.getFloat(i)));
        }
    }

    @Property(tries = 1)
    void onlyOneScaleForTheWholeTensorRunsNatively() {
        Node node = Node.of("q", Op.QuantizeLinear, List.of("x", "s"), List.of("y"))
                .withAttr("axis", new Attr.Int(1));
        assertEquals(false, QdqKernel.takes(node, DType.FLOAT32, new int[] {3}, DType.FLOAT32, null, null));
        assertEquals(true, QdqKernel.takes(node, DType.FLOAT32, new int[] {}, DType.FLOAT32, null, null));
        assertEquals(false, QdqKernel.takes(node, DType.FLOAT16, new int[] {}, DType.FLOAT32, null, null));
    }

    private static byte[] bytes(Tensor t) {
        byte[] b = new byte[t.byteSize()];
        t.data().get(0, b);
        return b;
    }
}
