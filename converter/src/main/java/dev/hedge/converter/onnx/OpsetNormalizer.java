package dev.hedge.converter.onnx;

import dev.hedge.ir.Attr;
import dev.hedge.runtime.DType;
import dev.hedge.runtime.ModelFormatException;
import dev.hedge.runtime.Tensor;
import dev.hedge.runtime.UnsupportedModelException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Rewrites ONNX nodes whose form changed across opsets into the single form of Hedge's op vocabulary
 * (the newest ONNX form): attributes that later versions made inputs become constant inputs, legacy
 * attributes are checked and dropped, and where an older version meant something the newest form says
 * differently, helper nodes restore the old meaning. Semantics are preserved exactly or the node is
 * refused with an {@link UnsupportedModelException} saying why.
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

        String input(int i) {
            return i < inputs.size() ? inputs.get(i) : "";
        }

        void setInput(int i, String value) {
            while (inputs.size() <= i) {
                inputs.add("");
            }
            inputs.set(i, value);
        }
    }

    /** What the normalizer may ask of the importer. */
    interface Context {
        /** The element type of a value when the importer knows it, else null. */
        DType dtype(String value);

        /** The value of an initializer (or Constant) visible from this graph, else null. */
        Tensor constant(String value);

        /** Adds an initializer to the graph being imported; returns its (unique) name. */
        String addConstant(String hint, Tensor t);

        /** A value name used nowhere in the model. */
        String freshValue(String hint);
    }

    /**
     * Normalizes one node of ONNX version {@code v}; returns the node(s) to add, in order. The attributes
     * have already been checked against {@code v}'s definition.
     */
    static List<RawNode> normalize(RawNode n, OnnxOpVersions.Version v, Context c) {
        int ver = v.since();
        List<RawNode> out = new ArrayList<>();
        switch (n.opType()) {
            case "Squeeze":
            case "Unsqueeze":
                if (ver < 13) {
                    intsAttrToInput(n, "axes", 1, c);
                }
                break;
            case "ReduceSum":
                if (ver < 13) {
                    intsAttrToInput(n, "axes", 1, c);
                }
                break;
            case "ReduceMean": case "ReduceMax": case "ReduceMin": case "ReduceProd": case "ReduceL1":
            case "ReduceL2": case "ReduceLogSum": case "ReduceLogSumExp": case "ReduceSumSquare":
                if (ver < 18) {
                    intsAttrToInput(n, "axes", 1, c);
                }
                break;
            case "Split":
                if (ver < 13) {
                    intsAttrToInput(n, "split", 1, c);
                }
                break;
            case "Slice":
                if (ver < 10) {
                    requireAttr(n, "starts");
                    requireAttr(n, "ends");
                    intsAttrToInput(n, "starts", 1, c);
                    intsAttrToInput(n, "ends", 2, c);
                    intsAttrToInput(n, "axes", 3, c);
                }
                break;
            case "TopK":
                if (ver < 10) {
                    long k = intAttr(n, "k", null);
                    n.attrs().remove("k");
                    n.setInput(1, c.addConstant(n.name() + "/k", Tensor.of(new long[] {k}, 1)));
                }
                break;
            case "Pad":
                if (ver < 11) {
                    pad2(n, c, out);
                }
                break;
            case "Clip":
                if (ver < 11) {
                    clip6(n, c, out);
                }
                break;
            case "Softmax": case "LogSoftmax": case "Hardmax":
                if (ver < 13) {
                    // opset < 13: flatten to 2-D at axis (default 1) and normalize each row
                    n.attrs().putIfAbsent("axis", new Attr.Int(1));
                    n.attrs().put("coerce_2d", new Attr.Int(1));
                }
                break;
            case "BatchNormalization":
                batchNorm(n, ver);
                break;
            case "Dropout":
                if (ver < 12) {
                    n.attrs().remove("ratio"); // inference: Dropout copies its input whatever the ratio
                }
                if (ver < 10 && n.outputs().size() > 1 && !n.outputs().get(1).isEmpty()) {
                    // Dropout-7 gives its mask as T; Hedge (like opset 10+) gives bool: convert after
                    String mask = n.outputs().get(1);
                    String boolMask = c.freshValue(mask + "/bool");
                    n.outputs().set(1, boolMask);
                    out.add(n);
                    out.add(castLike(n.name() + "/mask_cast", boolMask, n.input(0), mask));
                    return out;
                }
                break;
            case "Upsample":
                out.add(upsample(n, ver, c));
                return out;
            case "Resize":
                out.add(resize(n, ver, c));
                return out;
            case "GroupNormalization":
                if (ver < 21) {
                    groupNorm18(n, c, out);
                }
                break;
            case "ConvTranspose":
                if (ver < 11) {
                    String pad = strAttr(n, "auto_pad", "NOTSET");
                    if (pad.equals("SAME_UPPER") || pad.equals("SAME_LOWER")) {
                        throw new UnsupportedModelException("auto_pad=" + pad + " in ConvTranspose-1 puts the odd"
                                + " padding element on the opposite side from ConvTranspose-11; give explicit pads");
                    }
                }
                break;
            case "Cast": case "CastLike":
                if (n.opType().equals("Cast")) {
                    long to = intAttr(n, "to", null);
                    supportedDType(to, "to");
                }
                if (n.attrs().containsKey("round_mode")) {
                    // round_mode only affects casts to float8e8m0, a type Hedge does not have
                    String m = strAttr(n, "round_mode", "up");
                    if (!Set.of("up", "down", "nearest").contains(m)) {
                        throw new UnsupportedModelException("round_mode='" + m + "' is not one of up, down, nearest");
                    }
                    n.attrs().remove("round_mode");
                }
                break;
            case "EyeLike":
                if (n.attrs().containsKey("dtype")) {
                    supportedDType(intAttr(n, "dtype", null), "dtype");
                }
                break;
            case "QuantizeLinear":
                if (ver < 13) {
                    scalarizeConstant(n, 1, c);
                    scalarizeConstant(n, 2, c);
                }
                if (n.attrs().containsKey("output_dtype") && intAttr(n, "output_dtype", 0L) != 0) {
                    supportedDType(intAttr(n, "output_dtype", 0L), "output_dtype");
                }
                if (n.attrs().containsKey("precision")) {
                    // the division runs in y_scale's type unless precision says otherwise: cast the scale
                    long p = intAttr(n, "precision", 0L);
                    n.attrs().remove("precision");
                    if (p != 0) {
                        castScale(n, supportedDType(p, "precision"), c, out);
                    }
                }
                break;
            case "DequantizeLinear":
                if (ver < 13) {
                    scalarizeConstant(n, 1, c);
                    scalarizeConstant(n, 2, c);
                }
                if (n.attrs().containsKey("output_dtype")) {
                    // the output type (and the multiplication's precision) is x_scale's unless given
                    long t = intAttr(n, "output_dtype", 0L);
                    n.attrs().remove("output_dtype");
                    if (t != 0) {
                        castScale(n, supportedDType(t, "output_dtype"), c, out);
                    }
                }
                break;
            case "Range":
                if (ver >= 27) {
                    long st = intAttr(n, "stash_type", 1L);
                    if (st != 1) {
                        throw new UnsupportedModelException("stash_type=" + st + " is not supported; Hedge computes"
                                + " float16/bfloat16 ranges in float32 (stash_type=1)");
                    }
                    n.attrs().remove("stash_type");
                } else {
                    DType t = c.dtype(n.input(0));
                    if (t == DType.FLOAT16 || t == DType.BFLOAT16) {
                        throw new UnsupportedModelException("Range-11 on " + t + " accumulates in " + t
                                + "; Hedge computes it in float32 (the Range-27 default)");
                    }
                }
                break;
            default:
                break;
        }
        out.add(n);
        return out;
    }

    // ---- per-op rewrites ----

    private static void batchNorm(RawNode n, int ver) {
        if (ver < 9) {
            Attr spatial = n.attrs().remove("spatial");
            if (spatial != null && asInt(spatial, "spatial") != 1) {
                throw new UnsupportedModelException("spatial=" + asInt(spatial, "spatial")
                        + " (per-activation statistics) is not supported; only spatial=1");
            }
        }
        if (ver < 14) {
            // opset < 14: the outputs after Y exist only in training mode, which Hedge does not run
            for (int i = 1; i < n.outputs().size(); i++) {
                if (!n.outputs().get(i).isEmpty()) {
                    throw new UnsupportedModelException("output " + i + " ('" + n.outputs().get(i)
                            + "') is a training-mode statistic; Hedge runs BatchNormalization in inference mode");
                }
            }
            n.outputs().subList(1, n.outputs().size()).clear();
        }
    }

    /** Pad-2: pads and value attributes become inputs; value is typed like the data. */
    private static void pad2(RawNode n, Context c, List<RawNode> out) {
        requireAttr(n, "pads");
        intsAttrToInput(n, "pads", 1, c);
        Attr value = n.attrs().remove("value");
        float v = value == null ? 0f : asFloat(value, "value");
        String mode = strAttr(n, "mode", "constant");
        if (mode.equals("constant") && v != 0f) {
            n.setInput(2, typedScalar(n, "value", v, n.input(0), c, out));
        }
    }

    /** Clip-6: min/max attributes (defaults: the float range) become inputs typed like the data. */
    private static void clip6(RawNode n, Context c, List<RawNode> out) {
        Attr min = n.attrs().remove("min");
        Attr max = n.attrs().remove("max");
        float lo = min == null ? -Float.MAX_VALUE : asFloat(min, "min");
        float hi = max == null ? Float.MAX_VALUE : asFloat(max, "max");
        n.setInput(1, typedScalar(n, "min", lo, n.input(0), c, out));
        n.setInput(2, typedScalar(n, "max", hi, n.input(0), c, out));
    }

    /** Upsample-7/9 is Resize with asymmetric coordinates and floor rounding (scales are >= 1). */
    private static RawNode upsample(RawNode n, int ver, Context c) {
        String mode = strAttr(n, "mode", "nearest");
        n.attrs().remove("mode");
        if (!mode.equals("nearest") && !mode.equals("linear")) {
            throw new UnsupportedModelException("mode='" + mode + "' is not supported (nearest, linear)");
        }
        String scales;
        if (ver < 9) {
            Attr s = n.attrs().remove("scales");
            if (!(s instanceof Attr.Floats f)) {
                throw new ModelFormatException("attribute 'scales' (list of floats) is required");
            }
            float[] v = f.value();
            scales = c.addConstant(n.name() + "/scales", Tensor.of(v, v.length));
        } else {
            scales = n.input(1);
        }
        float[] known = constantFloats(scales, c);
        if (known != null) {
            for (float s : known) {
                if (!(s >= 1f)) {
                    throw new UnsupportedModelException("Upsample scale " + s + " is below 1");
                }
            }
        }
        Map<String, Attr> a = new LinkedHashMap<>(n.attrs());
        a.put("mode", new Attr.Str(mode));
        a.put("coordinate_transformation_mode", new Attr.Str("asymmetric"));
        if (mode.equals("nearest")) {
            a.put("nearest_mode", new Attr.Str("floor"));
        }
        return new RawNode(n.name(), "Resize", List.of(n.input(0), "", scales), n.outputs(), a);
    }

    private static RawNode resize(RawNode n, int ver, Context c) {
        if (ver < 11) {
            String mode = strAttr(n, "mode", "nearest");
            if (!mode.equals("nearest") && !mode.equals("linear")) {
                throw new UnsupportedModelException("mode='" + mode + "' is not supported (nearest, linear)");
            }
            Map<String, Attr> a = new LinkedHashMap<>();
            a.put("mode", new Attr.Str(mode));
            a.put("coordinate_transformation_mode", new Attr.Str("asymmetric"));
            if (mode.equals("nearest")) {
                a.put("nearest_mode", new Attr.Str(resize10Rounding(n.input(1), c)));
            }
            return new RawNode(n.name(), "Resize", List.of(n.input(0), "", n.input(1)), n.outputs(), a);
        }
        String ctm = strAttr(n, "coordinate_transformation_mode", "half_pixel");
        if (ctm.equals("tf_half_pixel_for_nn")) {
            throw new UnsupportedModelException("coordinate_transformation_mode='tf_half_pixel_for_nn' (removed in"
                    + " opset 13) is not supported");
        }
        // an empty scales tensor meant "use sizes" before opset 13 allowed omitting it
        for (int i = 1; i <= 2; i++) {
            Tensor t = n.input(i).isEmpty() ? null : c.constant(n.input(i));
            if (t != null && t.elementCount() == 0) {
                n.setInput(i, "");
            }
        }
        if (!ctm.equals("tf_crop_and_resize") && !n.input(1).isEmpty()) {
            n.setInput(1, ""); // roi only matters for tf_crop_and_resize
        }
        return n;
    }

    /**
     * Resize-10 nearest rounds the source coordinate down when enlarging an axis and up when shrinking it
     * (as ONNX Runtime implements opset 10); one Hedge Resize has one rounding, so the scales must be
     * constant and all on one side of 1.
     */
    private static String resize10Rounding(String scalesName, Context c) {
        float[] scales = constantFloats(scalesName, c);
        if (scales == null) {
            throw new UnsupportedModelException("Resize-10 nearest needs constant scales (its rounding depends on"
                    + " whether each axis grows or shrinks)");
        }
        boolean up = false;
        boolean down = false;
        for (float s : scales) {
            up |= s > 1f;
            down |= s < 1f;
        }
        if (up && down) {
            throw new UnsupportedModelException("Resize-10 nearest that enlarges some axes and shrinks others is not"
                    + " supported (scales " + java.util.Arrays.toString(scales) + ")");
        }
        return down ? "ceil" : "floor";
    }

    /**
     * GroupNormalization-18 takes scale and bias per group; the current form takes them per channel.
     * Repeat each group's value over its C / num_groups channels (C read from X at run time).
     */
    private static void groupNorm18(RawNode n, Context c, List<RawNode> out) {
        long groups = intAttr(n, "num_groups", null);
        String base = n.name();
        String x = n.input(0);
        String ch = c.freshValue(base + "/channels");
        out.add(new RawNode(base + "/channels", "Shape", List.of(x), List.of(ch),
                Map.of("start", new Attr.Int(1), "end", new Attr.Int(2))));
        String per = c.freshValue(base + "/per_group");
        out.add(new RawNode(base + "/per_group", "Div",
                List.of(ch, c.addConstant(base + "/num_groups", Tensor.of(new long[] {groups}, 1))), List.of(per),
                Map.of()));
        String expandShape = c.freshValue(base + "/expand_shape");
        out.add(new RawNode(base + "/expand_shape", "Concat",
                List.of(c.addConstant(base + "/one", Tensor.of(new long[] {1}, 1)), per), List.of(expandShape),
                Map.of("axis", new Attr.Int(0))));
        String column = c.addConstant(base + "/column", Tensor.of(new long[] {-1, 1}, 2));
        String flat = c.addConstant(base + "/flat", Tensor.of(new long[] {-1}, 1));
        for (int i = 1; i <= 2; i++) {
            String in = n.input(i);
            String what = i == 1 ? "scale" : "bias";
            String col = c.freshValue(base + "/" + what + "_column");
            String rep = c.freshValue(base + "/" + what + "_repeated");
            String perChannel = c.freshValue(base + "/" + what + "_per_channel");
            out.add(new RawNode(base + "/" + what + "_column", "Reshape", List.of(in, column), List.of(col),
                    Map.of()));
            out.add(new RawNode(base + "/" + what + "_repeat", "Expand", List.of(col, expandShape), List.of(rep),
                    Map.of()));
            out.add(new RawNode(base + "/" + what + "_flat", "Reshape", List.of(rep, flat), List.of(perChannel),
                    Map.of()));
            n.setInput(i, perChannel);
        }
    }

    /** Casts input 1 (the scale) of a Q/DQ node to {@code t} with a Cast node placed before it. */
    private static void castScale(RawNode n, DType t, Context c, List<RawNode> out) {
        DType known = c.dtype(n.input(1));
        if (known == t) {
            return;
        }
        String cast = c.freshValue(n.input(1) + "/" + t.name().toLowerCase());
        out.add(new RawNode(n.name() + "/scale_cast", "Cast", List.of(n.input(1)), List.of(cast),
                Map.of("to", new Attr.Int(t.onnxCode()))));
        n.setInput(1, cast);
    }

    /** Opset < 13 Q/DQ are per-tensor: a one-element 1-D scale or zero point is the scalar. */
    private static void scalarizeConstant(RawNode n, int i, Context c) {
        if (n.input(i).isEmpty()) {
            return;
        }
        Tensor t = c.constant(n.input(i));
        if (t != null && t.rank() == 1 && t.elementCount() == 1) {
            n.setInput(i, c.addConstant(n.input(i) + "/scalar", t.copy().reshape()));
        }
    }

    // ---- helpers ----

    /**
     * A scalar constant holding {@code v} in the element type of {@code like}: directly when that type
     * is known now, else through a CastLike node.
     */
    private static String typedScalar(RawNode n, String what, float v, String like, Context c,
            List<RawNode> out) {
        DType t = c.dtype(like);
        if (t != null && t.isFloat()) {
            Tensor s = Tensor.allocate(t);
            s.setDouble(0, v);
            return c.addConstant(n.name() + "/" + what, s);
        }
        String f = c.addConstant(n.name() + "/" + what, Tensor.scalar(v).reshape());
        String typed = c.freshValue(n.name() + "/" + what + "_typed");
        out.add(castLike(n.name() + "/" + what + "_cast", f, like, typed));
        return typed;
    }

    private static RawNode castLike(String name, String in, String like, String outName) {
        return new RawNode(name, "CastLike", List.of(in, like), List.of(outName), Map.of());
    }

    private static float[] constantFloats(String name, Context c) {
        if (name.isEmpty()) {
            return null;
        }
        Tensor t = c.constant(name);
        return t == null ? null : t.toFloatArray();
    }

    private static DType supportedDType(long onnxCode, String attr) {
        DType t = DType.fromOnnx((int) onnxCode);
        if (t == null) {
            throw new UnsupportedModelException(attr + "=" + TensorProtos.onnxTypeName((int) onnxCode)
                    + " is a data type Hedge does not support");
        }
        return t;
    }

    private static void requireAttr(RawNode n, String name) {
        if (!n.attrs().containsKey(name)) {
            throw new ModelFormatException("required attribute '" + name + "' is missing");
        }
    }

    private static void intsAttrToInput(RawNode n, String attr, int index, Context c) {
        Attr a = n.attrs().remove(attr);
        if (a == null) {
            return;
        }
        if (!(a instanceof Attr.Ints ints)) {
            throw new ModelFormatException("attribute '" + attr + "' is " + a.kind() + ", expected INTS");
        }
        long[] v = ints.value();
        n.setInput(index, c.addConstant(n.name() + "/" + attr, Tensor.of(v, v.length)));
    }

    private static long intAttr(RawNode n, String name, Long def) {
        Attr a = n.attrs().get(name);
        if (a == null) {
            if (def == null) {
                throw new ModelFormatException("required attribute '" + name + "' is missing");
            }
            return def;
        }
        return asInt(a, name);
    }

    private static long asInt(Attr a, String name) {
        if (a instanceof Attr.Int i) {
            return i.value();
        }
        throw new ModelFormatException("attribute '" + name + "' is " + a.kind() + ", expected INT");
    }

    private static float asFloat(Attr a, String name) {
        if (a instanceof Attr.Float f) {
            return f.value();
        }
        throw new ModelFormatException("attribute '" + name + "' is " + a.kind() + ", expected FLOAT");
    }

    private static String strAttr(RawNode n, String name, String def) {
        Attr a = n.attrs().get(name);
        if (a == null) {
            return def;
        }
        if (a instanceof Attr.Str s) {
            return s.value();
        }
        throw new ModelFormatException("attribute '" + name + "' is " + a.kind() + ", expected STRING");
    }
}
