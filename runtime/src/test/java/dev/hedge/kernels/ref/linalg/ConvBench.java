package dev.hedge.kernels.ref.linalg;

import dev.hedge.ir.Node;
import dev.hedge.kernels.Kernel;
import dev.hedge.ops.Op;
import dev.hedge.runtime.Tensor;
import java.util.List;
import java.util.Random;
import java.util.Set;

/**
 * Single-thread GFLOP/s of the Conv kernel on typical CNN layers (batch 1, constant weights); a timing
 * harness run by hand, not a unit test:
 * <pre>
 * java -cp runtime/target/classes:runtime/target/test-classes:schema/target/classes \
 *     dev.hedge.kernels.ref.linalg.ConvBench
 * </pre>
 */
public final class ConvBench {

    private ConvBench() {
    }

    public static void main(String[] args) {
        // name, C, H(=W), M, kernel, stride, pad, group
        Object[][] layers = {
            {"ResNet 3x3 64->64 @56", 64, 56, 64, 3, 1, 1, 1},
            {"ResNet 1x1 256->64 @56", 256, 56, 64, 1, 1, 0, 1},
            {"ResNet 3x3/2 128->128 @56", 128, 56, 128, 3, 2, 1, 1},
            {"ResNet 3x3 512->512 @7", 512, 7, 512, 3, 1, 1, 1},
            {"stem 7x7/2 3->64 @224", 3, 224, 64, 7, 2, 3, 1},
            {"MobileNet dw 3x3 32 @112", 32, 112, 32, 3, 1, 1, 32},
            {"MobileNet dw 3x3/2 96 @112", 96, 112, 96, 3, 2, 1, 96},
        };
        for (Object[] l : layers) {
            System.out.printf("%-28s %7.2f GFLOP/s%n", l[0], measure((int) l[1], (int) l[2], (int) l[3], (int) l[4],
                    (int) l[5], (int) l[6], (int) l[7]));
        }
    }

    static double measure(int c, int hw, int m, int k, int stride, int pad, int group) {
        Random r = new Random(1);
        Tensor x = Tensor.of(LinalgTesting.randomFloats(r, c * hw * hw), 1, c, hw, hw);
        Tensor w = Tensor.of(LinalgTesting.randomFloats(r, m * (c / group) * k * k), m, c / group, k, k);
        Tensor b = Tensor.of(LinalgTesting.randomFloats(r, m), m);
        Node node = new Node("conv", Op.Conv, List.of("x", "w", "b"), List.of("y"), LinalgTesting.attrs()
                .ints("strides", stride, stride).ints("pads", pad, pad, pad, pad).i("group", group)
                .s("fused_activation", "Relu").map);
        RunAllocatesNothingTest.Harness h = new RunAllocatesNothingTest.Harness(node, List.of(x, w, b), Set.of(1, 2));
        Kernel kernel = LinalgKernelFactory.create(node);
        kernel.prepare(h);
        int out = (hw + 2 * pad - k) / stride + 1;
        double flops = 2.0 * m * (c / group) * k * k * out * out;
        int reps = Math.max(1, (int) (2e8 / flops));
        double best = 0;
        long start = System.nanoTime();
        while (System.nanoTime() - start < 2_000_000_000L) {
            long t0 = System.nanoTime();
            for (int i = 0; i < reps; i++) {
                kernel.run(h);
            }
            best = Math.max(best, flops * reps / (System.nanoTime() - t0));
        }
        return best;
    }
}
