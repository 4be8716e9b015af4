package dev.hedge.runtime;

import dev.hedge.ir.ValueInfo;
import dev.hedge.plan.Frame;
import dev.hedge.plan.Plan;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Runs a model. Cheap to create; not thread-safe (use one per thread). The tensors {@link #run} returns
 * live in this session's arena and are overwritten by the next run: copy what you keep.
 */
public final class Session implements AutoCloseable {

    private final Model model;
    private final Map<Plan, Frame> frames = new IdentityHashMap<>();
    /**
     * Per frame, its outputs by name, refilled in place by each of its runs (the same keys: no allocation); a
     * map returned earlier for other input shapes keeps that frame's tensors, as before.
     */
    private final Map<Frame, Map<String, Tensor>> results = new IdentityHashMap<>();
    private final List<int[]> shapes = new ArrayList<>();
    private final List<Tensor> ordered = new ArrayList<>();
    private Plan lastPlan;
    private Frame lastFrame;
    private Map<String, Tensor> lastResults;
    private Map<String, Tensor> lastResultView;
    private Frame.StepListener listener;

    Session(Model model) {
        this.model = model;
    }

    public Model model() {
        return model;
    }

    /** Reports every executed step (for per-op profiles); null to stop. */
    public void setStepListener(Frame.StepListener l) {
        this.listener = l;
        for (Frame f : frames.values()) {
            f.setListener(l);
        }
    }

    /**
     * Runs the model. Every graph input must be given, with the declared dtype and a shape matching the
     * declared fixed dimensions. Returns the outputs by name, in graph order: a read-only map of session-owned
     * views, both refilled by the next run with the same input shapes.
     */
    public Map<String, Tensor> run(Map<String, Tensor> inputs) {
        List<ValueInfo> declared = model.inputs();
        ordered.clear();
        // indexed loops and no per-run collections: a run of a small model takes microseconds
        for (int i = 0; i < declared.size(); i++) {
            ValueInfo v = declared.get(i);
            Tensor t = inputs.get(v.name());
            if (t == null) {
                throw new InvalidInputException("missing input '" + v.name() + "' " + v);
            }
            model.checkInput(v, t);
            ordered.add(t);
        }
        if (inputs.size() != declared.size()) {
            // every declared input is there (distinct names), so some given name is not declared
            Set<String> known = new HashSet<>();
            declared.forEach(v -> known.add(v.name()));
            for (String n : inputs.keySet()) {
                if (!known.contains(n)) {
                    throw new InvalidInputException("unknown input '" + n + "'; the model's inputs are "
                            + declared.stream().map(ValueInfo::name).toList());
                }
            }
        }
        Frame f = frameFor(ordered);
        List<Tensor> outs = f.run(ordered);
        Map<String, Tensor> byName = lastResults;
        List<ValueInfo> outInfos = model.outputs();
        for (int i = 0; i < outInfos.size(); i++) {
            byName.put(outInfos.get(i).name(), outs.get(i));
        }
        return lastResultView;
    }

    private Frame frameFor(List<Tensor> in) {
        if (lastPlan != null && matches(lastPlan, in)) {
            return lastFrame;
        }
        shapes.clear();
        for (Tensor t : in) {
            shapes.add(t.shape());
        }
        Plan p = model.plan(new ArrayList<>(shapes));
        Frame f = frames.get(p);
        if (f == null) {
            if (frames.size() >= 8) {
                frames.clear();
                results.clear();
            }
            f = p.newFrame();
            f.setListener(listener);
            frames.put(p, f);
        }
        lastPlan = p;
        lastFrame = f;
        lastResults = results.computeIfAbsent(f, k -> new LinkedHashMap<>());
        lastResultView = Collections.unmodifiableMap(lastResults);
        return f;
    }

    private boolean matches(Plan p, List<Tensor> in) {
        for (int i = 0; i < in.size(); i++) {
            int[] s = shapes.get(i);
            Tensor t = in.get(i);
            if (s.length != t.rank()) {
                return false;
            }
            for (int d = 0; d < s.length; d++) {
                if (s[d] != t.dim(d)) {
                    return false;
                }
            }
        }
        return true;
    }

    @Override
    public void close() {
        frames.clear();
        results.clear();
        lastPlan = null;
        lastFrame = null;
    }
}
