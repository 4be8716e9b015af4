package dev.hedge.bench.models;

import ai.onnx.proto.OnnxMl.ModelProto;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The CNNs the performance report measures, as ONNX files with random weights (fixed seeds, so every run
 * builds the same bytes): a MobileNetV2-style network (inverted residuals, depthwise 3x3, ReLU6) and a
 * ResNet-18-style network (basic blocks), both 224x224 ImageNet-shaped with 1000 classes, exported the
 * way PyTorch does (Conv + BatchNormalization + activation, Gemm classifier).
 *
 * <p>{@code java dev.hedge.bench.models.BenchModels OUTDIR} writes {@code mobilenetv2-style.onnx} and
 * {@code resnet-style.onnx}.
 */
public final class BenchModels {

    private BenchModels() {
    }

    public static void main(String[] args) throws IOException {
        if (args.length != 1) {
            System.err.println("usage: BenchModels OUTDIR");
            System.exit(2);
        }
        Path dir = Path.of(args[0]);
        Files.createDirectories(dir);
        Files.write(dir.resolve("mobilenetv2-style.onnx"), mobileNetV2().toByteArray());
        Files.write(dir.resolve("resnet-style.onnx"), resNet18().toByteArray());
    }

    /** MobileNetV2 1.0 at 224x224: about 300 M multiply-adds. */
    public static ModelProto mobileNetV2() {
        OnnxGraph g = new OnnxGraph("mobilenetv2_style", 2);
        g.input("input", 1, 3, 224, 224);
        String x = g.relu6(g.batchNorm(g.conv("input", 3, 32, 3, 2, 1), 32));
        int cin = 32;
        // expansion t, channels c, repeats n, first stride s
        int[][] settings = {{1, 16, 1, 1}, {6, 24, 2, 2}, {6, 32, 3, 2}, {6, 64, 4, 2}, {6, 96, 3, 1},
            {6, 160, 3, 2}, {6, 320, 1, 1}};
        for (int[] s : settings) {
            for (int r = 0; r < s[2]; r++) {
                int stride = r == 0 ? s[3] : 1;
                int hidden = cin * s[0];
                String h = x;
                if (s[0] != 1) {
                    h = g.relu6(g.batchNorm(g.conv(h, cin, hidden, 1, 1, 1), hidden));
                }
                h = g.relu6(g.batchNorm(g.conv(h, hidden, hidden, 3, stride, hidden), hidden));
                h = g.batchNorm(g.conv(h, hidden, s[1], 1, 1, 1), s[1]);
                x = stride == 1 && cin == s[1] ? g.add(x, h) : h;
                cin = s[1];
            }
        }
        x = g.relu6(g.batchNorm(g.conv(x, cin, 1280, 1, 1, 1), 1280));
        x = g.linear(g.flatten(g.globalAveragePool(x)), 1280, 1000);
        g.rename(x, "logits");
        g.output("logits", 1, 1000);
        return g.model();
    }

    /** ResNet-18 at 224x224: about 1.8 G multiply-adds. */
    public static ModelProto resNet18() {
        OnnxGraph g = new OnnxGraph("resnet18_style", 3);
        g.input("input", 1, 3, 224, 224);
        String x = g.relu(g.batchNorm(g.conv("input", 3, 64, 7, 2, 1), 64));
        x = g.maxPool(x, 3, 2, 1);
        int cin = 64;
        int[] widths = {64, 128, 256, 512};
        for (int stage = 0; stage < widths.length; stage++) {
            int c = widths[stage];
            for (int b = 0; b < 2; b++) {
                int stride = stage > 0 && b == 0 ? 2 : 1;
                String h = g.relu(g.batchNorm(g.conv(x, cin, c, 3, stride, 1), c));
                h = g.batchNorm(g.conv(h, c, c, 3, 1, 1), c);
                String shortcut = x;
                if (stride != 1 || cin != c) {
                    shortcut = g.batchNorm(g.conv(x, cin, c, 1, stride, 1), c);
                }
                x = g.relu(g.add(h, shortcut));
                cin = c;
            }
        }
        x = g.linear(g.flatten(g.globalAveragePool(x)), 512, 1000);
        g.rename(x, "logits");
        g.output("logits", 1, 1000);
        return g.model();
    }
}
