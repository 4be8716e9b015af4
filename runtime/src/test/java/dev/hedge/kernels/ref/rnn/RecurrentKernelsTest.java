package dev.hedge.kernels.ref.rnn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.hedge.ir.Attr;
import dev.hedge.ir.Graph;
import dev.hedge.ir.ModelDef;
import dev.hedge.ir.Node;
import dev.hedge.ir.ValueInfo;
import dev.hedge.ops.Op;
import dev.hedge.runtime.DType;
import dev.hedge.runtime.HedgeException;
import dev.hedge.runtime.Model;
import dev.hedge.runtime.Session;
import dev.hedge.runtime.Tensor;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** LSTM, GRU and RNN through the planner against {@link RecurrentReference}, on random sizes and options. */
class RecurrentKernelsTest {

    private static final List<String> ALL_ACTS = List.of("Relu", "Tanh", "Sigmoid", "Affine", "LeakyRelu",
            "ThresholdedRelu", "ScaledTanh", "HardSigmoid", "Elu", "Softsign", "Softplus");

    /** How a case is turned into a graph. */
    record Options(int layout, boolean constWeights, boolean wantY, boolean wantYh, boolean wantYc, DType dtype) {
    }

    private static double[] randoms(Random rnd, int n, double scale) {
        double[] v = new double[n];
        for (int i = 0; i < n; i++) {
            v[i] = (rnd.nextDouble() * 2 - 1) * scale;
        }
        return v;
    }

    private static double[][][] rand3(Random rnd, int a, int b, int c, double scale) {
        double[][][] v = new double[a][b][];
        for (int i = 0; i < a; i++) {
            for (int j = 0; j < b; j++) {
                v[i][j] = randoms(rnd, c, scale);
            }
        }
        return v;
    }

    private static double[][] rand2(Random rnd, int a, int b, double scale) {
        double[][] v = new double[a][];
        for (int i = 0; i < a; i++) {
            v[i] = randoms(rnd, b, scale);
        }
        return v;
    }

