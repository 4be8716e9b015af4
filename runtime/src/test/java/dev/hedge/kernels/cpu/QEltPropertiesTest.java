package dev.hedge.kernels.cpu;

import static dev.hedge.kernels.cpu.NativeRun.map;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.hedge.ir.Attr;
import dev.hedge.ir.Graph;
import dev.hedge.ir.ModelDef;
import dev.hedge.ir.Node;
import dev.hedge.ir.ValueInfo;
import dev.hedge.kernels.KernelCosts;
import dev.hedge.ops.Op;
import dev.hedge.runtime.DType;
import dev.hedge.runtime.Model;
import dev.hedge.runtime.RuntimeOptions;
import dev.hedge.runtime.Tensor;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.lifecycle.AddLifecycleHook;

/**
 * Native QLinearAdd, QLinearMul, QLinearAveragePool and QLinearGlobalAveragePool on every instruction set this CPU has, byte for
 * byte against the Java reference backend (whose fixed point QuantElementwiseTest checks against the real-valued
 * formulas): same shapes, scalar and per-channel broadcasts on either side, odd sizes and sizes across the
 * kernel's chunks, random zero points and scales, values at the ends of the range, fused Relu / Clip.
 */
@AddLifecycleHook(NeedsNative.class)
class QEltPropertiesTest {

    @Provide
    Arbitrary<String> isas() {
        return NativeRun.isas();
    }

    /** Bytes with many at the ends of the range (saturation). */
    private static Tensor values(DType t, Random r, int... shape) {
        Tensor x = NativeRun.bytes(t, r, shape);
        for (int i = 0; i < x.elementCount(); i++) {
            int k = r.nextInt(8);
            if (k < 2) {
                boolean low = k == 0;
                x.data().put(i, (byte) (t == DType.UINT8 ? (low ? 0 : 255) : (low ? -128 : 127)));
            }
        }
        return x;
    }

    /** Scales whose ratios span about 1/300 .. 300. */
    private static float scale(Random r) {
        return (float) (Math.pow(10, -1.25 + 2.5 * r.nextDouble()) * 0.01);
    }

    private static Tensor zp(DType t, Random r) {
        return NativeRun.zeroPoint(t, NativeRun.randomZeroPoint(t, r));
    }

    @Property(tries = 250)
    void addAndMulMatchTheReference(@ForAll("isas") String isa, @ForAll long seed) {
        Random r = new Random(seed);
        boolean mul = r.nextBoolean();
        DType t = r.nextBoolean() ? DType.UINT8 : DType.INT8;
        int rank = 1 + r.nextInt(4);
        int[] full = new int[rank];
        for (int i = 0; i < rank; i++) {
            full[i] = 1 + r.nextInt(i == rank - 1 && r.nextInt(4) == 0 ? 70000 : 13);
        }
        int[] other;
        switch (r.nextInt(4)) {
            case 0: other = new int[0]; break; // scalar
            case 1: { // per-channel: axis 1 kept (or the only axis)
                other = new int[rank];
                Arrays.fill(other, 1);
                other[rank > 1 ? 1 : 0] = full[rank > 1 ? 1 : 0];
                break;
            }
            case 2: other = Arrays.copyOfRange(full, r.nextInt(rank), rank); break; // trailing axes
            default: other = full.clone();
        }
        boolean swap = r.nextBoolean();
        int[] as = swap ? other : full;
        int[] bs = swap ? full : other;
        float sa = scale(r);
        float sb = scale(r);
        float sc = mul ? sa * sb * (float) Math.pow(10, -0.5 + 3 * r.nextDouble()) : scale(r);
        Node node = new Node("q", mul ? Op.QLinearMul : Op.QLinearAdd,
                List.of("a", "as", "az", "b", "bs", "bz", "cs", "cz"), List.of("y"), activation(r, sc));
        Map<String, Tensor> consts = map("as", Tensor.of(new float[] {sa}), "az", zp(t, r),
                "bs", Tensor.of(new float[] {sb}), "bz", zp(t, r), "cs", Tensor.of(new float[] {sc}), "cz", zp(t, r));
        Map<String, Tensor> in = new LinkedHashMap<>();
        in.put("a", values(t, r, as));
        Tensor b = values(t, r, bs);
        if (r.nextBoolean()) {
            in.put("b", b);
        } else {
            consts.put("b", b);
        }
        Tensor got = NativeRun.run(isa, node, in, consts);
        Tensor want = NativeRun.runReference(node, in, consts);
        assertArrayEquals(want.shape(), got.shape());
        assertEquals(want.dtype(), got.dtype());
        assertEquals(null, NativeRun.mismatch(got, ints(want)),
                "isa " + isa + " " + node.op() + " " + Arrays.toString(as) + " x " + Arrays.toString(bs));
    }

    private static Map<String, Attr> activation(Random r, float sc) {
        switch (r.nextInt(3)) {
            case 0: return Map.of();
            case 1: return Map.of("fused_activation", new Attr.Str("Relu"));
            default: {
                float lo = sc * (r.nextInt(60) - 30);
                return Map.of("fused_activation", new Attr.Str("Clip"), "fused_alpha", new Attr.Float(lo),
                        "fused_beta", new Attr.Float(lo + sc * r.nextInt(200)));
            }
        }
    }

