package dev.hedge.kernels.cpu;

import static dev.hedge.kernels.cpu.NativeRun.bytes;
import static dev.hedge.kernels.cpu.NativeRun.map;
import static dev.hedge.kernels.cpu.NativeRun.qconv;
import static dev.hedge.kernels.cpu.NativeRun.qconvConsts;
import static dev.hedge.kernels.cpu.NativeRun.qmatmul;
import static dev.hedge.kernels.cpu.NativeRun.qmatmulConsts;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.hedge.format.Decoding;
import dev.hedge.ir.Node;
import dev.hedge.runtime.DType;
import dev.hedge.runtime.Tensor;
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
            atLeast(isa, qconv(dense, 1), map("x", bytes(DType.UINT8, r, 1, cin, 12, 12)), qconvConsts(dense),
                    cout * cin * 9, "dense conv");
            // int16 weights at least (the float-lane kernel keeps floats too)
            Tensor dw = bytes(DType.INT8, r, cout, 1, 3, 3);
            atLeast(isa, qconv(dw, cout), map("x", bytes(DType.UINT8, r, 1, cout, 12, 12)), qconvConsts(dw), 2 * cout * 9,
                    "depthwise conv");
            // a byte per weight of the stored blocks at least, several times the requantization tables
            Tensor sparse = SparsePropertiesTest.sparseWeights(DType.INT8, r, new int[] {576, 96, 1, 1}, 1, 4, 80);
            long stored = 0;
            for (int v : Decoding.densify(sparse).toIntArray()) {
                stored += v != 0 ? 1 : 0;
            }
            atLeast(isa, qconv(sparse, 1), map("x", bytes(DType.UINT8, r, 1, 96, 12, 12)), qconvConsts(sparse), stored,
                    "sparse conv");
            atLeast(isa, qmatmul(), map("a", bytes(DType.UINT8, r, 8, cin)), qmatmulConsts(bytes(DType.INT8, r, cin, cout)),
                    (long) cin * cout, "matmul");
        }
    }

    private static void atLeast(String isa, Node node, Map<String, Tensor> inputs, Map<String, Tensor> consts,
            long bytes, String what) {
        long got = NativeRun.packedBytes(isa, node, inputs, consts);
        assertTrue(got >= bytes, what + " on " + isa + ": " + got + " bytes reported, at least " + bytes + " packed");
    }
}
