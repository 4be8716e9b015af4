package dev.hedge.kernels.cpu;

import static dev.hedge.kernels.cpu.NativeRun.bytes;
import static dev.hedge.kernels.cpu.NativeRun.map;
import static dev.hedge.kernels.cpu.NativeRun.qconv;
import static dev.hedge.kernels.cpu.NativeRun.qconvConsts;
import static dev.hedge.kernels.cpu.NativeRun.qmatmul;
import static dev.hedge.kernels.cpu.NativeRun.qmatmulConsts;

import dev.hedge.ir.Node;
import dev.hedge.runtime.DType;
import dev.hedge.runtime.Model;
import dev.hedge.runtime.Session;
import dev.hedge.runtime.Tensor;
import java.util.ArrayList;
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
            check(threads, qconv(dense, 1), map("x", bytes(DType.UINT8, r, 1, 16, 12, 12)), qconvConsts(dense));
            check(threads, qconv(dw, 32), map("x", bytes(DType.UINT8, r, 1, 32, 12, 12)), qconvConsts(dw));
            check(threads, qconv(sparse, 1), map("x", bytes(DType.UINT8, r, 1, 96, 28, 28)), qconvConsts(sparse));
            for (int m : new int[] {1, 64}) {
                check(threads, qmatmul(), map("a", bytes(DType.UINT8, r, m, 512)), qmatmulConsts(sparseB));
                check(threads, qmatmul(), map("a", bytes(DType.UINT8, r, m, 512)),
                        qmatmulConsts(bytes(DType.INT8, r, 512, 256)));
            }
        }
    }

    private static void check(int threads, Node node, Map<String, Tensor> inputs, Map<String, Tensor> consts) {
        try (Model m = NativeRun.model(new NativeBackend(), node, inputs, consts, threads, new ArrayList<>());
                Session s = m.newSession()) {
            NativeRun.assertRunsAllocateNothing(node.describe() + " with " + threads + " threads", () -> s.run(inputs));
        }
    }
}
