package dev.hedge.kernels.cpu;

import static dev.hedge.kernels.cpu.NativeRun.bytes;
import static dev.hedge.kernels.cpu.NativeRun.map;
import static dev.hedge.kernels.cpu.NativeRun.scale;
import static dev.hedge.kernels.cpu.NativeRun.zeroPoint;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;

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
 * The int8 kernels split their work into tiles for the worker pool (pixel panels and channel blocks of the GEMM,
 * channel blocks of the depthwise kernel, column panels of MatMul, output rows of the sparse kernel). The layers
 * here are large enough to be split for 2 and 3 threads (about 4 M multiply-adds and up) and shaped for uneven
 * and partial blocks; their output must be the Java reference's exactly on every thread count.
 */
@AddLifecycleHook(NeedsNative.class)
class Int8ThreadsTest {

    private static final long[] PADS1 = {1, 1, 1, 1};

    @Example
    void denseConvolutionsSplitPixelsAndChannels() {
        // 14 x 14 (a few panels) and 7 x 7 (one panel: channels split) with a partial channel block
        conv(64, 100, 14, 3, 1, 1, PADS1);
        conv(96, 200, 7, 3, 1, 1, PADS1);
        conv(160, 320, 7, 1, 1, 1, new long[] {0, 0, 0, 0});
        conv(32, 48, 57, 3, 2, 1, PADS1);
    }

    @Example
    void depthwiseConvolutionsSplitChannels() {
        conv(96, 96, 56, 3, 1, 96, PADS1);
        conv(144, 144, 56, 3, 2, 144, PADS1);
        conv(37, 74, 40, 5, 1, 37, new long[] {2, 2, 2, 2}); // depth multiplier 2, odd channel count
        // channels in lanes: partial 16-channel blocks, pixel groups with a tail, stride 2, a 5 x 5 window
        conv(40, 40, 14, 3, 1, 40, PADS1);
        conv(50, 50, 14, 3, 2, 50, PADS1);
        conv(20, 20, 9, 5, 1, 20, new long[] {2, 2, 2, 2});
    }

    @Example
    void matMulsSplitColumnsAndRows() {
        matMul(1, 1024, 1000);
        matMul(64, 512, 520);
        matMul(3, 2048, 48);
    }

    @Example
    void sparseLayersSplitOutputRows() {
        // 80 % of the blocks zero; several tiles of output rows (16-row aligned), the last one partial
        sparseConv(96, 576, 28, 1, 4);
        sparseConv(96, 576, 28, 8, 4);
        sparseConv(64, 200, 20, 8, 1);
        sparseMatMul(64, 1024, 1000, 4, 8); // as [K][N]: 8 output rows by 4 inputs
        sparseMatMul(40, 512, 520, 4, 1);
    }

    private static void sparseConv(int cin, int cout, int hw, int br, int bc) {
        Random r = new Random(cin * 31L + cout * 7L + hw + br);
        Tensor x = bytes(DType.UINT8, r, 1, cin, hw, hw);
        Tensor w = SparsePropertiesTest.sparseWeights(DType.INT8, r, new int[] {cout, cin, 1, 1}, br, bc, 80);
        float[] ws = new float[cout];
        int[] bias = new int[cout];
        for (int i = 0; i < cout; i++) {
            ws[i] = scale(r);
            bias[i] = r.nextInt(20001) - 10000;
        }
        Map<String, Tensor> consts = map("xs", Tensor.of(new float[] {scale(r)}), "xz", zeroPoint(DType.UINT8, 113),
                "w", w, "ws", Tensor.of(ws, cout), "wz", zeroPoint(DType.INT8, 0, cout),
                "ys", Tensor.of(new float[] {scale(r) * 8}), "yz", zeroPoint(DType.UINT8, 97), "b", Tensor.of(bias, cout));
        Node node = Node.of("conv", Op.QLinearConv, List.of("x", "xs", "xz", "w", "ws", "wz", "ys", "yz", "b"),
                List.of("y"));
        sameOnEveryThreadCount(node, map("x", x), consts, "sparse conv " + cin + "->" + cout + " " + hw + "x" + hw
                + " blocks " + br + "x" + bc);
    }

