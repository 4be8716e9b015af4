package dev.hedge.kernels.ref.tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.hedge.ir.ModelDef;
import dev.hedge.ops.Op;
import dev.hedge.runtime.DType;
import dev.hedge.runtime.HedgeException;
import dev.hedge.runtime.InvalidInputException;
import dev.hedge.runtime.Model;
import dev.hedge.runtime.Session;
import dev.hedge.runtime.Tensor;
import dev.hedge.runtime.UnsupportedModelException;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Plan-time values, run-time preparation, dynamic outputs and run-time index errors. */
class MiscOpsTest {

    @Test
    void shapeIsGivenAtPlanTimeAndNeverRuns() {
        OneNode n = OneNode.of(Op.Shape).attr("start", 1L).attr("end", -1L).input(Tensor.allocate(DType.FLOAT32, 2, 3, 4, 5));
        try (Model m = Model.of(new ModelDef(n.graph(), Map.of()))) {
            assertEquals(0, m.plan(List.of(new int[] {2, 3, 4, 5})).stepCount());
        }
        Tensor s = n.run1();
        assertArrayEquals(new long[] {3, 4}, s.toLongArray());
        Tensor size = OneNode.of(Op.Size).input(Tensor.allocate(DType.INT8, 2, 3, 4)).run1();
        assertEquals(0, size.rank());
        assertEquals(24, size.getLong(0));
    }

    @Test
    void reshapeWithARunTimeShapeIsPreparedPerRun() {
        OneNode n = OneNode.of(Op.Reshape).input(Tensor.of(new float[] {1, 2, 3, 4, 5, 6}, 2, 3))
                .input(Tensor.of(new long[] {3, -1}, 2));
        try (Model m = Model.of(new ModelDef(n.graph(), Map.of())); Session s = m.newSession()) {
            Tensor x = Tensor.of(new float[] {1, 2, 3, 4, 5, 6}, 2, 3);
            Tensor y = s.run(Map.of("in0", x, "in1", Tensor.of(new long[] {3, -1}, 2))).get("out0");
            assertArrayEquals(new int[] {3, 2}, y.shape());
            y = s.run(Map.of("in0", x, "in1", Tensor.of(new long[] {0, 1, -1}, 3))).get("out0");
            assertArrayEquals(new int[] {2, 1, 3}, y.shape());
            assertArrayEquals(new float[] {1, 2, 3, 4, 5, 6}, y.toFloatArray());
            var e = assertThrows(HedgeException.class,
                    () -> s.run(Map.of("in0", x, "in1", Tensor.of(new long[] {4, -1}, 2))));
            assertTrue(e.getMessage().contains("Reshape node 'n'") && e.getMessage().contains("cannot reshape [2, 3]"),
                    e.getMessage());
        }
        // allowzero=1: a 0 is a real zero-size dimension
        Tensor empty = OneNode.of(Op.Reshape).attr("allowzero", 1L).input(Tensor.allocate(DType.FLOAT32, 0, 3))
                .constant(Tensor.of(new long[] {3, 0}, 2)).run1();
        assertArrayEquals(new int[] {3, 0}, empty.shape());
    }

    @Test
    void nonZeroAllocatesItsOutputWhileRunning() {
        Tensor x = Tensor.of(new float[] {0, -0f, 2, Float.NaN, 0, 5}, 2, 3);
        Tensor y = OneNode.of(Op.NonZero).input(x).run1();
        assertArrayEquals(new int[] {2, 3}, y.shape());
        assertArrayEquals(new long[] {0, 1, 1, 2, 0, 2}, y.toLongArray());
        Tensor none = OneNode.of(Op.NonZero).input(Tensor.allocate(DType.INT32, 4)).run1();
        assertArrayEquals(new int[] {1, 0}, none.shape());
    }

    @Test
    void runTimeIndicesOutOfRangeAreReportedWithTheirPosition() {
        Tensor data = Tensor.of(new float[] {1, 2, 3, 4}, 2, 2);
        var ge = assertThrows(InvalidInputException.class, () -> OneNode.of(Op.GatherElements).attr("axis", 1L)
                .input(data).input(Tensor.of(new long[] {0, 1, 2, 0}, 2, 2)).run1());
        assertTrue(ge.getMessage().contains("GatherElements node 'n': index 2 at position [1, 0]"), ge.getMessage());
        var nd = assertThrows(InvalidInputException.class, () -> OneNode.of(Op.GatherND)
                .input(data).input(Tensor.of(new long[] {1, -3}, 1, 2)).run1());
        assertTrue(nd.getMessage().contains("index -3 at position [0, 1]") && nd.getMessage().contains("axis 1"),
                nd.getMessage());
        var sn = assertThrows(InvalidInputException.class, () -> OneNode.of(Op.ScatterND).input(data)
                .input(Tensor.of(new long[] {5}, 1, 1)).input(Tensor.of(new float[] {9, 9}, 1, 2)).run1());
        assertTrue(sn.getMessage().contains("ScatterND node 'n': index 5"), sn.getMessage());
        var se = assertThrows(InvalidInputException.class, () -> OneNode.of(Op.ScatterElements).input(data)
                .input(Tensor.of(new int[] {-3}, 1, 1)).input(Tensor.of(new float[] {9}, 1, 1)).run1());
        assertTrue(se.getMessage().contains("index -3") && se.getMessage().contains("[-2, 1]"), se.getMessage());
    }

