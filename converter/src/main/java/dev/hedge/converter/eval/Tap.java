package dev.hedge.converter.eval;

import dev.hedge.ir.Node;
import dev.hedge.kernels.Backend;
import dev.hedge.kernels.Kernel;
import dev.hedge.kernels.PrepareContext;
import dev.hedge.kernels.RunContext;
import dev.hedge.kernels.ref.RefBackend;
import dev.hedge.runtime.RuntimeOptions;
import java.util.List;
import java.util.function.Predicate;

/**
 * A backend that runs the watched nodes with the Java reference kernels and tells a listener after each run,
 * with the node's inputs and outputs still in place. Nodes inside If/Loop bodies are planned by the same
 * planner, so they are watched too. This is how calibration and evaluation see intermediate values of a
 * model, original or compressed, without changing its graph. Listeners must copy what they keep: the
 * tensors are the session's arena views.
 */
public final class Tap implements Backend {

    /** Called after a watched node ran. */
    @FunctionalInterface
    public interface Listener {
        void ran(Node node, RunContext ctx);
    }

    private final Predicate<Node> watch;
    private final Listener listener;
    private final RuntimeOptions base;

    /** A tap over the Java reference kernels. */
    public Tap(Predicate<Node> watch, Listener listener) {
        this(watch, listener, RuntimeOptions.reference());
    }

    /** A tap whose watched nodes run on {@code base}'s backends (then the reference kernels). */
    public Tap(Predicate<Node> watch, Listener listener, RuntimeOptions base) {
        this.watch = watch;
        this.listener = listener;
        this.base = base;
    }

    /** {@code base}'s options with this tap first. */
    public RuntimeOptions options() {
        RuntimeOptions o = RuntimeOptions.reference().withThreads(base.threads()).withBackend(this);
        for (Backend b : base.backends()) {
            o = o.withBackend(b);
        }
        return o;
    }

    @Override
    public String name() {
        return "tap";
    }

    @Override
    public Kernel create(Node node, List<PrepareContext.ValueType> inputs) {
        if (!watch.test(node)) {
            return null;
        }
        for (Backend b : base.backends()) {
            Kernel k = b.create(node, inputs);
            if (k != null) {
                return new Tapped(node, k, listener);
            }
        }
        Kernel k = RefBackend.INSTANCE.create(node, inputs);
        return k == null ? null : new Tapped(node, k, listener);
    }

    private record Tapped(Node node, Kernel kernel, Listener listener) implements Kernel {
        @Override
        public void prepare(PrepareContext ctx) {
            kernel.prepare(ctx);
        }

        @Override
        public void run(RunContext ctx) {
            kernel.run(ctx);
            listener.ran(node, ctx);
        }
    }
}
