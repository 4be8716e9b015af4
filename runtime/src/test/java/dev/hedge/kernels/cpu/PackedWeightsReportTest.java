package dev.hedge.kernels.cpu;

import static dev.hedge.kernels.cpu.NativeRun.bytes;
import static dev.hedge.kernels.cpu.NativeRun.map;
import static dev.hedge.kernels.cpu.NativeRun.zeroPoint;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.hedge.format.Decoding;
import dev.hedge.ir.Attr;
import dev.hedge.ir.Node;
import dev.hedge.ops.Op;
import dev.hedge.runtime.DType;
import dev.hedge.runtime.Tensor;
import java.util.List;
import java.util.Map;
import java.util.Random;
import net.jqwik.api.Example;
import net.jqwik.api.lifecycle.AddLifecycleHook;

/**
 * The int8 kernels pack constant weights once, off-heap, outside the arena, and say so (Plan.packedBytes, the
 * "weights copied or packed by kernels" line of {@code hedge inspect}): at least one byte per stored weight.
 */
@AddLifecycleHook(NeedsNative.class)
class PackedWeightsReportTest {

    @Example
    void int8KernelsReportTheWeightsTheyPack() {
        Random r = new Random(7);
        for (String isa : NativeBackend.supportedIsas()) {
            int cin = 32;
            int cout = 64;
            Tensor dense = bytes(DType.INT8, r, cout, cin, 3, 3);
            atLeast(isa, conv(dense, cin, cout, 1, r), cout * cin * 9, "dense conv");
            // int16 weights at least (the float-lane kernel keeps floats too)
            Tensor dw = bytes(DType.INT8, r, cout, 1, 3, 3);
            atLeast(isa, conv(dw, cout, cout, cout, r), 2 * cout * 9, "depthwise conv");
            // a byte per weight of the stored blocks at least, several times the requantization tables
            Tensor sparse = SparsePropertiesTest.sparseWeights(DType.INT8, r, new int[] {576, 96, 1, 1}, 1, 4, 80);
            long stored = 0;
            for (int v : Decoding.densify(sparse).toIntArray()) {
                stored += v != 0 ? 1 : 0;
            }
            atLeast(isa, conv(sparse, 96, 576, 1, r), stored, "sparse conv");
            Tensor b = bytes(DType.INT8, r, cin, cout);
            Map<String, Tensor> consts = map("as", Tensor.of(new float[] {0.01f}), "az", zeroPoint(DType.UINT8, 128),
                    "b", b, "bs", Tensor.of(new float[] {0.02f}), "bz", zeroPoint(DType.INT8, 0),
                    "ys", Tensor.of(new float[] {0.5f}), "yz", zeroPoint(DType.UINT8, 120));
            Node mm = Node.of("mm", Op.QLinearMatMul, List.of("a", "as", "az", "b", "bs", "bz", "ys", "yz"), List.of("y"));
            long got = NativeRun.packedBytes(isa, mm, map("a", bytes(DType.UINT8, r, 8, cin)), consts);
            assertTrue(got >= (long) cin * cout, "matmul on " + isa + ": " + got + " bytes");
        }
    }

    private static Object[] conv(Tensor w, int cin, int cout, int group, Random r) {
        Map<String, Tensor> consts = map("xs", Tensor.of(new float[] {0.02f}), "xz", zeroPoint(DType.UINT8, 113), "w", w,
                "ws", Tensor.of(new float[] {0.01f}), "wz", zeroPoint(DType.INT8, 0), "ys", Tensor.of(new float[] {0.3f}),
                "yz", zeroPoint(DType.UINT8, 97));
        int k = w.shape()[2];
        Node node = Node.of("conv", Op.QLinearConv, List.of("x", "xs", "xz", "w", "ws", "wz", "ys", "yz"), List.of("y"))
                .withAttr("group", new Attr.Int(group))
                .withAttr("pads", new Attr.Ints(new long[] {k / 2, k / 2, k / 2, k / 2}));
        return new Object[] {node, map("x", bytes(DType.UINT8, r, 1, cin, 12, 12)), consts};
    }

    @SuppressWarnings("unchecked")
    private static void atLeast(String isa, Object[] conv, long bytes, String what) {
        long got = NativeRun.packedBytes(isa, (Node) conv[0], (Map<String, Tensor>) conv[1], (Map<String, Tensor>) conv[2]);
        assertTrue(got >= bytes, what + " on " + isa + ": " + got + " bytes reported, at least " + bytes + " packed");
    }
}