    static RecurrentReference.Case randomCase(Random rnd, String op) {
        RecurrentReference.Case c = new RecurrentReference.Case();
        c.op = op;
        int g = op.equals("LSTM") ? 4 : op.equals("GRU") ? 3 : 1;
        c.seq = 1 + rnd.nextInt(5);
        c.batch = 1 + rnd.nextInt(4);
        c.input = 1 + rnd.nextInt(6);
        c.hidden = 1 + rnd.nextInt(7);
        int dir = rnd.nextInt(3);
        c.dirs = dir == 2 ? 2 : 1;
        c.reverse = dir == 1;
        c.x = rand3(rnd, c.seq, c.batch, c.input, 1.0);
        c.w = rand3(rnd, c.dirs, g * c.hidden, c.input, 0.6);
        c.r = rand3(rnd, c.dirs, g * c.hidden, c.hidden, 0.6);
        if (rnd.nextBoolean()) {
            c.b = rand2(rnd, c.dirs, 2 * g * c.hidden, 0.5);
        }
        if (rnd.nextBoolean()) {
            c.lens = new int[c.batch];
            for (int i = 0; i < c.batch; i++) {
                c.lens[i] = rnd.nextInt(c.seq + 1);
            }
        }
        if (rnd.nextBoolean()) {
            c.h0 = rand3(rnd, c.dirs, c.batch, c.hidden, 0.5);
        }
        if (op.equals("LSTM")) {
            if (rnd.nextBoolean()) {
                c.c0 = rand3(rnd, c.dirs, c.batch, c.hidden, 0.5);
            }
            if (rnd.nextBoolean()) {
                c.p = rand2(rnd, c.dirs, 3 * c.hidden, 0.5);
            }
            c.inputForget = rnd.nextInt(4) == 0;
        }
        if (op.equals("GRU")) {
            c.linearBeforeReset = rnd.nextBoolean();
        }
        if (rnd.nextInt(3) == 0) {
            c.clip = 0.3 + rnd.nextDouble();
        }
        if (rnd.nextInt(3) == 0) {
            int per = op.equals("LSTM") ? 3 : op.equals("GRU") ? 2 : 1;
            int n = per * c.dirs;
            List<String> acts = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                acts.add(ALL_ACTS.get(rnd.nextInt(ALL_ACTS.size())));
            }
            c.acts = acts;
            if (rnd.nextBoolean()) {
                c.alphas = new float[] {0.5f + rnd.nextFloat(), 0.1f + rnd.nextFloat() * 0.3f};
                c.betas = new float[] {rnd.nextFloat() * 0.5f};
            }
        }
        return c;
    }

    private static Tensor tensor(DType dt, double[] flat, int... shape) {
        Tensor t = Tensor.allocate(dt, shape);
        for (int i = 0; i < flat.length; i++) {
            t.setDouble(i, flat[i]);
        }
        return t;
    }

    private static double[] flat3(double[][][] v) {
        List<Double> l = new ArrayList<>();
        for (double[][] a : v) {
            for (double[] b : a) {
                for (double x : b) {
                    l.add(x);
                }
            }
        }
        return l.stream().mapToDouble(Double::doubleValue).toArray();
    }

    private static double[] flat2(double[][] v) {
        List<Double> l = new ArrayList<>();
        for (double[] a : v) {
            for (double x : a) {
                l.add(x);
            }
        }
        return l.stream().mapToDouble(Double::doubleValue).toArray();
    }

    /** [a][b][c] → flat in layout order: layout 1 swaps the first two axes. */
    private static double[] flatSwap(double[][][] v, boolean swap) {
        if (!swap) {
            return flat3(v);
        }
        int a = v.length;
        int b = v[0].length;
        double[][][] s = new double[b][a][];
        for (int i = 0; i < a; i++) {
            for (int j = 0; j < b; j++) {
                s[j][i] = v[i][j];
            }
        }
        return flat3(s);
    }

    /** Builds a one-node model for the case, runs it, compares every requested output. */
    static void check(RecurrentReference.Case c, Options o, double tol) {
        int g = c.op.equals("LSTM") ? 4 : c.op.equals("GRU") ? 3 : 1;
        boolean l1 = o.layout() == 1;
        DType dt = o.dtype();
        Graph.Builder gb = Graph.builder("g");
        Map<String, Tensor> feeds = new LinkedHashMap<>();
        Map<String, Tensor> consts = new LinkedHashMap<>();
        List<String> ins = new ArrayList<>();
        int[] xShape = l1 ? new int[] {c.batch, c.seq, c.input} : new int[] {c.seq, c.batch, c.input};
        feeds.put("X", tensor(dt, flatSwap(c.x, l1), xShape));
        ins.add("X");
        (o.constWeights() ? consts : feeds).put("W", tensor(dt, flat3(c.w), c.dirs, g * c.hidden, c.input));
        ins.add("W");
        (o.constWeights() ? consts : feeds).put("R", tensor(dt, flat3(c.r), c.dirs, g * c.hidden, c.hidden));
        ins.add("R");
        if (c.b != null) {
            (o.constWeights() ? consts : feeds).put("B", tensor(dt, flat2(c.b), c.dirs, 2 * g * c.hidden));
        }
        ins.add(c.b != null ? "B" : "");
        if (c.lens != null) {
            Tensor lt = Tensor.of(c.lens.clone(), c.batch);
            feeds.put("L", lt);
        }
        ins.add(c.lens != null ? "L" : "");
        int[] stShape = l1 ? new int[] {c.batch, c.dirs, c.hidden} : new int[] {c.dirs, c.batch, c.hidden};
        if (c.h0 != null) {
            feeds.put("H0", tensor(dt, flatSwap(c.h0, l1), stShape));
        }
        ins.add(c.h0 != null ? "H0" : "");
        if (c.op.equals("LSTM")) {
            if (c.c0 != null) {
                feeds.put("C0", tensor(dt, flatSwap(c.c0, l1), stShape));
            }
            ins.add(c.c0 != null ? "C0" : "");
            if (c.p != null) {
                (o.constWeights() ? consts : feeds).put("P", tensor(dt, flat2(c.p), c.dirs, 3 * c.hidden));
            }
            ins.add(c.p != null ? "P" : "");
        }
        while (ins.get(ins.size() - 1).isEmpty()) {
            ins.remove(ins.size() - 1);
        }
        for (Map.Entry<String, Tensor> e : feeds.entrySet()) {
            gb.addInput(ValueInfo.of(e.getKey(), e.getValue().dtype(),
                    java.util.Arrays.stream(e.getValue().shape()).asLongStream().toArray()));
        }
        consts.forEach(gb::initializer);
        List<String> outs = new ArrayList<>(List.of(o.wantY() ? "Y" : "", o.wantYh() ? "Yh" : ""));
        if (c.op.equals("LSTM")) {
            outs.add(o.wantYc() ? "Yc" : "");
        }
        while (!outs.isEmpty() && outs.get(outs.size() - 1).isEmpty()) {
            outs.remove(outs.size() - 1);
        }
        Map<String, Attr> attrs = new HashMap<>();
        attrs.put("hidden_size", new Attr.Int(c.hidden));
        attrs.put("direction", new Attr.Str(c.dirs == 2 ? "bidirectional" : c.reverse ? "reverse" : "forward"));
        attrs.put("layout", new Attr.Int(o.layout()));
        if (c.clip != null) {
            attrs.put("clip", new Attr.Float(c.clip.floatValue()));
        }
        if (c.acts != null) {
            attrs.put("activations", new Attr.Strs(c.acts));
        }
        if (c.alphas != null) {
            attrs.put("activation_alpha", new Attr.Floats(c.alphas));
            attrs.put("activation_beta", new Attr.Floats(c.betas));
        }
        if (c.inputForget) {
            attrs.put("input_forget", new Attr.Int(1));
        }
        if (c.linearBeforeReset) {
            attrs.put("linear_before_reset", new Attr.Int(1));
        }
        gb.addNode(new Node("rnn", Op.valueOf(c.op), ins, outs, attrs));
        for (String out : outs) {
            if (!out.isEmpty()) {
                gb.addOutput(new ValueInfo(out, dt, null));
            }
        }
        RecurrentReference.Result ref = RecurrentReference.run(c);
        try (Model m = Model.of(new ModelDef(gb.build(), Map.of())); Session s = m.newSession()) {
            for (int rep = 0; rep < 2; rep++) {
                Map<String, Tensor> res = s.run(feeds);
                String what = c.op + " dirs=" + c.dirs + " rev=" + c.reverse + " layout=" + o.layout() + " T=" + c.seq
                        + " B=" + c.batch + " I=" + c.input + " H=" + c.hidden + " acts=" + c.acts + " clip=" + c.clip;
                if (o.wantY()) {
                    Tensor y = res.get("Y");
                    int[] ys = l1 ? new int[] {c.batch, c.seq, c.dirs, c.hidden}
                            : new int[] {c.seq, c.dirs, c.batch, c.hidden};
                    assertArrayEquals(ys, y.shape(), what);
                    for (int t = 0; t < c.seq; t++) {
                        for (int d = 0; d < c.dirs; d++) {
                            for (int b = 0; b < c.batch; b++) {
                                for (int j = 0; j < c.hidden; j++) {
                                    int idx = l1 ? ((b * c.seq + t) * c.dirs + d) * c.hidden + j
                                            : ((t * c.dirs + d) * c.batch + b) * c.hidden + j;
                                    near(ref.y[t][d][b][j], y.getDouble(idx), tol, what + " Y" + List.of(t, d, b, j));
                                }
                            }
                        }
                    }
                }
                checkState(o.wantYh() ? res.get("Yh") : null, ref.yh, c, l1, tol, "Y_h");
                checkState(o.wantYc() && c.op.equals("LSTM") ? res.get("Yc") : null, ref.yc, c, l1, tol, "Y_c");
            }
        }
    }

    private static void checkState(Tensor t, double[][][] ref, RecurrentReference.Case c, boolean l1, double tol,
            String what) {
        if (t == null) {
            return;
        }
        for (int d = 0; d < c.dirs; d++) {
            for (int b = 0; b < c.batch; b++) {
                for (int j = 0; j < c.hidden; j++) {
                    int idx = l1 ? (b * c.dirs + d) * c.hidden + j : (d * c.batch + b) * c.hidden + j;
                    near(ref[d][b][j], t.getDouble(idx), tol, c.op + " " + what + List.of(d, b, j));
                }
            }
        }
    }

    private static void near(double expected, double actual, double tol, String what) {
        if (!(Math.abs(expected - actual) <= tol * (1 + Math.abs(expected)))) {
            throw new AssertionError(what + ": expected " + expected + ", got " + actual);
        }
    }

    private static void randomRuns(String op, long seed) {
        Random rnd = new Random(seed);
        for (int i = 0; i < 60; i++) {
            RecurrentReference.Case c = randomCase(rnd, op);
            Options o = new Options(rnd.nextInt(2), rnd.nextBoolean(), rnd.nextInt(4) != 0, rnd.nextInt(4) != 0,
                    rnd.nextInt(4) != 0, DType.FLOAT32);
            if (!o.wantY() && !o.wantYh() && !o.wantYc()) {
                o = new Options(o.layout(), o.constWeights(), true, false, false, DType.FLOAT32);
            }
            check(c, o, 1e-4);
        }
    }

    @Test
    void lstmMatchesTheReference() {
        randomRuns("LSTM", 1);
    }

    @Test
    void gruMatchesTheReference() {
        randomRuns("GRU", 2);
    }

    @Test
    void rnnMatchesTheReference() {
        randomRuns("RNN", 3);
    }

    @Test
    void everyDirectionLayoutAndWeightKindWithSequenceLengths() {
        Random rnd = new Random(7);
        for (String op : List.of("LSTM", "GRU", "RNN")) {
            for (int dir = 0; dir < 3; dir++) {
                for (int layout = 0; layout < 2; layout++) {
                    for (boolean cw : new boolean[] {true, false}) {
                        RecurrentReference.Case c = randomCase(rnd, op);
                        c.dirs = dir == 2 ? 2 : 1;
                        c.reverse = dir == 1;
                        c.seq = 4;
                        c.batch = 3;
                        int g = op.equals("LSTM") ? 4 : op.equals("GRU") ? 3 : 1;
                        c.x = rand3(rnd, c.seq, c.batch, c.input, 1);
                        c.w = rand3(rnd, c.dirs, g * c.hidden, c.input, 0.6);
                        c.r = rand3(rnd, c.dirs, g * c.hidden, c.hidden, 0.6);
                        c.b = rand2(rnd, c.dirs, 2 * g * c.hidden, 0.5);
                        c.h0 = rand3(rnd, c.dirs, c.batch, c.hidden, 0.5);
                        c.c0 = op.equals("LSTM") ? rand3(rnd, c.dirs, c.batch, c.hidden, 0.5) : null;
                        c.p = op.equals("LSTM") ? rand2(rnd, c.dirs, 3 * c.hidden, 0.5) : null;
                        c.acts = null;
                        c.alphas = null;
                        c.betas = null;
                        c.lens = new int[] {4, 2, 0};
                        check(c, new Options(layout, cw, true, true, true, DType.FLOAT32), 1e-4);
                    }
                }
            }
        }
    }

    @Test
    void float16TensorsAreComputedInFloat32() {
        Random rnd = new Random(11);
        for (String op : List.of("LSTM", "GRU", "RNN")) {
            RecurrentReference.Case c = randomCase(rnd, op);
            // the reference sees the fp16-rounded inputs
            c.x = round16(c.x);
            c.w = round16(c.w);
            c.r = round16(c.r);
            c.b = c.b == null ? null : round16(new double[][][] {c.b})[0];
            c.h0 = c.h0 == null ? null : round16(c.h0);
            c.c0 = c.c0 == null ? null : round16(c.c0);
            c.p = c.p == null ? null : round16(new double[][][] {c.p})[0];
            check(c, new Options(0, true, true, true, true, DType.FLOAT16), 2e-3);
        }
    }

    private static double[][][] round16(double[][][] v) {
        double[][][] r = new double[v.length][][];
        for (int i = 0; i < v.length; i++) {
            r[i] = new double[v[i].length][];
            for (int j = 0; j < v[i].length; j++) {
                r[i][j] = new double[v[i][j].length];
                for (int k = 0; k < v[i][j].length; k++) {
                    r[i][j][k] = dev.hedge.runtime.Half.toFloat(dev.hedge.runtime.Half.fromFloat((float) v[i][j][k]));
                }
            }
        }
        return r;
    }

    @Test
    void activationParametersAreConsumedOnlyByFunctionsThatTakeThem() {
        Activation[] a = Activation.parse(List.of("Sigmoid", "LeakyRelu", "HardSigmoid", "Elu", "Tanh"),
                new float[] {0.3f, 0.4f}, new float[] {0.7f});
        assertEquals(0.3f, a[1].alpha);
        assertEquals(0.4f, a[2].alpha);
        assertEquals(0.7f, a[2].beta);
        assertEquals(1f, a[3].alpha, "Elu falls back to its default");
        assertEquals(0.25f, Activation.parse(List.of("affine"), new float[] {0.5f}, new float[] {0f})[0].apply(0.5f));
        assertThrows(IllegalArgumentException.class, () -> Activation.parse(List.of("Swish"), null, null));
    }

    private static Graph lstmGraph(Map<String, Attr> attrs, int[] wShape) {
        return Graph.builder("g")
                .addInput(ValueInfo.of("X", DType.FLOAT32, 2, 1, 3))
                .initializer("W", Tensor.allocate(DType.FLOAT32, wShape))
                .initializer("R", Tensor.allocate(DType.FLOAT32, 1, 8, 2))
                .addNode(new Node("lstm", Op.LSTM, List.of("X", "W", "R"), List.of("Y"), attrs))
                .addOutput(new ValueInfo("Y", DType.FLOAT32, null))
                .build();
    }

    @Test
    void invalidModelsAreRefusedWithTheNodeAndField() {
        Map<String, Tensor> feed = Map.of("X", Tensor.allocate(DType.FLOAT32, 2, 1, 3));
        var e1 = assertThrows(HedgeException.class, () -> {
            try (Model m = Model.of(new ModelDef(lstmGraph(Map.of("direction", new Attr.Str("sideways")),
                    new int[] {1, 8, 3}), Map.of())); Session s = m.newSession()) {
                s.run(feed);
            }
        });
        assertTrue(e1.getMessage().contains("LSTM node 'lstm'") && e1.getMessage().contains("sideways"),
                e1.getMessage());
        var e2 = assertThrows(HedgeException.class, () -> {
            try (Model m = Model.of(new ModelDef(lstmGraph(Map.of(), new int[] {1, 8, 4}), Map.of()));
                    Session s = m.newSession()) {
                s.run(feed);
            }
        });
        assertTrue(e2.getMessage().contains("W must have shape [1, 8, 3], got [1, 8, 4]"), e2.getMessage());
        var e3 = assertThrows(HedgeException.class, () -> {
            try (Model m = Model.of(new ModelDef(lstmGraph(Map.of("activations",
                    new Attr.Strs(List.of("Sigmoid", "Tanh"))), new int[] {1, 8, 3}), Map.of()));
                    Session s = m.newSession()) {
                s.run(feed);
            }
        });
        assertTrue(e3.getMessage().contains("expected 3"), e3.getMessage());
    }

    @Test
    void sequenceLengthsOutOfRangeAreReportedAtRunTime() {
        Graph g = Graph.builder("g")
                .addInput(ValueInfo.of("X", DType.FLOAT32, 2, 2, 1))
                .addInput(ValueInfo.of("L", DType.INT32, 2))
                .initializer("W", Tensor.allocate(DType.FLOAT32, 1, 1, 1))
                .initializer("R", Tensor.allocate(DType.FLOAT32, 1, 1, 1))
                .addNode(Node.of("rnn", Op.RNN, List.of("X", "W", "R", "", "L"), List.of("Y")))
                .addOutput(new ValueInfo("Y", DType.FLOAT32, null))
                .build();
        try (Model m = Model.of(new ModelDef(g, Map.of())); Session s = m.newSession()) {
            var e = assertThrows(HedgeException.class, () -> s.run(Map.of("X", Tensor.allocate(DType.FLOAT32, 2, 2, 1),
                    "L", Tensor.of(new int[] {1, 3}, 2))));
            assertTrue(e.getMessage().contains("sequence_lens[1] = 3 is outside [0, 2]"), e.getMessage());
        }
    }

    @Test
    void onlyTheFinalStateRequested() {
        Graph g = Graph.builder("g")
                .addInput(ValueInfo.of("X", DType.FLOAT32, 2, 2, 1))
                .initializer("W", Tensor.allocate(DType.FLOAT32, 1, 3, 1))
                .initializer("R", Tensor.allocate(DType.FLOAT32, 1, 3, 1))
                .addNode(Node.of("gru", Op.GRU, List.of("X", "W", "R"), List.of("", "H")))
                .addOutput(new ValueInfo("H", DType.FLOAT32, null))
                .build();
        try (Model m = Model.of(new ModelDef(g, Map.of())); Session s = m.newSession()) {
            Tensor h = s.run(Map.of("X", Tensor.allocate(DType.FLOAT32, 2, 2, 1))).get("H");
            assertArrayEquals(new int[] {1, 2, 1}, h.shape());
        }
    }

    @Test
    void steadyStateRunsAllocateNothingInTheKernel() {
        com.sun.management.ThreadMXBean mx =
                (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();
        Random rnd = new Random(5);
        for (String op : List.of("LSTM", "GRU", "RNN")) {
            int g = op.equals("LSTM") ? 4 : op.equals("GRU") ? 3 : 1;
            int h = 16;
            Graph graph = Graph.builder("g")
                    .addInput(ValueInfo.of("X", DType.FLOAT32, 50, 2, 8))
                    .initializer("W", tensor(DType.FLOAT32, randoms(rnd, 2 * g * h * 8, 0.3), 2, g * h, 8))
                    .initializer("R", tensor(DType.FLOAT32, randoms(rnd, 2 * g * h * h, 0.3), 2, g * h, h))
                    .addNode(new Node("n", Op.valueOf(op), List.of("X", "W", "R"), List.of("Y", "Yh"),
                            Map.of("direction", new Attr.Str("bidirectional"))))
                    .addOutput(new ValueInfo("Y", DType.FLOAT32, null))
                    .addOutput(new ValueInfo("Yh", DType.FLOAT32, null))
                    .build();
            Map<String, Tensor> feed = Map.of("X", tensor(DType.FLOAT32, randoms(rnd, 800, 1), 50, 2, 8));
            try (Model m = Model.of(new ModelDef(graph, Map.of())); Session s = m.newSession()) {
                for (int i = 0; i < 10; i++) {
                    s.run(feed);
                }
                // the median run: a one-off (a lazily grown per-thread buffer, a deoptimisation) does not count
                long[] runs = new long[15];
                for (int i = 0; i < runs.length; i++) {
                    long before = mx.getCurrentThreadAllocatedBytes();
                    s.run(feed);
                    runs[i] = mx.getCurrentThreadAllocatedBytes() - before;
                }
                java.util.Arrays.sort(runs);
                long per = runs[runs.length / 2];
                // the session's own bookkeeping (result map) is a few hundred bytes; 100 steps of a kernel that
                // allocated per step would be far more
                assertTrue(per < 2048, op + " allocated " + per + " bytes per run");
            }
        }
    }
}
