package dev.hedge.converter.passes;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.hedge.ir.Graph;
import dev.hedge.ir.ModelDef;
import dev.hedge.ir.Node;
import dev.hedge.ir.ValueInfo;
import dev.hedge.kernels.ref.RefBackend;
import dev.hedge.ops.Op;
import dev.hedge.runtime.DType;
import dev.hedge.runtime.Model;
import dev.hedge.runtime.RuntimeOptions;
import dev.hedge.runtime.Session;
import dev.hedge.runtime.Tensor;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;

/**
 * Which kernels the numerical pass tests run on: the independent scalar reference of this test package,
 * or the runtime's own Java backend. Runtime runs are skipped (not passed) while a kernel they need has
 * not landed, naming the missing ops.
 */
enum Kernels {
    SCALAR_REFERENCE, RUNTIME;

    /** Relative tolerance, with a floor of 1 on the magnitude. */
    static final double TOLERANCE = 1e-5;

    /** Runtime options for running {@code graphs}; for RUNTIME, assumes the Java backend has their ops. */
    RuntimeOptions options(Graph... graphs) {
        if (this == SCALAR_REFERENCE) {
            return RuntimeOptions.reference().withBackend(ScalarBackend.INSTANCE);
        }
        Set<String> missing = new TreeSet<>();
        for (Graph g : graphs) {
            collectMissing(g, missing);
        }
        assumeTrue(missing.isEmpty(), "Java backend kernels not available yet: " + missing);
        return RuntimeOptions.reference();
    }

    private static void collectMissing(Graph g, Set<String> missing) {
        Set<Op> have = RefBackend.INSTANCE.supportedOps();
        for (Node n : g.nodes()) {
            if (!have.contains(n.op())) {
                missing.add(n.op().name());
            }
            for (Graph s : n.subgraphs()) {
                collectMissing(s, missing);
            }
        }
    }

    /** Uniform [-1, 1) float32 inputs for the graph's (static) inputs. */
    static Map<String, Tensor> randomInputs(Graph g, long seed) {
        Random r = new Random(seed);
        Map<String, Tensor> m = new LinkedHashMap<>();
        for (ValueInfo v : g.inputs()) {
            assertTrue(v.isStatic() && v.dtype() == DType.FLOAT32, "test inputs must be static float32: " + v);
            int[] shape = v.shapeOrNull();
            float[] x = new float[Tensor.elementCount(shape)];
            for (int i = 0; i < x.length; i++) {
                x[i] = r.nextFloat() * 2 - 1;
            }
            m.put(v.name(), Tensor.of(x, shape));
        }
        return m;
    }

    /** Runs the graph and copies its outputs. */
    static Map<String, Tensor> run(Graph g, Map<String, Tensor> inputs, RuntimeOptions options) {
        Map<String, Tensor> out = new LinkedHashMap<>();
        try (Model m = Model.of(new ModelDef(g, Map.of()), options); Session s = m.newSession()) {
            s.run(inputs).forEach((k, v) -> out.put(k, v.copy()));
        }
        return out;
    }

    /** Runs both graphs on the same random inputs (three seeds) and compares every output. */
    void assertSameOutputs(Graph before, Graph after) {
        RuntimeOptions options = options(before, after);
        assertEquals(before.outputNames(), after.outputNames(), "graph outputs changed");
        for (long seed = 1; seed <= 3; seed++) {
            Map<String, Tensor> in = randomInputs(before, seed);
            Map<String, Tensor> a = run(before, in, options);
            Map<String, Tensor> b = run(after, in, options);
            for (String name : a.keySet()) {
                assertClose(a.get(name), b.get(name), name);
            }
        }
    }

    static void assertClose(Tensor expected, Tensor actual, String what) {
        assertEquals(expected.dtype(), actual.dtype(), what + " dtype");
        assertTrue(Arrays.equals(expected.shape(), actual.shape()), what + " shape " + Arrays.toString(actual.shape())
                + ", expected " + Arrays.toString(expected.shape()));
        for (int i = 0; i < expected.elementCount(); i++) {
            double e = expected.getDouble(i);
            double a = actual.getDouble(i);
            assertTrue(Math.abs(e - a) <= TOLERANCE * Math.max(1, Math.abs(e)),
                    what + "[" + i + "] = " + a + ", expected " + e);
        }
    }
}
