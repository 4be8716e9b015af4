package dev.hedge.kernels.cpu;

import static dev.hedge.kernels.cpu.NativeRun.bytes;
import static dev.hedge.kernels.cpu.NativeRun.map;
import static dev.hedge.kernels.cpu.NativeRun.zeroPoint;

import dev.hedge.ir.Attr;
import dev.hedge.ir.Node;
import dev.hedge.ops.Op;
import dev.hedge.runtime.DType;
import dev.hedge.runtime.Model;
import dev.hedge.runtime.Session;
import dev.hedge.runtime.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import net.jqwik.api.Example;
import net.jqwik.api.lifecycle.AddLifecycleHook;

/**
 * Steady-state runs of the native int8 kernels (dense GEMM convolution, depthwise, sparse over several row
 * tiles, sparse and dense MatMul) allocate nothing on the calling thread, with one thread and with a pool:
 * weights are packed and tile tasks built at prepare. On this host's best instruction set.
 */
@AddLifecycleHook(NeedsNative.class)
class NativeRunAllocationTest {

    @Example
    void int8RunsAllocateNothing() {
        Random r = new Random(3);
        Tensor dense = bytes(DType.INT8, r, 32, 16, 3, 3);
        Tensor dw = bytes(DType.INT8, r, 32, 1, 3, 3);
        Tensor sparse = SparsePropertiesTest.sparseWeights(DType.INT8, r, new int[] {576, 96, 1, 1}, 1, 4, 80);
        Tensor sparseB = SparsePropertiesTest.sparseWeights(DType.INT8, r, new int[] {512, 256}, 4, 8, 80);
        for (int threads = 1; threads <= 2; threads++) {
            check(threads, conv(dense, 1), map("x", bytes(DType.UINT8, r, 1, 16, 12, 12)), convConsts(dense));
            check(threads, conv(dw, 32), map("x", bytes(DType.UINT8, r, 1, 32, 12, 12)), convConsts(dw));
            check(threads, conv(sparse, 1), map("x", bytes(DType.UINT8, r, 1, 96, 28, 28)), convConsts(sparse));
            for (int m : new int[] {1, 64}) {
                check(threads, matMul(), map("a", bytes(DType.UINT8, r, m, 512)), matMulConsts(sparseB));
                check(threads, matMul(), map("a", bytes(DType.UINT8, r, m, 512)),
                        matMulConsts(bytes(DType.INT8, r, 512, 256)));
            }
        }
    }

    private static void check(int threads, Node node, Map<String, Tensor> inputs, Map<String, Tensor> consts) {
        try (Model m = NativeRun.model(new NativeBackend(), node, inputs, consts, threads, new ArrayList<>());
                Session s = m.newSession()) {
            NativeRun.assertRunsAllocateNothing(node.describe() + " with " + threads + " threads", () -> s.run(inputs));
        }
    }

    private static Node conv(Tensor w, int group) {
        int k = w.shape()[2];
        return Node.of("conv", Op.QLinearConv, List.of("x", "xs", "xz", "w", "ws", "wz", "ys", "yz"), List.of("y"))
                .withAttr("group", new Attr.Int(group))
                .withAttr("pads", new Attr.Ints(new long[] {k / 2, k / 2, k / 2, k / 2}));
    }

    private static Map<String, Tensor> convConsts(Tensor w) {
        return map("xs", Tensor.of(new float[] {0.02f}), "xz", zeroPoint(DType.UINT8, 113), "w", w,
                "ws", Tensor.of(new float[] {0.01f}), "wz", zeroPoint(DType.INT8, 0), "ys", Tensor.of(new float[] {0.3f}),
                "yz", zeroPoint(DType.UINT8, 97));
    }

    private static Node matMul() {
        return Node.of("mm", Op.QLinearMatMul, List.of("a", "as", "az", "b", "bs", "bz", "ys", "yz"), List.of("y"));
    }

    private static Map<String, Tensor> matMulConsts(Tensor b) {
        return map("as", Tensor.of(new float[] {0.01f}), "az", zeroPoint(DType.UINT8, 128), "b", b,
                "bs", Tensor.of(new float[] {0.02f}), "bz", zeroPoint(DType.INT8, 0), "ys", Tensor.of(new float[] {0.5f}),
                "yz", zeroPoint(DType.UINT8, 120));
    }
}
