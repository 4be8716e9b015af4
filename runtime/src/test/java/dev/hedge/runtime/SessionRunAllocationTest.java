package dev.hedge.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.hedge.ir.Graph;
import dev.hedge.ir.ModelDef;
import dev.hedge.ir.Node;
import dev.hedge.ir.ValueInfo;
import dev.hedge.ops.Op;
import java.lang.management.ManagementFactory;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Session.run itself (input checks, frame lookup, the result map) allocates nothing once warm. */
class SessionRunAllocationTest {

    private static final com.sun.management.ThreadMXBean THREADS =
            (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

    private static Model model() {
        Graph g = Graph.builder("chain")
                .addInput(ValueInfo.of("x", DType.FLOAT32, 1, 8))
                .addInput(ValueInfo.of("y", DType.FLOAT32, 1, 8))
                .addNode(Node.of("relu", Op.Relu, List.of("x"), List.of("r")))
                .addNode(Node.of("add", Op.Add, List.of("r", "y"), List.of("s")))
                .addNode(Node.of("neg", Op.Neg, List.of("s"), List.of("out")))
                .addOutput(ValueInfo.of("s", DType.FLOAT32, 1, 8))
                .addOutput(ValueInfo.of("out", DType.FLOAT32, 1, 8))
                .build();
        return Model.of(new ModelDef(g, Map.of()), RuntimeOptions.reference());
    }

    @Test
    void steadyStateRunsAllocateNothing() {
        float[] xv = {-1, 2, -3, 4, -5, 6, -7, 8};
        float[] yv = {1, 1, 1, 1, 1, 1, 1, 1};
        try (Model m = model(); Session s = m.newSession()) {
            Map<String, Tensor> in = Map.of("x", Tensor.of(xv, 1, 8), "y", Tensor.of(yv, 1, 8));
            Map<String, Tensor> first = s.run(in);
            for (int i = 0; i < 20_000; i++) {
                s.run(in);
            }
            long before = THREADS.getThreadAllocatedBytes(Thread.currentThread().getId());
            Map<String, Tensor> out = null;
            for (int i = 0; i < 1000; i++) {
                out = s.run(in);
            }
            long bytes = THREADS.getThreadAllocatedBytes(Thread.currentThread().getId()) - before;
            assertEquals(0, bytes, "bytes allocated by 1000 runs");
            assertSame(first, out, "the result map is reused");
            assertEquals(List.of("s", "out"), List.copyOf(out.keySet()));
            for (int i = 0; i < 8; i++) {
                float sum = Math.max(0f, xv[i]) + yv[i];
                assertEquals(sum, out.get("s").getFloat(i));
                assertEquals(-sum, out.get("out").getFloat(i));
            }
            Map<String, Tensor> r = out;
            assertThrows(UnsupportedOperationException.class, () -> r.remove("s"));
        }
    }

    @Test
    void inputsAreStillCheckedByName() {
        try (Model m = model(); Session s = m.newSession()) {
            Tensor t = Tensor.of(new float[8], 1, 8);
            InvalidInputException missing = assertThrows(InvalidInputException.class, () -> s.run(Map.of("x", t)));
            assertEquals(true, missing.getMessage().contains("missing input 'y'"), missing.getMessage());
            InvalidInputException unknown = assertThrows(InvalidInputException.class,
                    () -> s.run(Map.of("x", t, "y", t, "z", t)));
            assertEquals(true, unknown.getMessage().contains("unknown input 'z'"), unknown.getMessage());
        }
    }
}
