package dev.hedge.kernels.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
import dev.hedge.runtime.Session;
import dev.hedge.runtime.Tensor;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;

/** Runs one node through a Model with a NativeBackend and checks that the native backend ran it. */
final class NativeRun {

    private NativeRun() {
    }

    static Arbitrary<String> isas() {
        List<String> l = NativeBackend.supportedIsas();
        return l.isEmpty() ? Arbitraries.just("none") : Arbitraries.of(l);
    }

    /** Inputs (graph inputs) and constants (initializers) by name; returns output 0 (a copy). */
    static Tensor run(String isa, Node node, Map<String, Tensor> inputs, Map<String, Tensor> constants) {
        return run(NativeBackend.withIsa(isa), node, inputs, constants, 1);
    }

    /** As {@link #run(String, Node, Map, Map)} with {@code threads} intra-op threads. */
    static Tensor run(String isa, Node node, Map<String, Tensor> inputs, Map<String, Tensor> constants, int threads) {
        return run(NativeBackend.withIsa(isa), node, inputs, constants, threads);
    }

    /** The same on the Java reference backend alone. */
    static Tensor runReference(Node node, Map<String, Tensor> inputs, Map<String, Tensor> constants) {
        return run((NativeBackend) null, node, inputs, constants, 1);
    }

    private static Tensor run(NativeBackend backend, Node node, Map<String, Tensor> inputs,
            Map<String, Tensor> constants, int threads) {
        List<int[]> shapes = new ArrayList<>();
        try (Model m = model(backend, node, inputs, constants, threads, shapes); Session s = m.newSession()) {
            assertEquals(backend == null ? "java" : "native", m.plan(shapes).describe().get(0).backend(),
                    "backend of " + node.describe());
            Tensor y = s.run(inputs).get(node.output(0));
            return y.copy();
        }
    }

    /** Bytes the native backend's kernel for the node reports as packed outside the arena (Plan.packedBytes). */
    static long packedBytes(String isa, Node node, Map<String, Tensor> inputs, Map<String, Tensor> constants) {
        List<int[]> shapes = new ArrayList<>();
        try (Model m = model(NativeBackend.withIsa(isa), node, inputs, constants, 1, shapes)) {
            assertEquals("native", m.plan(shapes).describe().get(0).backend(), "backend of " + node.describe());
            return m.plan(shapes).packedBytes();
        }
    }

    /** A one-node model on backend (null: the Java reference alone); shapes receives the inputs' shapes. */
    static Model model(NativeBackend backend, Node node, Map<String, Tensor> inputs,
            Map<String, Tensor> constants, int threads, List<int[]> shapes) {
        Graph.Builder b = Graph.builder("g");
        for (Map.Entry<String, Tensor> e : inputs.entrySet()) {
            int[] s = e.getValue().shape();
            long[] dims = new long[s.length];
            for (int i = 0; i < s.length; i++) {
                dims[i] = s[i];
            }
            b.addInput(ValueInfo.of(e.getKey(), e.getValue().dtype(), dims));
            shapes.add(s);
        }
        constants.forEach(b::initializer);
        b.addNode(node);
        b.addOutput(new ValueInfo(node.output(0), null, null));
        // no kernel costs: backend priority, so the backend under test runs whatever it offers for
        RuntimeOptions options = RuntimeOptions.reference().withKernelCosts(KernelCosts.fixed(Map.of()))
                .withThreads(threads);
        options = backend == null ? options : options.withBackend(backend);
        return Model.of(new ModelDef(b.build(), Map.of()), options);
    }

    /**
     * 20000 runs, after 200 to warm up, allocate less than a byte each on the calling thread: a per-run
     * allocation fails, a one-off (a JIT recompilation) does not.
     */
    static void assertRunsAllocateNothing(String what, Runnable run) {
        for (int i = 0; i < 200; i++) {
            run.run();
        }
        com.sun.management.ThreadMXBean mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long before = mx.getCurrentThreadAllocatedBytes();
        for (int i = 0; i < 20000; i++) {
            run.run();
        }
        long bytes = mx.getCurrentThreadAllocatedBytes() - before;
        assertTrue(bytes < 20000, what + ": 20000 runs allocated " + bytes + " bytes");
    }

    /** QLinearMatMul of input a and constants as, az, b, bs, bz, ys, yz. */
    static Node qmatmul() {
        return Node.of("mm", Op.QLinearMatMul, List.of("a", "as", "az", "b", "bs", "bz", "ys", "yz"), List.of("y"));
    }

    /** Constants of {@link #qmatmul} with weights b: per-tensor scales, zero points 128, 0 and 120. */
    static Map<String, Tensor> qmatmulConsts(Tensor b) {
        return map("as", Tensor.of(new float[] {0.01f}), "az", zeroPoint(DType.UINT8, 128), "b", b,
                "bs", Tensor.of(new float[] {0.02f}), "bz", zeroPoint(DType.INT8, 0), "ys", Tensor.of(new float[] {0.5f}),
                "yz", zeroPoint(DType.UINT8, 120));
    }

