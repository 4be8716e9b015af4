package dev.hedge.converter.passes;

import dev.hedge.ir.Dim;
import dev.hedge.ir.Graph;
import dev.hedge.ir.ValueInfo;
import dev.hedge.runtime.InvalidInputException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Specializes graph inputs to concrete shapes (the converter's {@code --input-shape}): the model then
 * accepts exactly those shapes, and shape inference and folding know every dimension. A shape must keep
 * the input's rank and its fixed dimensions; an unknown input name is an error listing the inputs.
 */
public final class FixInputShapes implements GraphPass {

    private final Map<String, int[]> shapes;

    public FixInputShapes(Map<String, int[]> shapes) {
        this.shapes = new LinkedHashMap<>();
        shapes.forEach((k, v) -> this.shapes.put(k, v.clone()));
    }

    @Override
    public String name() {
        return "fix-input-shapes";
    }

    @Override
    public String note(Map<String, Integer> changes) {
        return changes.isEmpty() ? "" : "fixed " + Result.describe(changes);
    }

    @Override
    public Result run(Graph g) {
        for (String name : shapes.keySet()) {
            if (g.input(name) == null) {
                throw new InvalidInputException("a shape is given for input '" + name + "', but the model's inputs are "
                        + g.inputNames());
            }
        }
        Changes changes = new Changes();
        Graph.Builder b = g.toBuilder();
        b.inputs().clear();
        for (ValueInfo in : g.inputs()) {
            int[] s = shapes.get(in.name());
            if (s == null) {
                b.addInput(in);
                continue;
            }
            String given = Arrays.toString(s);
            if (in.dims() != null && in.dims().size() != s.length) {
                throw new InvalidInputException("input '" + in.name() + "' has rank " + in.dims().size() + " " + in
                        + ", the given shape " + given + " has rank " + s.length);
            }
            List<Dim> dims = new ArrayList<>();
            for (int d = 0; d < s.length; d++) {
                if (s[d] < 0) {
                    throw new InvalidInputException("input '" + in.name() + "': dimension " + d + " of " + given
                            + " is negative");
                }
                if (in.dims() != null && in.dims().get(d).isFixed() && in.dims().get(d).value() != s[d]) {
                    throw new InvalidInputException("input '" + in.name() + "' dimension " + d + " is fixed to "
                            + in.dims().get(d).value() + " " + in + ", the given shape " + given + " says " + s[d]);
                }
                dims.add(Dim.of(s[d]));
            }
            ValueInfo fixed = new ValueInfo(in.name(), in.dtype(), dims);
            if (!fixed.equals(in)) {
                changes.add("inputs");
            }
            b.addInput(fixed);
        }
        return new Result(b.build(), changes.asMap());
    }
}
