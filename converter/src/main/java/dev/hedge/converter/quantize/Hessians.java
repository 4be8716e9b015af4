package dev.hedge.converter.quantize;

import dev.hedge.converter.Progress;
import dev.hedge.converter.data.Dataset;
import dev.hedge.converter.eval.Tap;
import dev.hedge.converter.reconstruct.Blas;
import dev.hedge.ir.ModelDef;
import dev.hedge.ir.Node;
import dev.hedge.kernels.ref.quant.ConvShape;
import dev.hedge.ops.Op;
import dev.hedge.runtime.DType;
import dev.hedge.runtime.Model;
import dev.hedge.runtime.RuntimeOptions;
import dev.hedge.runtime.Session;
import dev.hedge.runtime.Tensor;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;

/**
 * Second moments of layer inputs over the calibration data, for error-feedback weight quantization
 * ({@link Gptq}): per layer and group, the centred Gram matrix {@code E[(x - μ)(x - μ)ᵀ]} of the rows the layer
 * multiplies its weights with (im2col rows for Conv, rows of A for Gemm / MatMul). Gathered by running the
 * model with a tap on the layers, wherever they are (If/Loop bodies included).
 */
public final class Hessians {

    /** Layers whose rows are wider than this keep round-to-nearest (the matrix would be too large). */
    public static final int MAX_WIDTH = 2048;

    /** One layer's accumulated moments, per group: upper-triangle Gram, sums, row count. */
    private static final class Acc {
        final int k;
        final double[][] gram;
        final double[][] sum;
        long rows;

        Acc(int groups, int k) {
            this.k = k;
            this.gram = new double[groups][k * k];
            this.sum = new double[groups][k];
        }
    }

    private Hessians() {
    }

    /** The width of the rows a layer multiplies its (first) weight with, or -1 when it is not supported. */
    static int width(Node n, Tensor w) {
        switch (n.op()) {
            case Conv: return w.elementCount() / w.dim(0);
            case MatMul: return w.rank() == 2 ? w.dim(0) : -1;
            case Gemm: return n.intAttr("transA") != 0 ? -1 : n.intAttr("transB") != 0 ? w.dim(1) : w.dim(0);
            default: return -1;
        }
    }

    /**
     * @return per layer name, per group, the centred Gram matrix (row-major {@code k x k}, upper triangle)
     */
    public static Map<String, double[][]> collect(ModelDef model, Dataset data, Map<String, Layer> layers,
            RuntimeOptions runtime, Progress progress) {
        Map<String, Acc> accs = new HashMap<>();
        Set<String> names = layers.keySet();
        Tap tap = new Tap(n -> names.contains(n.name()), (n, ctx) -> {
            Tensor x = ctx.input(0);
            Tensor w = ctx.input(1);
            if (x == null || w == null || x.dtype() != DType.FLOAT32) {
                return;
            }
            int k = width(n, w);
            if (k <= 0 || k > MAX_WIDTH) {
                return;
            }
            if (n.op() == Op.Conv) {
                ConvShape g = new ConvShape(n, x.shape(), w.shape());
                Acc a = accs.computeIfAbsent(n.name(), key -> new Acc(g.groups, k));
                int cg = g.channels / g.groups;
                float[] xv = x.toFloatArray();
                double[] rows = new double[g.outSize() * k];
                for (int b = 0; b < g.batch; b++) {
                    for (int grp = 0; grp < g.groups; grp++) {
                        g.rows(xv, (b * g.channels + grp * cg) * g.inSize(), cg, rows);
                        add(a, grp, rows, g.outSize());
                    }
                }
                a.rows += (long) g.batch * g.outSize();
            } else {
                Acc a = accs.computeIfAbsent(n.name(), key -> new Acc(1, k));
                float[] xv = x.toFloatArray();
                if (xv.length % k != 0) {
                    return;
                }
                int r = xv.length / k;
                double[] rows = new double[xv.length];
                for (int i = 0; i < xv.length; i++) {
                    rows[i] = xv[i];
                }
                add(a, 0, rows, r);
                a.rows += r;
            }
        }, runtime);
        try (Model m = Model.of(model, tap.options()); Session s = m.newSession()) {
            data.run(s, (i, feed, out) -> progress.update("input statistics", i + 1, data.size()));
        }
        Map<String, double[][]> out = new HashMap<>();
        for (Map.Entry<String, Acc> e : accs.entrySet()) {
            Acc a = e.getValue();
            int groups = a.gram.length;
            double[][] h = new double[groups][];
            for (int g = 0; g < groups; g++) {
                double[] c = new double[a.k * a.k];
                double n = a.rows;
                for (int i = 0; i < a.k; i++) {
                    for (int j = i; j < a.k; j++) {
                        c[i * a.k + j] = a.gram[g][i * a.k + j] / n - a.sum[g][i] / n * (a.sum[g][j] / n);
                    }
                }
                h[g] = c;
            }
            out.put(e.getKey(), h);
        }
        return out;
    }

    private static void add(Acc a, int group, double[] rows, int count) {
        Blas.addGram(rows, count, a.k, a.gram[group]);
        for (int r = 0; r < count; r++) {
            for (int i = 0; i < a.k; i++) {
                a.sum[group][i] += rows[r * a.k + i];
            }
        }
    }
}
