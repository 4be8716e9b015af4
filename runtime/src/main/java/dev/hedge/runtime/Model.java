package dev.hedge.runtime;

import dev.hedge.format.Decoding;
import dev.hedge.format.HedgeReader;
import dev.hedge.ir.Dim;
import dev.hedge.ir.Graph;
import dev.hedge.ir.ModelDef;
import dev.hedge.ir.ValueInfo;
import dev.hedge.kernels.Backend;
import dev.hedge.kernels.PrepareContext.ValueType;
import dev.hedge.kernels.ref.RefBackend;
import dev.hedge.plan.Plan;
import dev.hedge.plan.Planner;
import dev.hedge.plan.WorkerPool;
import java.io.IOException;
import java.lang.ref.Cleaner;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A loaded model: immutable and thread-safe. Plans (one per set of input shapes) are built on first use
 * and shared by all sessions; each {@link Session} owns only its memory arena.
 *
 * <pre>{@code
 * try (Model model = Model.load(Path.of("digits.hedge")); Session s = model.newSession()) {
 *     Map<String, Tensor> out = s.run(Map.of("pixels", Tensor.of(pixels, 1, 64)));
 * }
 * }</pre>
 */
public final class Model implements AutoCloseable {

    private static final int MAX_PLANS = 16;
    /** Stops the worker threads of models that are dropped without being closed. */
    private static final Cleaner CLEANER = Cleaner.create();

    private final ModelDef definition;
    private final Planner planner;
    private final long fileBytes;
    private final Map<String, Plan> plans = new LinkedHashMap<>(16, 0.75f, true);
    private final WorkerPool pool;
    private final Cleaner.Cleanable poolCleanup;
    private final RuntimeOptions options;

    private Model(ModelDef definition, RuntimeOptions options, long fileBytes) {
        this.definition = definition;
        List<Backend> backends = new ArrayList<>(options.backends());
        backends.add(RefBackend.INSTANCE);
        this.pool = options.threads() > 1 ? new WorkerPool(options.threads(), "hedge-" + graph().name()) : null;
        WorkerPool p = pool;
        this.poolCleanup = p == null ? null : CLEANER.register(this, p::close);
        this.planner = new Planner(backends, pool, options.kernelCosts(), Decoding::densify, options.unavailable());
        this.fileBytes = fileBytes;
        this.options = options;
    }

    /** The options this model runs with (backends in order, threads, backends not available here). */
    public RuntimeOptions options() {
        return options;
    }

    /** Intra-op threads this model's kernels run on (the calling thread included). */
    public int threads() {
        return planner.threads();
    }

    /** Memory-maps and verifies a .hedge file; runs it on every backend available here. */
    public static Model load(Path path) throws IOException {
        return load(path, RuntimeOptions.defaults());
    }

    public static Model load(Path path, RuntimeOptions options) throws IOException {
        HedgeReader.Loaded loaded = HedgeReader.read(path);
        return new Model(loaded.model(), options, loaded.fileBytes());
    }

    /** A model from an in-memory definition (as the converter produces). */
    public static Model of(ModelDef definition) {
        return of(definition, RuntimeOptions.defaults());
    }

    public static Model of(ModelDef definition, RuntimeOptions options) {
        return new Model(definition, options, -1);
    }

    public ModelDef definition() {
        return definition;
    }

    public Graph graph() {
        return definition.graph();
    }

    public List<ValueInfo> inputs() {
        return definition.graph().inputs();
    }

    public List<ValueInfo> outputs() {
        return definition.graph().outputs();
    }

    public Map<String, String> metadata() {
        return definition.metadata();
    }

    /** Size of the file it was loaded from, or -1. */
    public long fileBytes() {
        return fileBytes;
    }

    public Session newSession() {
        return new Session(this);
    }

    /** The plan for these input shapes (in graph input order), built once and cached. */
    public Plan plan(List<int[]> inputShapes) {
        List<ValueInfo> ins = inputs();
        if (inputShapes.size() != ins.size()) {
            throw new InvalidInputException("model takes " + ins.size() + " inputs, got shapes for "
                    + inputShapes.size());
        }
        StringBuilder key = new StringBuilder();
        for (int[] s : inputShapes) {
            key.append(Arrays.toString(s)).append(';');
        }
        String k = key.toString();
        synchronized (plans) {
            Plan p = plans.get(k);
            if (p != null) {
                return p;
            }
        }
        List<ValueType> types = new ArrayList<>();
        for (int i = 0; i < ins.size(); i++) {
            types.add(new ValueType(ins.get(i).dtype(), inputShapes.get(i)));
        }
        Plan p = planner.plan(graph(), types);
        synchronized (plans) {
            Plan existing = plans.get(k);
            if (existing != null) {
                return existing;
            }
            plans.put(k, p);
            if (plans.size() > MAX_PLANS) {
                plans.remove(plans.keySet().iterator().next());
            }
        }
        return p;
    }

    /** Concrete shapes for planning: fixed dims as declared, dynamic dims from {@code overrides} or 1. */
    public List<int[]> defaultInputShapes(Map<String, int[]> overrides) {
        List<int[]> l = new ArrayList<>();
        for (ValueInfo v : inputs()) {
            int[] o = overrides.get(v.name());
            if (o != null) {
                l.add(o);
            } else if (v.dims() == null) {
                throw new InvalidInputException("input '" + v.name() + "' has unknown rank; give its shape");
            } else {
                l.add(v.dims().stream().mapToInt(d -> d.isFixed() ? (int) d.value() : 1).toArray());
            }
        }
        return l;
    }

    /** Checks a caller's tensor against the declared input; messages name the input and the field. */
    void checkInput(ValueInfo v, Tensor t) {
        if (t.isEncoded()) {
            throw new InvalidInputException("input '" + v.name() + "' must be a dense tensor");
        }
        if (v.dtype() != null && v.dtype() != t.dtype()) {
            throw new InvalidInputException("input '" + v.name() + "' must be " + v.dtype() + ", got " + t.dtype());
        }
        List<Dim> dims = v.dims();
        if (dims == null) {
            return;
        }
        if (dims.size() != t.rank()) {
            throw new InvalidInputException("input '" + v.name() + "' must have rank " + dims.size() + " "
                    + v + ", got shape " + Arrays.toString(t.shape()));
        }
        for (int d = 0; d < dims.size(); d++) {
            if (dims.get(d).isFixed() && dims.get(d).value() != t.dim(d)) {
                throw new InvalidInputException("input '" + v.name() + "' dimension " + d + " must be "
                        + dims.get(d).value() + ", got shape " + Arrays.toString(t.shape()));
            }
        }
    }

    /** Forgets the cached plans and stops the worker threads; sessions still open then run single-threaded. */
    @Override
    public void close() {
        synchronized (plans) {
            plans.clear();
        }
        if (poolCleanup != null) {
            poolCleanup.clean();
        }
    }
}
