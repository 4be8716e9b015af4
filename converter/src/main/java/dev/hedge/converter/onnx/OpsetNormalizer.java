package dev.hedge.converter.onnx;

import dev.hedge.ir.Attr;
import dev.hedge.ir.Graph;
import dev.hedge.runtime.Tensor;
import dev.hedge.runtime.UnsupportedModelException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Rewrites ONNX nodes whose form changed across opsets into the single form of Hedge's op vocabulary
 * (attributes that later opsets made inputs become constant inputs; legacy attributes with only one valid
 * value are checked and dropped). Semantics are preserved exactly or the node is refused.
 */
final class OpsetNormalizer {

    private OpsetNormalizer() {
    }

    /** A node as read from ONNX, before it is checked against the op vocabulary. */
    record RawNode(String name, String opType, List<String> inputs, List<String> outputs, Map<String, Attr> attrs) {
        RawNode {
            inputs = new ArrayList<>(inputs);
            outputs = new ArrayList<>(outputs);
            attrs = new LinkedHashMap<>(attrs);
        }

        RawNode withOp(String op) {
            return new RawNode(name, op, inputs, outputs, attrs);
        }

        void setInput(int i, String value) {
            while (inputs.size() <= i) {
                inputs.add("");
            }
            inputs.set(i, value);
        }
    }

    static RawNode normalize(RawNode n, int opset, Graph.Builder b) {
        switch (n.opType()) {
            case "Squeeze":
            case "Unsqueeze":
                if (opset < 13) {
                    attrToInput(n, "axes", 1, b);
                }
                return n;
            case "ReduceSum":
                if (opset < 13) {
                    attrToInput(n, "axes", 1, b);
                }
                return n;
            case "ReduceMean": case "ReduceMax": case "ReduceMin": case "ReduceProd": case "ReduceL1":
            case "ReduceL2": case "ReduceLogSum": case "ReduceLogSumExp": case "ReduceSumSquare":
                if (opset < 18) {
                    attrToInput(n, "axes", 1, b);
                }
                return n;
            case "Split":
                if (opset < 13) {
                    attrToInput(n, "split", 1, b);
                }
                return n;
            case "Slice":
                if (opset < 10) {
                    Attr starts = n.attrs().remove("starts");
                    Attr ends = n.attrs().remove("ends");
                    Attr axes = n.attrs().remove("axes");
                    n.setInput(1, constant(b, n, "starts", starts));
                    n.setInput(2, constant(b, n, "ends", ends));
                    if (axes != null) {
                        n.setInput(3, constant(b, n, "axes", axes));
                    }
                }
                return n;
            case "Pad":
                if (opset < 11) {
                    Attr pads = n.attrs().remove("pads");
                    Attr value = n.attrs().remove("value");
                    n.setInput(1, constant(b, n, "pads", pads));
                    if (value != null) {
                        float v = ((Attr.Float) value).value();
                        n.setInput(2, addConstant(b, n, "value", Tensor.scalar(v).reshape()));
                    }
                }
                return n;
            case "Clip":
                if (opset < 11) {
                    Attr min = n.attrs().remove("min");
                    Attr max = n.attrs().remove("max");
                    if (min != null) {
                        n.setInput(1, addConstant(b, n, "min", Tensor.scalar(((Attr.Float) min).value()).reshape()));
                    }
                    if (max != null) {
                        n.setInput(2, addConstant(b, n, "max", Tensor.scalar(((Attr.Float) max).value()).reshape()));
                    }
                }
                return n;
            case "TopK":
                if (opset < 10) {
                    Attr k = n.attrs().remove("k");
                    long kv = ((Attr.Int) k).value();
                    n.setInput(1, addConstant(b, n, "k", Tensor.of(new long[] {kv}, 1)));
                }
                return n;
            case "Softmax": case "LogSoftmax": case "Hardmax":
                if (opset < 13) {
                    if (!n.attrs().containsKey("axis")) {
                        n.attrs().put("axis", new Attr.Int(1));
                    }
                    n.attrs().put("coerce_2d", new Attr.Int(1));
                }
                return n;
            case "BatchNormalization":
                dropIfEquals(n, "spatial", 1, "only spatial=1 is supported");
                n.attrs().remove("is_test");
                n.attrs().remove("consumed_inputs");
                return n;
            case "Dropout":
                n.attrs().remove("ratio");
                n.attrs().remove("is_test");
                return n;
            case "Upsample": {
                // Upsample-7 (scales attribute) and -9 (scales input) are Resize with asymmetric coordinates.
                Attr scales = n.attrs().remove("scales");
                if (scales != null) {
                    n.setInput(1, constant(b, n, "scales", scales));
                }
                String mode = n.attrs().containsKey("mode") ? ((Attr.Str) n.attrs().remove("mode")).value() : "nearest";
                return toResize(n, mode);
            }
            case "Resize":
                if (opset < 11) {
                    String mode = n.attrs().containsKey("mode") ? ((Attr.Str) n.attrs().remove("mode")).value()
                            : "nearest";
                    return toResize(n, mode);
                }
                return n;
            default:
                return n;
        }
    }

    private static RawNode toResize(RawNode n, String mode) {
        String x = n.inputs().get(0);
        String scales = n.inputs().size() > 1 ? n.inputs().get(1) : "";
        RawNode r = new RawNode(n.name(), "Resize", List.of(x, "", scales), n.outputs(), n.attrs());
        r.attrs().put("mode", new Attr.Str(mode.equals("bilinear") ? "linear" : mode));
        r.attrs().put("coordinate_transformation_mode", new Attr.Str("asymmetric"));
        if (mode.equals("nearest")) {
            r.attrs().put("nearest_mode", new Attr.Str("floor"));
        }
        return r;
    }

    private static void dropIfEquals(RawNode n, String attr, long expected, String why) {
        Attr a = n.attrs().remove(attr);
        if (a instanceof Attr.Int i && i.value() != expected) {
            throw new UnsupportedModelException("attribute " + attr + "=" + i.value() + ": " + why);
        }
    }

    private static void attrToInput(RawNode n, String attr, int index, Graph.Builder b) {
        Attr a = n.attrs().remove(attr);
        if (a != null) {
            n.setInput(index, constant(b, n, attr, a));
        }
    }

    private static String constant(Graph.Builder b, RawNode n, String what, Attr a) {
        if (a == null) {
            throw new UnsupportedModelException("required attribute '" + what + "' is missing");
        }
        Tensor t;
        if (a instanceof Attr.Ints i) {
            long[] v = i.value();
            t = Tensor.of(v, v.length);
        } else if (a instanceof Attr.Floats f) {
            float[] v = f.value();
            t = Tensor.of(v, v.length);
        } else {
            throw new UnsupportedModelException("attribute '" + what + "' has unexpected type " + a.kind());
        }
        return addConstant(b, n, what, t);
    }

    private static String addConstant(Graph.Builder b, RawNode n, String what, Tensor t) {
        String name = n.name() + "/" + what;
        int k = 0;
        while (b.initializers().containsKey(name)) {
            name = n.name() + "/" + what + "_" + (++k);
        }
        b.initializer(name, t);
        return name;
    }
}
