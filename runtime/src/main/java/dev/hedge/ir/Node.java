package dev.hedge.ir;

import dev.hedge.ops.AttrDef;
import dev.hedge.ops.AttrKind;
import dev.hedge.ops.Op;
import dev.hedge.runtime.Tensor;
import dev.hedge.runtime.UnsupportedModelException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One operation. Inputs and outputs are value names; an empty name marks an omitted optional input or
 * an unused output. Attribute getters fall back to the defaults of {@link Op}'s attribute table, and
 * asking for an attribute the op does not declare is a programming error.
 */
public record Node(String name, Op op, List<String> inputs, List<String> outputs, Map<String, Attr> attrs) {

    public Node {
        inputs = List.copyOf(inputs);
        outputs = List.copyOf(outputs);
        attrs = Collections.unmodifiableMap(new LinkedHashMap<>(attrs));
    }

    public static Node of(String name, Op op, List<String> inputs, List<String> outputs) {
        return new Node(name, op, inputs, outputs, Map.of());
    }

    /** Input name {@code i}, or "" when omitted or beyond the list. */
    public String input(int i) {
        return i < inputs.size() ? inputs.get(i) : "";
    }

    public boolean hasInput(int i) {
        return !input(i).isEmpty();
    }

    public String output(int i) {
        return i < outputs.size() ? outputs.get(i) : "";
    }

    /** Describes the node for error messages: {@code Conv node 'conv1'}. */
    public String describe() {
        return op.name() + " node '" + name + "'";
    }

    public boolean hasAttr(String attrName) {
        return attrs.containsKey(attrName);
    }

    private AttrDef def(String attrName, AttrKind kind) {
        AttrDef d = op.attr(attrName);
        if (d == null || d.kind() != kind) {
            throw new IllegalArgumentException(op + " has no " + kind + " attribute '" + attrName + "'");
        }
        return d;
    }

    private Attr value(String attrName, AttrKind kind) {
        AttrDef d = def(attrName, kind);
        Attr a = attrs.get(attrName);
        if (a == null && d.required()) {
            throw new UnsupportedModelException(describe() + " lacks required attribute '" + attrName + "'");
        }
        if (a != null && a.kind() != kind) {
            throw new UnsupportedModelException(
                    describe() + " attribute '" + attrName + "' is " + a.kind() + ", expected " + kind);
        }
        return a;
    }

    public long intAttr(String attrName) {
        Attr a = value(attrName, AttrKind.INT);
        if (a != null) {
            return ((Attr.Int) a).value();
        }
        Object d = op.attr(attrName).defaultValue();
        if (d == null) {
            throw new IllegalArgumentException(describe() + ": attribute '" + attrName + "' has no default; use hasAttr");
        }
        return (Long) d;
    }

    public float floatAttr(String attrName) {
        Attr a = value(attrName, AttrKind.FLOAT);
        if (a != null) {
            return ((Attr.Float) a).value();
        }
        Object d = op.attr(attrName).defaultValue();
        if (d == null) {
            throw new IllegalArgumentException(describe() + ": attribute '" + attrName + "' has no default; use hasAttr");
        }
        return (java.lang.Float) d;
    }

    /** String attribute, or its default (may be null when the op declares none). */
    public String stringAttr(String attrName) {
        Attr a = value(attrName, AttrKind.STRING);
        return a != null ? ((Attr.Str) a).value() : (String) op.attr(attrName).defaultValue();
    }

    /** INTS attribute, or null when absent. */
    public long[] intsAttr(String attrName) {
        Attr a = value(attrName, AttrKind.INTS);
        return a != null ? ((Attr.Ints) a).value() : null;
    }

    /** FLOATS attribute, or null when absent. */
    public float[] floatsAttr(String attrName) {
        Attr a = value(attrName, AttrKind.FLOATS);
        return a != null ? ((Attr.Floats) a).value() : null;
    }

    /** STRINGS attribute, or null when absent. */
    public List<String> stringsAttr(String attrName) {
        Attr a = value(attrName, AttrKind.STRINGS);
        return a != null ? ((Attr.Strs) a).value() : null;
    }

    public Graph graphAttr(String attrName) {
        Attr a = value(attrName, AttrKind.GRAPH);
        return a != null ? ((Attr.GraphValue) a).value() : null;
    }

    public Tensor tensorAttr(String attrName) {
        Attr a = value(attrName, AttrKind.TENSOR);
        return a != null ? ((Attr.TensorValue) a).value() : null;
    }

    /** All subgraphs held by this node's attributes, in attribute order. */
    public List<Graph> subgraphs() {
        List<Graph> l = new ArrayList<>();
        for (Attr a : attrs.values()) {
            if (a instanceof Attr.GraphValue g) {
                l.add(g.value());
            }
        }
        return l;
    }

    public Node withInputs(List<String> newInputs) {
        return new Node(name, op, newInputs, outputs, attrs);
    }

    public Node withOutputs(List<String> newOutputs) {
        return new Node(name, op, inputs, newOutputs, attrs);
    }

    public Node withAttr(String attrName, Attr value) {
        Map<String, Attr> m = new LinkedHashMap<>(attrs);
        m.put(attrName, value);
        return new Node(name, op, inputs, outputs, m);
    }

    public Node withoutAttr(String attrName) {
        Map<String, Attr> m = new LinkedHashMap<>(attrs);
        m.remove(attrName);
        return new Node(name, op, inputs, outputs, m);
    }

    @Override
    public String toString() {
        return describe() + " " + inputs + " -> " + outputs;
    }
}
