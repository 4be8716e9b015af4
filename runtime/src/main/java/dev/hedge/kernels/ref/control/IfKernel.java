package dev.hedge.kernels.ref.control;

import dev.hedge.ir.Graph;
import dev.hedge.ir.Node;
import dev.hedge.kernels.Kernel;
import dev.hedge.kernels.PrepareContext;
import dev.hedge.kernels.PrepareContext.ValueType;
import dev.hedge.kernels.RunContext;
import dev.hedge.runtime.DType;
import dev.hedge.runtime.Tensor;
import java.util.Arrays;
import java.util.List;

/**
 * ONNX If. When the condition is known while planning only the branch taken is planned and the outputs
 * take its shapes; otherwise both branches are planned and an output is static only when both give it the
 * same static shape, else it is allocated at run time. The branch's results are copied into the outputs.
 *
 * <p>Models such as Silero VAD plan a branch for another sample rate that is not valid for the shapes of
 * this plan (ONNX Runtime never looks at it); when the condition is unknown such a branch is not an error
 * until it is taken.
 */
public final class IfKernel implements Kernel {

    private final Node node;
    private final Graph thenBranch;
    private final Graph elseBranch;
    private boolean[] used;
    private boolean[] dynamic;

    public IfKernel(Node node) {
        this.node = node;
        this.thenBranch = node.graphAttr("then_branch");
        this.elseBranch = node.graphAttr("else_branch");
    }

    @Override
    public void prepare(PrepareContext ctx) {
        DType ct = ctx.inputType(0);
        if (ct != DType.BOOL) {
            throw new IllegalArgumentException("cond must be BOOL, got " + ct);
        }
        int n = node.outputs().size();
        for (Graph g : List.of(thenBranch, elseBranch)) {
            if (g.outputs().size() != n) {
                throw new IllegalArgumentException("branch " + Subgraphs.name(g) + " has " + g.outputs().size()
                        + " outputs, the node " + n);
            }
        }
        Tensor cond = ctx.inputValue(0);
        List<ValueType> a;
        List<ValueType> b;
        if (cond != null) {
            a = ctx.inferSubgraph(condition(cond) ? thenBranch : elseBranch, List.of());
            b = a;
        } else {
            // A branch that cannot be planned for these shapes may never be taken with them: the error
            // surfaces if and when it runs (planning it then fails the same way), so the outputs can take
            // the other branch's types.
            RuntimeException thenError = null;
            RuntimeException elseError = null;
            a = null;
            b = null;
            try {
                a = ctx.inferSubgraph(thenBranch, List.of());
            } catch (RuntimeException e) {
                thenError = e;
            }
            try {
                b = ctx.inferSubgraph(elseBranch, List.of());
            } catch (RuntimeException e) {
                elseError = e;
            }
            if (thenError != null && elseError != null) {
                throw thenError;
            }
            a = a != null ? a : b;
            b = b != null ? b : a;
        }
        used = new boolean[n];
        dynamic = new boolean[n];
        for (int i = 0; i < n; i++) {
            used[i] = ctx.hasOutput(i);
            ValueType x = a.get(i);
            ValueType y = b.get(i);
            // a null dtype comes from a step the branch prepares at run time
            if (x.dtype() != null && y.dtype() != null && x.dtype() != y.dtype()) {
                throw new IllegalArgumentException("output " + i + " is " + x.dtype() + " in then_branch and "
                        + y.dtype() + " in else_branch");
            }
            DType dt = x.dtype() != null ? x.dtype() : y.dtype();
            if (dt != null && x.shape() != null && y.shape() != null && Arrays.equals(x.shape(), y.shape())) {
                ctx.setOutput(i, dt, x.shape());
            } else {
                dynamic[i] = true;
                ctx.setOutputDynamic(i, dt);
            }
        }
    }

    private boolean condition(Tensor cond) {
        if (cond.elementCount() != 1) {
            throw new IllegalArgumentException(node.describe() + ": cond must hold one element, got "
                    + Arrays.toString(cond.shape()));
        }
        return cond.getLong(0) != 0;
    }

    @Override
    public void run(RunContext ctx) {
        Graph branch = condition(ctx.input(0)) ? thenBranch : elseBranch;
        List<Tensor> outs = ctx.runSubgraph(branch, List.of());
        for (int i = 0; i < used.length; i++) {
            if (!used[i]) {
                continue;
            }
            Tensor src = outs.get(i);
            Tensor dst = dynamic[i] ? ctx.allocateOutput(i, src.dtype(), src.shape()) : ctx.output(i);
            if (!Subgraphs.copy(src, dst)) {
                throw new IllegalStateException(node.describe() + " output " + i + " from " + Subgraphs.name(branch)
                        + " is " + src + " but was planned as " + dst);
            }
        }
    }
}