    /** QLinearConv of input x with weights w (square window, padded to keep the plane) and {@link #qconvConsts}. */
    static Node qconv(Tensor w, int group) {
        int k = w.shape()[2];
        return Node.of("conv", Op.QLinearConv, List.of("x", "xs", "xz", "w", "ws", "wz", "ys", "yz"), List.of("y"))
                .withAttr("group", new Attr.Int(group))
                .withAttr("pads", new Attr.Ints(new long[] {k / 2, k / 2, k / 2, k / 2}));
    }

    /** Constants of {@link #qconv} with weights w: per-tensor scales, zero points 113, 0 and 97. */
    static Map<String, Tensor> qconvConsts(Tensor w) {
        return map("xs", Tensor.of(new float[] {0.02f}), "xz", zeroPoint(DType.UINT8, 113), "w", w,
                "ws", Tensor.of(new float[] {0.01f}), "wz", zeroPoint(DType.INT8, 0), "ys", Tensor.of(new float[] {0.3f}),
                "yz", zeroPoint(DType.UINT8, 97));
    }

    static Map<String, Tensor> map(Object... kv) {
        Map<String, Tensor> m = new LinkedHashMap<>();
        for (int i = 0; i < kv.length; i += 2) {
            m.put((String) kv[i], (Tensor) kv[i + 1]);
        }
        return m;
    }

    static Tensor bytes(DType t, Random r, int... shape) {
        byte[] v = new byte[Tensor.elementCount(shape)];
        r.nextBytes(v);
        return Tensor.ofBytes(t, v, shape);
    }

    /** Bytes with about {@code zeroPercent} % raw zeros. */
    static Tensor sparseBytes(DType t, Random r, int zeroPercent, int... shape) {
        Tensor x = bytes(t, r, shape);
        for (int i = 0; i < x.elementCount(); i++) {
            if (r.nextInt(100) < zeroPercent) {
                x.data().put(i, (byte) 0);
            }
        }
        return x;
    }

    static Tensor zeroPoint(DType t, int v, int... shape) {
        byte[] b = new byte[Tensor.elementCount(shape)];
        java.util.Arrays.fill(b, (byte) v);
        return Tensor.ofBytes(t, b, shape);
    }

    static int randomZeroPoint(DType t, Random r) {
        return t == DType.UINT8 ? r.nextInt(256) : r.nextInt(256) - 128;
    }

    /** A scale spanning typical magnitudes: 2^-12 .. 2^-2 with a random mantissa. */
    static float scale(Random r) {
        return (float) Math.scalb(1 + r.nextFloat(), -2 - r.nextInt(11));
    }

    /**
     * An output scale: {@link #scale} times 1 to {@code spread}, or now and then so small that scaled accumulators
     * pass 2^31 (the requantizations' saturation edge, where a float-to-int conversion would overflow).
     */
    static float outputScale(Random r, int spread) {
        return r.nextInt(8) == 0 ? scale(r) * 1e-7f : scale(r) * (1 + r.nextInt(spread));
    }

    /**
     * {lo, hi}: the quantized output range of type ty narrowed by a fused activation ("", "Relu" or "Clip" with
     * alpha and beta) at output scale yScale and zero point yzp.
     */
    static int[] outputBounds(DType ty, String act, float alpha, float beta, float yScale, int yzp) {
        int lo = ty == DType.UINT8 ? 0 : -128;
        int hi = ty == DType.UINT8 ? 255 : 127;
        if (act.equals("Relu")) {
            lo = Math.max(lo, yzp);
        } else if (act.equals("Clip")) {
            int ql = (int) Math.max(lo, Math.min(hi, yzp + Math.rint(alpha / yScale)));
            hi = (int) Math.max(lo, Math.min(hi, yzp + Math.rint(beta / yScale)));
            lo = ql;
        }
        return new int[] {lo, hi};
    }

    static int value(Tensor t, int i) {
        return t.dtype() == DType.UINT8 ? t.data().get(i) & 0xff : t.data().get(i);
    }

    /**
     * The reference requantization (the semantics every Hedge backend implements): float32 multiplier,
     * {@code (float) acc * m}, ties-to-even rounding, zero point, exact saturation to [lo, hi].
     */
    static int requantize(int acc, float mult, int yzp, int lo, int hi) {
        float v = (float) acc * mult;
        double q = Math.rint(v) + yzp;
        return (int) Math.max(lo, Math.min(hi, q));
    }

    static String mismatch(Tensor got, int[] want) {
        for (int i = 0; i < want.length; i++) {
            int g = got.dtype() == DType.INT32 ? got.data().getInt(4 * i) : value(got, i);
            if (g != want[i]) {
                return "element " + i + ": got " + g + ", want " + want[i];
            }
        }
        return null;
    }
}