    @Property(tries = 150)
    void globalAveragePoolMatchesTheReference(@ForAll("isas") String isa, @ForAll long seed) {
        Random r = new Random(seed);
        DType t = r.nextBoolean() ? DType.UINT8 : DType.INT8;
        int n = 1 + r.nextInt(2);
        int c = 1 + r.nextInt(40);
        int h = 1 + r.nextInt(r.nextInt(4) == 0 ? 60 : 9);
        int w = 1 + r.nextInt(r.nextInt(4) == 0 ? 60 : 9);
        float sx = scale(r);
        float sy = r.nextBoolean() ? sx : scale(r);
        Node node = Node.of("gap", Op.QLinearGlobalAveragePool, List.of("x", "xs", "xz", "ys", "yz"), List.of("y"));
        Map<String, Tensor> consts = map("xs", Tensor.of(new float[] {sx}), "xz", zp(t, r),
                "ys", Tensor.of(new float[] {sy}), "yz", zp(t, r));
        Map<String, Tensor> in = map("x", values(t, r, n, c, h, w));
        Tensor got = NativeRun.run(isa, node, in, consts);
        Tensor want = NativeRun.runReference(node, in, consts);
        assertArrayEquals(new int[] {n, c, 1, 1}, got.shape());
        assertEquals(null, NativeRun.mismatch(got, ints(want)), "isa " + isa + " [" + n + ", " + c + ", " + h + ", " + w + "]");
    }

    @Property(tries = 150)
    void averagePoolMatchesTheReference(@ForAll("isas") String isa, @ForAll long seed) {
        Random r = new Random(seed);
        DType t = r.nextBoolean() ? DType.UINT8 : DType.INT8;
        int rank = r.nextInt(4) == 0 ? 1 : 2;
        QuantConvPropertiesTest.Window win = new QuantConvPropertiesTest.Window(r, rank, true);
        boolean ceil = r.nextBoolean();
        int[] spatial = new int[rank];
        for (int i = 0; i < rank; i++) {
            spatial[i] = 1 + r.nextInt(30);
        }
        if (win.resolve(spatial, ceil) == null) {
            return;
        }
        int[] shape = new int[rank + 2];
        shape[0] = 1 + r.nextInt(2);
        shape[1] = 1 + r.nextInt(5);
        System.arraycopy(spatial, 0, shape, 2, rank);
        long[] k = Arrays.stream(win.k).asLongStream().toArray();
        Node node = win.apply(Node.of("pool", Op.QLinearAveragePool, List.of("x", "xs", "xz", "ys", "yz"), List.of("y")))
                .withAttr("kernel_shape", new Attr.Ints(k)).withAttr("ceil_mode", new Attr.Int(ceil ? 1 : 0))
                .withAttr("count_include_pad", new Attr.Int(r.nextInt(2)));
        float sx = scale(r);
        Map<String, Tensor> consts = map("xs", Tensor.of(new float[] {sx}), "xz", zp(t, r),
                "ys", Tensor.of(new float[] {r.nextBoolean() ? sx : scale(r)}), "yz", zp(t, r));
        Map<String, Tensor> in = map("x", values(t, r, shape));
        Tensor got = NativeRun.run(isa, node, in, consts);
        Tensor want = NativeRun.runReference(node, in, consts);
        assertArrayEquals(want.shape(), got.shape());
        assertEquals(null, NativeRun.mismatch(got, ints(want)), "isa " + isa + " " + node + " " + Arrays.toString(shape));
    }

    @Example
    void otherBroadcastsStayOnTheReferenceBackend() {
        // B [2, 1, 4] against A [2, 3, 4]: two separate broadcast axes
        Graph g = Graph.builder("g").addInput(ValueInfo.of("a", DType.UINT8, 2, 3, 4))
                .addInput(ValueInfo.of("b", DType.UINT8, 2, 1, 4))
                .initializer("s", Tensor.of(new float[] {0.1f}))
                .initializer("z", NativeRun.zeroPoint(DType.UINT8, 3))
                .addNode(Node.of("add", Op.QLinearAdd, List.of("a", "s", "z", "b", "s", "z", "s", "z"), List.of("y")))
                .addOutput(new ValueInfo("y", null, null)).build();
        RuntimeOptions o = RuntimeOptions.reference().withBackend(new NativeBackend())
                .withKernelCosts(KernelCosts.fixed(Map.of()));
        try (Model m = Model.of(new ModelDef(g, Map.of()), o)) {
            assertEquals("java", m.plan(List.of(new int[] {2, 3, 4}, new int[] {2, 1, 4})).describe().get(0).backend());
            assertEquals("native",
                    m.plan(List.of(new int[] {2, 3, 4}, new int[] {2, 3, 4})).describe().get(0).backend());
        }
    }

    private static int[] ints(Tensor t) {
        int[] v = new int[t.elementCount()];
        for (int i = 0; i < v.length; i++) {
            v[i] = NativeRun.value(t, i);
        }
        return v;
    }
}
