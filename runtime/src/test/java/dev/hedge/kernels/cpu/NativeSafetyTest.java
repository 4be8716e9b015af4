package dev.hedge.kernels.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.hedge.ir.Attr;
import dev.hedge.ir.Graph;
import dev.hedge.ir.ModelDef;
import dev.hedge.ir.Node;
import dev.hedge.ir.ValueInfo;
import dev.hedge.kernels.KernelCosts;
import dev.hedge.ops.Op;
import dev.hedge.plan.Frame;
import dev.hedge.plan.Plan;
import dev.hedge.runtime.DType;
import dev.hedge.runtime.HedgeException;
import dev.hedge.runtime.Model;
import dev.hedge.runtime.RuntimeOptions;
import dev.hedge.runtime.Tensor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/** Bad sizes are rejected in Java before any native call; heap inputs work; runs allocate nothing. */
class NativeSafetyTest {

    static int best;

    @BeforeAll
    static void needsNative() {
        org.junit.jupiter.api.Assumptions.assumeTrue(NativeBackend.isAvailable(), NativeBackend.unavailableReason());
        best = new NativeBackend().isaIndex();
    }

    private static void rejects(String fragment, Executable call) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call);
        assertTrue(e.getMessage().contains(fragment), () -> "'" + e.getMessage() + "' lacks '" + fragment + "'");
    }

    @Test
    void badSizesNeverReachNativeCode() {
        ByteBuffer zp = QuantInputs.ints(new int[] {0});
        ByteBuffer w = Native.allocate(64 * 32);
        int code = Native.chooseFamily(best, w, 0, false, 64, 32, 32, 1, 100);
        ByteBuffer packed = Native.allocate(Native.rowBytes(code, Native.WHO_WT, 64, 32));
        rejects("do not fit", () -> Native.packRows(code, Native.WHO_WT, packed, 0, w, 1, false, 64, 32, 32, 1, zp, 0, 0));
        rejects("do not fit", () -> Native.packRows(code, Native.WHO_WT, Native.allocate(64), 0, w, 0, false, 64, 32, 32,
                1, zp, 0, 0));
        rejects("must be positive", () -> Native.packRows(code, Native.WHO_WT, packed, 0, w, 0, false, -1, 32, 32, 1, zp,
                0, 0));
        rejects("not direct", () -> Native.packRows(code, Native.WHO_WT, packed, 0, ByteBuffer.allocate(4096), 0, false,
                64, 32, 32, 1, zp, 0, 0));
        rejects("zero-point stride", () -> Native.packRows(code, Native.WHO_WT, packed, 0, w, 0, false, 64, 32, 32, 1,
                zp, 0, 2));
        rejects("do not fit", () -> Native.packRows(code, Native.WHO_WT, packed, 0, w, 0, false, 64, 32, 32, 1, zp, 0, 1));
        rejects("bad kernel family", () -> Native.rowBytes(0x7f07, Native.WHO_WT, 1, 1));
        int foreign = (Native.isaMask() & (1 << Native.ISA_NEON)) != 0 ? Native.ISA_AVX2 : Native.ISA_NEON;
        if ((Native.isaMask() & (1 << foreign)) == 0) {
            rejects("not available", () -> Native.chooseFamily(foreign, w, 0, false, 64, 32, 32, 1, 100));
        }
        ByteBuffer q = Requant.build(new float[10], new int[10], 0, 0, 255, Native.OUT_U8);
        ByteBuffer panel = Native.allocate(Native.panelBytes(code, Native.WHO_ACT, 100, 32));
        ByteBuffer out = Native.allocate(64 * 100);
        rejects("channels", () -> Native.qgemm(code, false, packed, 0, 64, panel, 0, 100, 32, q, 0, out, 0, 100));
        ByteBuffer q64 = Requant.build(new float[64], new int[64], 0, 0, 255, Native.OUT_U8);
        rejects("do not fit", () -> Native.qgemm(code, false, packed, 0, 64, panel, 0, 100, 32, q64, 0, out, 1, 100));
        rejects("below", () -> Native.qgemm(code, false, packed, 0, 64, panel, 0, 100, 32, q64, 0, out, 0, 99));
        int nr = Native.panelWidth(code);
        rejects("is not inside", () -> Native.qgemmTile(code, false, packed, 0, 64, panel, 0, 100, 32, q64, 0, out, 0,
                100, 0, 65, 0, 100));
        rejects("is not inside", () -> Native.qgemmTile(code, false, packed, 0, 64, panel, 0, 100, 32, q64, 0, out, 0,
                100, 0, 64, 1, 100));
        if (nr < 100) {
            rejects("is not inside", () -> Native.qgemmTile(code, false, packed, 0, 64, panel, 0, 100, 32, q64, 0, out,
                    0, 100, 0, 64, 0, nr + 1));
        }
        rejects("do not fit", () -> Native.qgemmTile(code, false, packed, 0, 64, panel, 0, 100, 32, q64, 0, out, 1, 100,
                0, 64, 0, 100));
        Geom dw = new Geom(4, 4, 4, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 4, 4);
        ByteBuffer q4 = Requant.build(new float[4], new int[4], 0, 0, 255, Native.OUT_U8);
        rejects("outside", () -> Native.depthwise(best, out, 0, true, 0, dw, 1, out, 0, q4, 0, out, 0, out, 0, 2, 5));
        rejects("outside", () -> Native.depthwise(best, out, 0, true, 0, dw, 1, out, 0, q4, 0, out, 0, out, 0, 3, 3));
        rejects("not finite", () -> Requant.build(new float[] {Float.POSITIVE_INFINITY}, new int[1], 0, 0, 255, 0));
        Geom huge = new Geom(1, 1 << 30, 1 << 30, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1 << 30, 1 << 30);
        rejects("do not fit", () -> Native.maxPool8(best, false, out, 0, huge, out, 0));
        Geom neg = new Geom(1, 4, 4, 1, 1, 0, 1, 1, 1, 0, 0, 0, 0, 4, 4);
        rejects("geometry", () -> Native.maxPool8(best, false, out, 0, neg, out, 0));
        rejects("do not fit", () -> Native.transpose(1, out, 0, 1000, 1000, out, 0));
    }

    @Test
    void badFloatPoolAndConvArgumentsNeverReachNativeCode() {
        Geom g = new Geom(4, 8, 8, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 8, 8);
        ByteBuffer x = Native.allocate(4 * 4 * 64);
        ByteBuffer y = Native.allocate(4 * 4 * 64);
        rejects("outside", () -> Native.poolF32(best, Native.FPOOL_MAX, x, g, 2, 3, y));
        rejects("do not fit", () -> Native.poolF32(best, Native.FPOOL_MAX, x, g, 0, 4, Native.allocate(100)));
        rejects("pooling kind", () -> Native.poolF32(best, 7, x, g, 0, 4, y));
        rejects("do not fit", () -> Native.globalPoolF32(best, false, x, 0, 4, 65, y));
        rejects("must be positive", () -> Native.globalPoolF32(best, true, x, 0, 4, 0, y));
        // conv: 4 input channels 3x3 -> 5 output channels over 8x8 pixels
        long k = g.reduction();
        ByteBuffer w = Native.allocate(4 * 5 * k);
        ByteBuffer packed = Native.allocate(4 * Native.convF32PackedFloats(false, 5, k));
        rejects("do not fit", () -> Native.convF32Pack(false, w, 0, 5, k, Native.allocate(4 * 5 * k), 0));
        Native.convF32Pack(false, w, 0, 5, k, packed, 0);
        ByteBuffer bias = Native.allocate(4 * 5);
        ByteBuffer out = Native.allocate(4 * 5 * 64);
        ByteBuffer col = Native.allocate(4 * k * 32);
        rejects("outside", () -> Native.convF32(best, false, x, 0, g, 5, packed, 0, bias, 0, 0, 0, 0, out, 0, 0, 65, col, 0, 32));
        rejects("multiple of 32", () -> Native.convF32(best, false, x, 0, g, 5, packed, 0, bias, 0, 0, 0, 0, out, 0, 0, 64, col,
                0, 48));
        rejects("do not fit", () -> Native.convF32(best, false, x, 0, g, 5, packed, 0, bias, 0, 0, 0, 0, out, 4, 0, 64, col, 0,
                32));
        // scratch smaller than the im2col chunk (or, on AVX-512, the padded image) needs
        rejects("do not fit", () -> Native.convF32(best, false, x, 0, g, 5, packed, 0, bias, 0, 0, 0, 0, out, 0, 0, 64,
                Native.allocate(4 * 100), 0, 32));
        rejects("scratch missing", () -> Native.convF32(best, false, x, 0, g, 5, packed, 0, bias, 0, 0, 0, 0, out, 0, 0, 64, null,
                0, 32));
        rejects("activation", () -> Native.convF32(best, false, x, 0, g, 5, packed, 0, bias, 0, 3, 0, 0, out, 0, 0, 64, col, 0,
                32));
        Native.convF32(best, false, x, 0, g, 5, packed, 0, bias, 0, 0, 0, 0, out, 0, 0, 64, col, 0, 32);
        if (best != Native.ISA_AVX512) {
            rejects("transposed", () -> Native.convF32(best, true, x, 0, g, 5, packed, 0, bias, 0, 0, 0, 0, out, 0, 0, 64,
                    col, 0, 32));
        }
    }

    @Test
    void badQuantizedElementwiseArgumentsNeverReachNativeCode() {
        ByteBuffer a = Native.allocate(100);
        ByteBuffer b = Native.allocate(10);
        ByteBuffer y = Native.allocate(100);
        Native.qelt(best, false, false, a, b, false, 10, 10, y, 100, 0, 100, 1 << 19, 1 << 19, 20, 0, 0, 0, 0, 255);
        rejects("outside", () -> Native.qelt(best, false, false, a, b, false, 10, 10, y, 100, 50, 51, 1, 1, 1, 0, 0,
                0, 0, 255));
        rejects("do not fit", () -> Native.qelt(best, false, false, a, b, true, 10, 10, y, 100, 0, 100, 1, 1, 1, 0, 0,
                0, 0, 255));
        rejects("exceeds", () -> Native.qelt(best, true, false, a, b, false, 11, 10, y, 100, 0, 100, 1, 0, 1, 0, 0,
                0, 0, 255));
        rejects("do not fit", () -> Native.qelt(best, true, false, a, b, true, 10, 10, Native.allocate(99), 99, 0,
                99, 1, 0, 1, 0, 0, 0, 0, 255));
        rejects("out of range", () -> Native.qelt(best, true, false, a, b, false, 10, 10, y, 100, 0, 100, 1 << 15, 0,
                1, 0, 0, 0, 0, 255));
        rejects("out of range", () -> Native.qelt(best, false, false, a, b, false, 10, 10, y, 100, 0, 100, 1, 1, 31,
                0, 0, 0, 0, 255));
        rejects("INT8 range", () -> Native.qelt(best, false, true, a, b, false, 10, 10, y, 100, 0, 100, 1, 1, 1,
                0, 200, 0, -128, 127));
        rejects("empty clamp", () -> Native.qelt(best, false, false, a, b, false, 10, 10, y, 100, 0, 100, 1, 1, 1,
                0, 0, 0, 9, 8));
        rejects("must be positive", () -> Native.qelt(best, false, false, a, b, false, 0, 10, y, 100, 0, 100, 1, 1,
                1, 0, 0, 0, 0, 255));
        rejects("not direct", () -> Native.qelt(best, false, false, ByteBuffer.allocate(100), b, false, 10, 10, y,
                100, 0, 100, 1, 1, 1, 0, 0, 0, 0, 255));
        Native.qGlobalAverage(best, false, a, 4, 25, 1 << 29, 30, 0, 0, 0, 255, y);
        rejects("do not fit", () -> Native.qGlobalAverage(best, false, a, 5, 21, 1 << 29, 30, 0, 0, 0, 255, y));
        rejects("do not fit", () -> Native.qGlobalAverage(best, false, a, 4, 25, 1 << 29, 30, 0, 0, 0, 255,
                Native.allocate(3)));
        rejects("2^23", () -> Native.qGlobalAverage(best, false, a, 1, 1 << 23, 1, 30, 0, 0, 0, 255, y));
        rejects("out of range", () -> Native.qGlobalAverage(best, false, a, 4, 25, 1, 63, 0, 0, 0, 255, y));
        rejects("must be positive", () -> Native.qGlobalAverage(best, false, a, 0, 25, 1, 30, 0, 0, 0, 255, y));
        // QLinearAveragePool: 4 planes of 5x5, 2x2 windows stride 2 -> 2x2
        Geom g = new Geom(4, 5, 5, 2, 2, 2, 2, 1, 1, 0, 0, 0, 0, 2, 2);
        ByteBuffer table = Native.allocate(12 * 4);
        for (int i = 0; i < 4; i++) {
            table.putLong(8 * i, 1L << 29);
            table.putInt(32 + 4 * i, 30);
        }
        Native.qAveragePool(false, a, g, false, table, 0, 0, 0, 255, y);
        rejects("do not fit", () -> Native.qAveragePool(false, a, g, false, Native.allocate(47), 0, 0, 0, 255, y));
        rejects("do not fit", () -> Native.qAveragePool(false, Native.allocate(99), g, false, table, 0, 0, 0, 255, y));
        rejects("do not fit", () -> Native.qAveragePool(false, a, g, false, table, 0, 0, 0, 255, Native.allocate(15)));
        rejects("geometry", () -> Native.qAveragePool(false, a, new Geom(4, 5, 5, 2, 2, 0, 2, 1, 1, 0, 0, 0, 0, 2, 2),
                false, table, 0, 0, 0, 255, y));
        table.putInt(32, 63);
        rejects("divisor table", () -> Native.qAveragePool(false, a, g, false, table, 0, 0, 0, 255, y));
    }

    @Test
    void badModelsFailWithTheNodeNamed() {
        Graph g = Graph.builder("g")
                .addInput(ValueInfo.of("x", DType.UINT8, 1, 4, 5, 5))
                .initializer("xs", Tensor.of(new float[] {0.1f}))
                .initializer("xz", Tensor.ofBytes(DType.UINT8, new byte[] {3}))
                .initializer("w", Tensor.ofBytes(DType.INT8, new byte[8 * 4 * 9], 8, 4, 3, 3))
                .initializer("ws", Tensor.of(new float[] {0.1f}))
                .initializer("wz", Tensor.ofBytes(DType.INT8, new byte[] {0}))
                .initializer("ys", Tensor.of(new float[] {0.2f}))
                .initializer("yz", Tensor.ofBytes(DType.UINT8, new byte[] {0}))
                .initializer("b", Tensor.of(new int[] {1, 2, 3}, 3))
                .addNode(Node.of("bad_conv", Op.QLinearConv, List.of("x", "xs", "xz", "w", "ws", "wz", "ys", "yz", "b"),
                        List.of("y")))
                .addOutput(new ValueInfo("y", null, null))
                .build();
        HedgeException e = assertThrows(HedgeException.class, () -> {
            try (Model m = Model.of(new ModelDef(g, Map.of()), RuntimeOptions.reference().withBackend(new NativeBackend()))) {
                m.plan(List.of(new int[] {1, 4, 5, 5}));
            }
        });
        assertTrue(e.getMessage().contains("bad_conv") && e.getMessage().contains("INT32[8]"), e.getMessage());
    }

    private static Map<String, Tensor> qmatmulConsts(Random r) {
        return NativeRun.map("as", Tensor.of(new float[] {0.02f}), "az", NativeRun.zeroPoint(DType.UINT8, 128),
                "b", NativeRun.bytes(DType.INT8, r, 37, 19), "bs", Tensor.of(new float[] {0.01f}),
                "bz", NativeRun.zeroPoint(DType.INT8, 0), "ys", Tensor.of(new float[] {0.05f}),
                "yz", NativeRun.zeroPoint(DType.UINT8, 7));
    }

    @Test
    void heapInputsAreStagedAndGiveTheSameResult() {
        Random r = new Random(5);
        Map<String, Tensor> consts = qmatmulConsts(r);
        Tensor direct = NativeRun.bytes(DType.UINT8, r, 11, 37);
        ByteBuffer heap = ByteBuffer.allocate(direct.byteSize()).order(ByteOrder.LITTLE_ENDIAN);
        heap.put(0, direct.data(), 0, direct.byteSize());
        Tensor onHeap = Tensor.wrap(DType.UINT8, new int[] {11, 37}, heap);
        String isa = new NativeBackend().isa();
        Tensor a = NativeRun.run(isa, NativeRun.qmatmul(), NativeRun.map("a", direct), consts);
        Tensor b = NativeRun.run(isa, NativeRun.qmatmul(), NativeRun.map("a", onHeap), consts);
        assertArrayEquals(a.toIntArray(), b.toIntArray());
    }

    @Test
    void floatConvPoolAndAddRunsAllocateNothing() {
        Random r = new Random(7);
        float[] wv = new float[24 * 8 * 9];
        for (int i = 0; i < wv.length; i++) {
            wv[i] = (float) r.nextGaussian();
        }
        // a stride-1 conv (padded-image path on AVX-512), a stride-2 conv (im2col), max and global pooling, add
        Graph g = Graph.builder("g").addInput(ValueInfo.of("x", DType.FLOAT32, 1, 8, 15, 15))
                .initializer("w", Tensor.of(wv, 24, 8, 3, 3))
                .initializer("w2", Tensor.of(wv.clone(), 24, 8, 3, 3))
                .addNode(Node.of("c1", Op.Conv, List.of("x", "w"), List.of("a"))
                        .withAttr("pads", new Attr.Ints(new long[] {1, 1, 1, 1})))
                .addNode(Node.of("c2", Op.Conv, List.of("x", "w2"), List.of("b"))
                        .withAttr("strides", new Attr.Ints(new long[] {2, 2})))
                .addNode(Node.of("p", Op.MaxPool, List.of("a"), List.of("c"))
                        .withAttr("kernel_shape", new Attr.Ints(new long[] {3, 3}))
                        .withAttr("strides", new Attr.Ints(new long[] {2, 2})))
                .addNode(Node.of("gp", Op.GlobalAveragePool, List.of("b"), List.of("d")))
                .addNode(Node.of("s", Op.Add, List.of("a", "a"), List.of("e")))
                .addOutput(new ValueInfo("c", null, null)).addOutput(new ValueInfo("d", null, null))
                .addOutput(new ValueInfo("e", null, null)).build();
        try (Model m = Model.of(new ModelDef(g, Map.of()),
                RuntimeOptions.reference().withBackend(new NativeBackend()).withKernelCosts(KernelCosts.fixed(Map.of())))) {
            Plan plan = m.plan(List.of(new int[] {1, 8, 15, 15}));
            for (var step : plan.describe()) {
                assertEquals("native", step.backend(), step.toString());
            }
            Frame f = plan.newFrame();
            Tensor x = Tensor.allocate(DType.FLOAT32, 1, 8, 15, 15);
            for (int i = 0; i < x.elementCount(); i++) {
                x.setFloat(i, (float) r.nextGaussian());
            }
            List<Tensor> in = List.of(x);
            NativeRun.assertRunsAllocateNothing("float conv, pool and add", () -> f.run(in));
        }
    }

    @Test
    void quantizedElementwiseAndPoolRunsAllocateNothing() {
        Random r = new Random(8);
        Graph g = Graph.builder("g").addInput(ValueInfo.of("x", DType.UINT8, 1, 16, 9, 9))
                .addInput(ValueInfo.of("c", DType.UINT8, 1, 16, 1, 1))
                .initializer("s", Tensor.of(new float[] {0.05f}))
                .initializer("z", NativeRun.zeroPoint(DType.UINT8, 100))
                .initializer("s2", Tensor.of(new float[] {0.08f}))
                .addNode(Node.of("add", Op.QLinearAdd, List.of("x", "s", "z", "x", "s", "z", "s2", "z"), List.of("a")))
                .addNode(Node.of("mul", Op.QLinearMul, List.of("a", "s2", "z", "c", "s", "z", "s2", "z"), List.of("m")))
                .addNode(Node.of("gap", Op.QLinearGlobalAveragePool, List.of("m", "s2", "z", "s", "z"), List.of("y")))
                .addOutput(new ValueInfo("y", null, null)).build();
        try (Model m = Model.of(new ModelDef(g, Map.of()),
                RuntimeOptions.reference().withBackend(new NativeBackend()).withKernelCosts(KernelCosts.fixed(Map.of())))) {
            Plan plan = m.plan(List.of(new int[] {1, 16, 9, 9}, new int[] {1, 16, 1, 1}));
            for (var step : plan.describe()) {
                assertEquals("native", step.backend(), step.toString());
            }
            Frame f = plan.newFrame();
            List<Tensor> in = List.of(NativeRun.bytes(DType.UINT8, r, 1, 16, 9, 9), NativeRun.bytes(DType.UINT8, r, 1, 16, 1, 1));
            NativeRun.assertRunsAllocateNothing("quantized elementwise and pool", () -> f.run(in));
        }
    }

    @Test
    void runsAllocateNothing() {
        Random r = new Random(6);
        Graph.Builder b = Graph.builder("g").addInput(ValueInfo.of("a", DType.UINT8, 11, 37));
        qmatmulConsts(r).forEach(b::initializer);
        Graph g = b.addNode(NativeRun.qmatmul()).addOutput(new ValueInfo("y", null, null)).build();
        try (Model m = Model.of(new ModelDef(g, Map.of()), RuntimeOptions.reference().withBackend(new NativeBackend()))) {
            Plan plan = m.plan(List.of(new int[] {11, 37}));
            assertEquals("native", plan.describe().get(0).backend());
            Frame f = plan.newFrame();
            List<Tensor> in = List.of(NativeRun.bytes(DType.UINT8, r, 11, 37));
            NativeRun.assertRunsAllocateNothing("qmatmul", () -> f.run(in));
        }
    }

    @Test
    void everyInstructionSetComputesTheSameLargeGemm() {
        Random r = new Random(7);
        int m = 300;
        int n = 260;
        int k = 515;
        ByteBuffer a = Native.allocate((long) m * k);
        ByteBuffer w = Native.allocate((long) k * n);
        byte[] v = new byte[m * k];
        r.nextBytes(v);
        a.put(0, v);
        v = new byte[k * n];
        r.nextBytes(v);
        w.put(0, v);
        ByteBuffer za = QuantInputs.ints(new int[] {17});
        ByteBuffer zb = QuantInputs.ints(new int[] {-3});
        ByteBuffer q = Requant.build(new float[n], new int[n], 0, 0, 0, Native.OUT_S32);
        int[] first = null;
        for (String isa : NativeBackend.supportedIsas()) {
            int idx = NativeBackend.withIsa(isa).isaIndex();
            int code = Native.chooseFamily(idx, w, 0, false, n, k, 1, n, n);
            ByteBuffer pb = Native.allocate(Native.panelBytes(code, Native.WHO_WT, n, k));
            Native.packPanel(code, Native.WHO_WT, pb, 0, w, 0, false, n, k, 1, n, zb, 0, 0);
            ByteBuffer pa = Native.allocate(Native.rowBytes(code, Native.WHO_ACT, m, k));
            Native.packActRows(code, pa, 0, a, 0, true, m, k, k, za, 0, 0);
            ByteBuffer out = Native.allocate(4L * m * n);
            Native.qgemm(code, true, pa, 0, m, pb, 0, n, k, q, 0, out, 0, n);
            int[] res = new int[m * n];
            out.asIntBuffer().get(0, res);
            if (first == null) {
                first = res;
                // spot-check the first ISA against the definition
                for (int t = 0; t < 50; t++) {
                    int i = r.nextInt(m);
                    int j = r.nextInt(n);
                    int acc = 0;
                    for (int kk = 0; kk < k; kk++) {
                        acc += ((a.get(i * k + kk) & 0xff) - 17) * (w.get(kk * n + j) + 3);
                    }
                    assertEquals(acc, res[i * n + j]);
                }
            } else {
                assertArrayEquals(first, res, isa);
            }
        }
    }

    @Test
    void availabilityIsReported() {
        assertTrue(NativeBackend.supportedIsas().contains("scalar"));
        assertEquals(null, NativeBackend.unavailableReason());
        assertTrue(NativeBackend.supportedIsas().contains(new NativeBackend().isa()));
        assertThrows(IllegalArgumentException.class, () -> NativeBackend.withIsa("sse9"));
    }
}
