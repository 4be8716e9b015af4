package dev.hedge.kernels.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.hedge.ir.Attr;
import dev.hedge.ir.Graph;
import dev.hedge.ir.ModelDef;
import dev.hedge.ir.Node;
import dev.hedge.ir.ValueInfo;
import dev.hedge.kernels.KernelCosts;
import dev.hedge.ops.Op;
import dev.hedge.plan.Plan;
import dev.hedge.runtime.DType;
import dev.hedge.runtime.Model;
import dev.hedge.runtime.RuntimeOptions;
import dev.hedge.runtime.Session;
import dev.hedge.runtime.Tensor;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.lifecycle.AddLifecycleHook;

/**
 * The int8-weight LSTM ({@link LstmQ8Kernel}, hk_lstm.h) against the reference LSTM on the same graph: W and R
 * as DequantizeLinear of int8 constants with per-row scales, as the converter writes int8-weight LSTMs. All three
 * outputs, every direction, initial states present or not, several steps and batch rows.
 */
@AddLifecycleHook(NeedsNative.class)
class LstmQ8KernelTest {

    @Property(tries = 40)
    void matchesTheReference(@ForAll long seed) {
        if (!NativeBackend.supportedIsas().contains("avx512-vnni")) {
            return; // the kernel is AVX-512 only; elsewhere the reference runs these LSTMs
        }
        Random r = new Random(seed);
        String dir = new String[] {"forward", "reverse", "bidirectional"}[r.nextInt(3)];
        int dirs = dir.equals("bidirectional") ? 2 : 1;
        int seq = 1 + r.nextInt(3);
        int batch = 1 + r.nextInt(2);
        int in = 1 + r.nextInt(140);
        int hidden = 16 * (1 + r.nextInt(8));
        boolean bias = r.nextBoolean();
        boolean init = r.nextBoolean();
        Graph g = graph(r, dir, dirs, seq, batch, in, hidden, bias, init, false);
        Map<String, Tensor> inputs = new LinkedHashMap<>();
        inputs.put("x", gaussian(r, 1f, seq, batch, in));
        if (init) {
            inputs.put("h0", gaussian(r, 0.5f, dirs, batch, hidden));
            inputs.put("c0", gaussian(r, 0.5f, dirs, batch, hidden));
        }
        List<Tensor> want = run(g, inputs, false);
        List<Tensor> got = run(g, inputs, true);
        for (int o = 0; o < 3; o++) {
            assertArrayEquals(want.get(o).shape(), got.get(o).shape());
            float[] a = got.get(o).toFloatArray();
            float[] b = want.get(o).toFloatArray();
            for (int i = 0; i < a.length; i++) {
                int idx = i;
                int out = o;
                // float sums of up to 2 x 140 products in another order, exp as a polynomial
                assertTrue(Math.abs(a[i] - b[i]) <= 2e-5f * Math.max(1f, Math.abs(b[i])), () -> dir + " seq " + seq
                        + " batch " + batch + " in " + in + " hidden " + hidden + " output " + out + " element " + idx
                        + ": " + a[idx] + " vs reference " + b[idx]);
            }
        }
    }

    @Property(tries = 3)
    void clippedLstmsStayOnTheReference(@ForAll long seed) {
        Graph g = graph(new Random(seed), "forward", 1, 2, 1, 8, 16, true, false, true);
        RuntimeOptions options = RuntimeOptions.reference().withKernelCosts(KernelCosts.fixed(Map.of()));
        if (NativeBackend.isAvailable()) {
            options = options.withBackend(new NativeBackend());
        }
        try (Model m = Model.of(new ModelDef(g, Map.of()), options)) {
            assertEquals("java", lstmBackend(m.plan(List.of(new int[] {2, 1, 8}))));
        }
    }

    private static Graph graph(Random r, String dir, int dirs, int seq, int batch, int in, int hidden, boolean bias,
            boolean init, boolean clip) {
        int g4 = 4 * hidden;
        Graph.Builder b = Graph.builder("lstm");
        b.addInput(ValueInfo.of("x", DType.FLOAT32, new long[] {seq, batch, in}));
        if (init) {
            b.addInput(ValueInfo.of("h0", DType.FLOAT32, new long[] {dirs, batch, hidden}));
            b.addInput(ValueInfo.of("c0", DType.FLOAT32, new long[] {dirs, batch, hidden}));
        }
        for (String w : new String[] {"w", "r"}) {
            int k = w.equals("w") ? in : hidden;
            byte[] q = new byte[dirs * g4 * k];
            for (int i = 0; i < q.length; i++) {
                q[i] = (byte) (r.nextInt(255) - 127);
            }
            float[] s = new float[g4];
            for (int i = 0; i < g4; i++) {
                s[i] = (0.2f + r.nextFloat()) / 127f / (float) Math.sqrt(k);
            }
            b.initializer(w + "q", Tensor.ofBytes(DType.INT8, q, dirs, g4, k));
            b.initializer(w + "s", Tensor.of(s, g4));
            b.addNode(Node.of(w + "_dq", Op.DequantizeLinear, List.of(w + "q", w + "s"), List.of(w))
                    .withAttr("axis", new Attr.Int(1)));
        }
        List<String> ins = new ArrayList<>(List.of("x", "w", "r", bias ? "b" : "", "", init ? "h0" : "",
                init ? "c0" : ""));
        if (bias) {
            b.initializer("b", gaussian(r, 0.3f, dirs, 2 * g4));
        }
        while (ins.get(ins.size() - 1).isEmpty()) {
            ins.remove(ins.size() - 1);
        }
        Node lstm = Node.of("lstm", Op.LSTM, ins, List.of("y", "yh", "yc")).withAttr("direction", new Attr.Str(dir))
                .withAttr("hidden_size", new Attr.Int(hidden));
        if (clip) {
            lstm = lstm.withAttr("clip", new Attr.Float(3f));
        }
        b.addNode(lstm);
        for (String o : new String[] {"y", "yh", "yc"}) {
            b.addOutput(new ValueInfo(o, null, null));
        }
        return b.build();
    }

    private static List<Tensor> run(Graph g, Map<String, Tensor> inputs, boolean nativeBackend) {
        RuntimeOptions options = RuntimeOptions.reference().withKernelCosts(KernelCosts.fixed(Map.of()));
        if (nativeBackend) {
            options = options.withBackend(NativeBackend.withIsa("avx512-vnni"));
        }
        List<int[]> shapes = new ArrayList<>();
        inputs.values().forEach(t -> shapes.add(t.shape()));
        try (Model m = Model.of(new ModelDef(g, Map.of()), options); Session s = m.newSession()) {
            assertEquals(nativeBackend ? "native" : "java", lstmBackend(m.plan(shapes)));
            Map<String, Tensor> out = s.run(inputs);
            return List.of(out.get("y").copy(), out.get("yh").copy(), out.get("yc").copy());
        }
    }

    private static String lstmBackend(Plan plan) {
        for (Plan.StepInfo st : plan.describe()) {
            if (st.op().equals("LSTM")) {
                return st.backend();
            }
        }
        throw new AssertionError("no LSTM step in the plan");
    }

    private static Tensor gaussian(Random r, float sd, int... shape) {
        Tensor t = Tensor.allocate(DType.FLOAT32, shape);
        for (int i = 0; i < t.elementCount(); i++) {
            t.setFloat(i, (float) r.nextGaussian() * sd);
        }
        return t;
    }
}
