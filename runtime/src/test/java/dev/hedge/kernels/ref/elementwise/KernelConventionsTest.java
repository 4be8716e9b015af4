package dev.hedge.kernels.ref.elementwise;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.hedge.ir.Attr;
import dev.hedge.ir.Node;
import dev.hedge.kernels.Kernel;
import dev.hedge.kernels.ref.RefBackend;
import dev.hedge.ops.Op;
import dev.hedge.runtime.DType;
import dev.hedge.runtime.HedgeException;
import dev.hedge.runtime.Tensor;
import dev.hedge.runtime.UnsupportedModelException;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Kernel conventions: run allocates nothing, bad models and bad data fail with precise messages. */
class KernelConventionsTest {

    private static Node node(Op op, int inputs, Map<String, Attr> attrs) {
        List<String> in = new ArrayList<>();
        for (int i = 0; i < inputs; i++) {
            in.add("x" + i);
        }
        return new Node("n", op, in, List.of("y"), attrs);
    }

    private static final com.sun.management.ThreadMXBean THREADS =
            (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

    /**
     * Prepares once, warms up, then checks that 2000 runs allocate less than one byte per run: no run
     * allocates anything (the smallest object is 16 bytes), whatever the measurement itself costs.
     */
    private static void assertRunAllocatesNothing(Op op, Map<String, Attr> attrs, Tensor... inputs) {
        Node n = node(op, inputs.length, attrs);
        Kernel k = RefBackend.INSTANCE.create(n, List.of());
        DirectContext ctx = new DirectContext(n, inputs, new boolean[inputs.length]);
        k.prepare(ctx);
        for (int i = 0; i < 2000; i++) {
            k.run(ctx);
        }
        long t0 = THREADS.getCurrentThreadAllocatedBytes();
        long measuring = THREADS.getCurrentThreadAllocatedBytes() - t0;
        long t1 = THREADS.getCurrentThreadAllocatedBytes();
        for (int i = 0; i < 2000; i++) {
            k.run(ctx);
        }
        long bytes = THREADS.getCurrentThreadAllocatedBytes() - t1 - measuring;
        assertTrue(bytes < 2000, op + " allocated " + bytes + " bytes in 2000 runs");
    }

    private static Tensor rnd(DType t, int... shape) {
        return Harness.random(t, shape, new Random(7));
    }

    @Test
    void runAllocatesNothing() {
        assertRunAllocatesNothing(Op.Add, Map.of(), rnd(DType.FLOAT32, 8, 3000), rnd(DType.FLOAT32, 3000));
        assertRunAllocatesNothing(Op.Mul, Map.of(), rnd(DType.FLOAT32, 4, 5, 6, 7), rnd(DType.FLOAT32, 5, 1, 1));
        assertRunAllocatesNothing(Op.Sub, Map.of(), rnd(DType.FLOAT64, 3, 70), rnd(DType.FLOAT64));
        assertRunAllocatesNothing(Op.Div, Map.of(), rnd(DType.INT32, 50), Tensor.of(new int[] {3}, 1));
        assertRunAllocatesNothing(Op.Mean, Map.of(), rnd(DType.FLOAT16, 9, 9), rnd(DType.FLOAT16, 9), rnd(DType.FLOAT16));
        assertRunAllocatesNothing(Op.Relu, Map.of(), rnd(DType.FLOAT32, 5000));
        assertRunAllocatesNothing(Op.Gelu, Map.of(), rnd(DType.BFLOAT16, 300));
        assertRunAllocatesNothing(Op.Less, Map.of(), rnd(DType.UINT64, 6, 6), rnd(DType.UINT64, 6));
        assertRunAllocatesNothing(Op.Where, Map.of(), rnd(DType.BOOL, 4, 1), rnd(DType.INT64, 4, 5), rnd(DType.INT64));
        assertRunAllocatesNothing(Op.Clip, Map.of(), rnd(DType.FLOAT32, 100), Tensor.scalar(-1f).reshape(),
                Tensor.scalar(1f).reshape());
        assertRunAllocatesNothing(Op.Pow, Map.of(), rnd(DType.FLOAT32, 100), rnd(DType.INT64, 100));
        assertRunAllocatesNothing(Op.IsInf, Map.of(), rnd(DType.FLOAT64, 100));
        assertRunAllocatesNothing(Op.Cast, Map.of("to", new Attr.Int(DType.FLOAT16.onnxCode())),
                rnd(DType.FLOAT64, 100));
        assertRunAllocatesNothing(Op.Cast, Map.of("to", new Attr.Int(DType.UINT8.onnxCode())),
                rnd(DType.FLOAT32, 100));
        assertRunAllocatesNothing(Op.And, Map.of(), rnd(DType.BOOL, 100), rnd(DType.BOOL, 1));
    }

    @Test
    void integerDivisionByZeroIsAnErrorNamingTheNode() {
        Tensor a = Tensor.of(new int[] {1, 2, 3}, 3);
        Tensor b = Tensor.of(new int[] {1, 0, 1}, 3);
        HedgeException e = assertThrows(HedgeException.class, () -> Harness.run(Op.Div, Map.of(), a, b));
        assertTrue(e.getMessage().contains("Div node 'node'") && e.getMessage().contains("division by zero"),
                e.getMessage());
        e = assertThrows(HedgeException.class, () -> Harness.run(Op.Mod, Map.of("fmod", new Attr.Int(1)), a, b));
        assertTrue(e.getMessage().contains("division by zero"), e.getMessage());
        // also when the node is folded at plan time
        e = assertThrows(HedgeException.class,
                () -> Harness.run(Op.Div, Map.of(), new boolean[] {true, true}, a, b));
        assertTrue(e.getMessage().contains("division by zero"), e.getMessage());
        e = assertThrows(HedgeException.class, () -> Harness.run(Op.Pow, Map.of(),
                Tensor.of(new long[] {0}, 1), Tensor.of(new long[] {-1}, 1)));
        assertTrue(e.getMessage().contains("negative power"), e.getMessage());
    }

    @Test
    void floatDivisionByZeroFollowsIeee() {
        Tensor y = Harness.run(Op.Div, Map.of(), Tensor.of(new float[] {1, -1, 0}, 3), Tensor.of(new float[] {0, 0, 0}, 3));
        assertEquals(Float.POSITIVE_INFINITY, y.getFloat(0));
        assertEquals(Float.NEGATIVE_INFINITY, y.getFloat(1));
        assertTrue(Float.isNaN(y.getFloat(2)));
    }

    @Test
    void badModelsAreRefusedWithPreciseMessages() {
        assertMessage(() -> Harness.run(Op.Sqrt, Map.of(), Tensor.of(new int[] {4}, 1)),
                "Sqrt node 'node'", "INT32", "FLOAT32");
        assertMessage(() -> Harness.run(Op.Add, Map.of(), Tensor.of(new float[] {1}, 1), Tensor.of(new int[] {1}, 1)),
                "Add node 'node'", "INT32", "FLOAT32", "same type");
        assertMessage(() -> Harness.run(Op.Add, Map.of(), Tensor.allocate(DType.FLOAT32, 2, 3),
                Tensor.allocate(DType.FLOAT32, 4)), "Add node 'node'", "[2, 3]", "[4]");
        assertMessage(() -> Harness.run(Op.Mod, Map.of(), Tensor.of(new float[] {1}, 1), Tensor.of(new float[] {1}, 1)),
                "Mod node 'node'", "fmod=1");
        assertMessage(() -> Harness.run(Op.PRelu, Map.of(), Tensor.allocate(DType.FLOAT32, 3),
                Tensor.allocate(DType.FLOAT32, 2, 3)), "PRelu node 'node'", "[2, 3]", "[3]");
        assertMessage(() -> Harness.run(Op.Cast, Map.of("to", new Attr.Int(17)), Tensor.of(new float[] {1}, 1)),
                "Cast node 'node'", "FLOAT8E4M3FN");
        assertMessage(() -> Harness.run(Op.Clip, Map.of(), Tensor.of(new float[] {1}, 1), Tensor.of(new float[] {0, 1}, 2)),
                "Clip node 'node'", "min must be a scalar");
        assertMessage(() -> Harness.run(Op.Gelu, Map.of("approximate", new Attr.Str("erf")),
                Tensor.of(new float[] {1}, 1)), "Gelu node 'node'", "approximate='erf'");
        assertMessage(() -> Harness.run(Op.Sum, Map.of(), Tensor.of(new int[] {1}, 1)), "Sum node 'node'", "INT32");
        assertMessage(() -> Harness.run(Op.And, Map.of(), Tensor.of(new int[] {1}, 1), Tensor.of(new int[] {1}, 1)),
                "And node 'node'", "BOOL");
        assertMessage(() -> Harness.run(Op.Where, Map.of(), Tensor.of(new int[] {1}, 1), Tensor.of(new int[] {1}, 1),
                Tensor.of(new int[] {1}, 1)), "Where node 'node'", "BOOL");
    }

    private static void assertMessage(org.junit.jupiter.api.function.Executable run, String... parts) {
        UnsupportedModelException e = assertThrows(UnsupportedModelException.class, run);
        for (String p : parts) {
            assertTrue(e.getMessage().contains(p), "'" + e.getMessage() + "' lacks '" + p + "'");
        }
    }

    @Test
    void constantInputsAreFoldedWithTheSameResult() {
        Tensor a = Tensor.of(new float[] {1, 2, 3, 4, 5, 6}, 2, 3);
        Tensor b = Tensor.of(new float[] {10, 20, 30}, 3);
        Tensor run = Harness.run(Op.Add, Map.of(), a, b);
        Tensor folded = Harness.run(Op.Add, Map.of(), new boolean[] {true, true}, a, b);
        assertArrayEquals(new float[] {11, 22, 33, 14, 25, 36}, run.toFloatArray());
        assertArrayEquals(run.toFloatArray(), folded.toFloatArray());
    }

    @Test
    void emptyTensorsProduceEmptyOutputs() {
        Tensor y = Harness.run(Op.Add, Map.of(), Tensor.allocate(DType.FLOAT32, 0, 3), Tensor.allocate(DType.FLOAT32, 3));
        assertArrayEquals(new int[] {0, 3}, y.shape());
        y = Harness.run(Op.Cast, Map.of("to", new Attr.Int(DType.INT4.onnxCode())), Tensor.allocate(DType.FLOAT32, 0));
        assertArrayEquals(new int[] {0}, y.shape());
    }
}