    @Test
    void scatterElementsAppliesDuplicateIndicesInOrderWithTheReduction() {
        Tensor data = Tensor.of(new float[] {1, 2, 3, 4}, 1, 4);
        Tensor idx = Tensor.of(new long[] {1, 1, -1}, 1, 3);
        Tensor upd = Tensor.of(new float[] {10, 20, 30}, 1, 3);
        Tensor add = OneNode.of(Op.ScatterElements).attr("axis", 1L).attr("reduction", "add")
                .input(data).input(idx).input(upd).run1();
        assertArrayEquals(new float[] {1, 32, 3, 34}, add.toFloatArray());
        Tensor max = OneNode.of(Op.ScatterElements).attr("axis", 1L).attr("reduction", "max")
                .input(Tensor.of(new int[] {1, 2, 3, 4}, 1, 4)).input(idx).input(Tensor.of(new int[] {-5, 7, 2}, 1, 3))
                .run1();
        assertArrayEquals(new int[] {1, 7, 3, 4}, max.toIntArray());
    }

    @Test
    void dropoutCopiesAndRefusesRandomTraining() {
        Tensor x = Tensor.of(new float[] {1, 2, 3}, 3);
        List<Tensor> out = OneNode.of(Op.Dropout).input(x).outputs(2).run();
        assertArrayEquals(new float[] {1, 2, 3}, out.get(0).toFloatArray());
        assertEquals(DType.BOOL, out.get(1).dtype());
        assertArrayEquals(new long[] {1, 1, 1}, out.get(1).toLongArray());
        var e = assertThrows(UnsupportedModelException.class, () -> OneNode.of(Op.Dropout).input(x)
                .constant(Tensor.of(new float[] {0.3f}, new int[0]))
                .constant(Tensor.of(new boolean[] {true}, new int[0])).run1());
        assertTrue(e.getMessage().contains("training_mode"), e.getMessage());
        // ratio 0 in training mode is the identity, which is exact
        Tensor same = OneNode.of(Op.Dropout).input(x).constant(Tensor.of(new float[] {0f}, new int[0]))
                .constant(Tensor.of(new boolean[] {true}, new int[0])).run1();
        assertArrayEquals(new float[] {1, 2, 3}, same.toFloatArray());
    }

    @Test
    void packedFourBitValuesMoveThroughTileAndExpand() {
        Tensor x = Tensor.allocate(DType.INT4, 1, 3);
        x.setLong(0, -8);
        x.setLong(1, 7);
        x.setLong(2, -1);
        Tensor tiled = OneNode.of(Op.Tile).input(x).constant(Tensor.of(new long[] {2, 2}, 2)).run1();
        assertArrayEquals(new long[] {-8, 7, -1, -8, 7, -1, -8, 7, -1, -8, 7, -1}, tiled.toLongArray());
        Tensor expanded = OneNode.of(Op.Expand).input(x.reshape(3, 1)).input(Tensor.of(new long[] {3, 3}, 2)).run1();
        assertArrayEquals(new long[] {-8, -8, -8, 7, 7, 7, -1, -1, -1}, expanded.toLongArray());
    }

    @Test
    void badShapesAreRefusedAtPrepareWithTheirNumbers() {
        var e = assertThrows(HedgeException.class, () -> OneNode.of(Op.Concat).attr("axis", 0L)
                .input(Tensor.allocate(DType.FLOAT32, 2, 3)).input(Tensor.allocate(DType.FLOAT32, 2, 4)).run1());
        assertTrue(e.getMessage().contains("Concat node 'n'") && e.getMessage().contains("[2, 4]"), e.getMessage());
        var s = assertThrows(HedgeException.class, () -> OneNode.of(Op.Squeeze)
                .input(Tensor.allocate(DType.FLOAT32, 2, 3)).constant(Tensor.of(new long[] {1}, 1)).run1());
        assertTrue(s.getMessage().contains("cannot squeeze axis 1"), s.getMessage());
        var sp = assertThrows(HedgeException.class, () -> OneNode.of(Op.Split).outputs(2)
                .input(Tensor.allocate(DType.FLOAT32, 5)).constant(Tensor.of(new long[] {2, 2}, 2)).run());
        assertTrue(sp.getMessage().contains("sums to 4"), sp.getMessage());
    }
}
