package dev.hedge.converter.prune;

import dev.hedge.converter.passes.ScalarBackend;
import dev.hedge.ir.Graph;
import dev.hedge.ir.ModelDef;
import dev.hedge.ir.Node;
import dev.hedge.kernels.Backend;
import dev.hedge.kernels.Kernel;
import dev.hedge.kernels.PrepareContext;
import dev.hedge.kernels.RunContext;
import dev.hedge.kernels.ref.RefBackend;
import dev.hedge.runtime.DType;
import dev.hedge.runtime.Model;
import dev.hedge.runtime.RuntimeOptions;
import dev.hedge.runtime.Session;
import dev.hedge.runtime.Tensor;
import java.util.List;
import java.util.Map;

/**
 * Runtime for the pruning tests: the Java reference backend for every op it has, and otherwise the passes'
 * independent scalar test kernels (Conv, Gemm, MatMul, BatchNormalization, ...) plus GlobalAveragePool here.
 */
public final class TestRuntime {

    private TestRuntime() {
    }

    public static final RuntimeOptions OPTIONS = RuntimeOptions.reference().withBackend(new Backend() {
        @Override
        public String name() {
            return "prune-test";
        }

        @Override
        public Kernel create(Node node, List<PrepareContext.ValueType> inputs) {
            if (RefBackend.INSTANCE.supportedOps().contains(node.op())) {
                return null;
            }
            if (node.op() == dev.hedge.ops.Op.GlobalAveragePool) {
                return new GlobalAveragePool();
            }
            return ScalarBackend.INSTANCE.create(node, inputs);
        }
    });

    /** Runs {@code g} once and returns a copy of its first output. */
    public static Tensor run(Graph g, Map<String, Tensor> inputs) {
        try (Model m = Model.of(new ModelDef(g, Map.of()), OPTIONS); Session s = m.newSession()) {
            return s.run(inputs).values().iterator().next().copy();
        }
    }

    private static final class GlobalAveragePool implements Kernel {
        @Override
        public void prepare(PrepareContext ctx) {
            int[] s = ctx.inputShape(0).clone();
            if (ctx.inputType(0) != DType.FLOAT32 || s.length < 3) {
                throw new IllegalArgumentException("test GlobalAveragePool takes float32 N,C,spatial...");
            }
            for (int d = 2; d < s.length; d++) {
                s[d] = 1;
            }
            ctx.setOutput(0, DType.FLOAT32, s);
        }

        @Override
        public void run(RunContext ctx) {
            Tensor x = ctx.input(0);
            Tensor y = ctx.output(0);
            int planes = y.elementCount();
            int size = x.elementCount() / Math.max(planes, 1);
            for (int p = 0; p < planes; p++) {
                double sum = 0;
                for (int i = 0; i < size; i++) {
                    sum += x.getFloat(p * size + i);
                }
                y.setFloat(p, (float) (sum / size));
            }
        }
    }
}