    private static void sparseMatMul(int m, int k, int n, int br, int bc) {
        Random r = new Random(m * 31L + k * 7L + n + br);
        Tensor a = bytes(DType.UINT8, r, m, k);
        Tensor b = SparsePropertiesTest.sparseWeights(DType.INT8, r, new int[] {k, n}, br, bc, 80);
        Map<String, Tensor> consts = map("as", Tensor.of(new float[] {scale(r)}), "az", zeroPoint(DType.UINT8, 128),
                "b", b, "bs", Tensor.of(new float[] {scale(r)}), "bz", zeroPoint(DType.INT8, 0),
                "ys", Tensor.of(new float[] {scale(r) * 16}), "yz", zeroPoint(DType.UINT8, 120));
        Node node = NativeRun.qmatmul();
        sameOnEveryThreadCount(node, map("a", a), consts, "sparse matmul " + m + "x" + k + " x " + k + "x" + n
                + " blocks " + br + "x" + bc);
    }

    private static void conv(int cin, int cout, int hw, int k, int stride, int group, long[] pads) {
        Random r = new Random(cin * 31L + cout * 7L + hw);
        int oh = (hw + (int) (pads[0] + pads[2]) - k) / stride + 1;
        Tensor x = bytes(DType.UINT8, r, 1, cin, hw, hw);
        Tensor w = bytes(DType.INT8, r, cout, cin / group, k, k);
        float[] ws = new float[cout];
        int[] bias = new int[cout];
        for (int i = 0; i < cout; i++) {
            // now and then a channel whose scaled accumulators pass 2^31: it saturates, next to channels that do not
            ws[i] = i % 7 == 3 ? scale(r) * 1e7f : scale(r);
            bias[i] = r.nextInt(20001) - 10000;
        }
        Map<String, Tensor> consts = map("xs", Tensor.of(new float[] {scale(r)}), "xz", zeroPoint(DType.UINT8, 113),
                "w", w, "ws", Tensor.of(ws, cout), "wz", zeroPoint(DType.INT8, 0, cout),
                "ys", Tensor.of(new float[] {scale(r) * 8}), "yz", zeroPoint(DType.UINT8, 97), "b", Tensor.of(bias, cout));
        Node node = Node.of("conv", Op.QLinearConv, List.of("x", "xs", "xz", "w", "ws", "wz", "ys", "yz", "b"),
                List.of("y")).withAttr("group", new Attr.Int(group))
                .withAttr("strides", new Attr.Ints(new long[] {stride, stride})).withAttr("pads", new Attr.Ints(pads))
                .withAttr("fused_activation", new Attr.Str("Relu"));
        sameOnEveryThreadCount(node, map("x", x), consts, "conv " + cin + "->" + cout + " " + hw + "x" + hw + " k" + k
                + " s" + stride + " group " + group);
    }

    private static void matMul(int m, int k, int n) {
        Random r = new Random(m * 13L + k + n);
        Tensor a = bytes(DType.UINT8, r, m, k);
        Tensor b = bytes(DType.INT8, r, k, n);
        float[] bs = new float[n];
        for (int i = 0; i < n; i++) {
            bs[i] = scale(r);
        }
        Map<String, Tensor> consts = map("as", Tensor.of(new float[] {scale(r)}), "az", zeroPoint(DType.UINT8, 128),
                "b", b, "bs", Tensor.of(bs, n), "bz", zeroPoint(DType.INT8, 0, n),
                "ys", Tensor.of(new float[] {scale(r) * 16}), "yz", zeroPoint(DType.UINT8, 120));
        Node node = NativeRun.qmatmul();
        sameOnEveryThreadCount(node, map("a", a), consts, "matmul " + m + "x" + k + " x " + k + "x" + n);
    }

    private static void sameOnEveryThreadCount(Node node, Map<String, Tensor> inputs, Map<String, Tensor> consts,
            String what) {
        int[] want = NativeRun.runReference(node, inputs, consts).toIntArray();
        for (String isa : NativeBackend.supportedIsas()) {
            for (int threads = 1; threads <= 3; threads++) {
                assertArrayEquals(want, NativeRun.run(isa, node, inputs, consts, threads).toIntArray(),
                        what + " on " + isa + " with " + threads + " threads");
            }
        }
    }
}
