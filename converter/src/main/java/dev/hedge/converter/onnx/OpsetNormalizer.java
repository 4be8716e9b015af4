package dev.hedge.converter.onnx;

import dev.hedge.ir.Attr;
import dev.hedge.ir.Dim;
import dev.hedge.runtime.DType;
import dev.hedge.runtime.ModelFormatException;
import dev.hedge.runtime.Tensor;
import dev.hedge.runtime.UnsupportedModelException;
import java.util.ArrayList;
import java.util.Arrays;
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

        /** A value's shape when known now (a constant's, or as declared in the model), else null. */
        List<Dim> shape(String value);

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
        // opset < 6: a hint for Caffe2's in-place buffer reuse, with no effect on the result
        n.attrs().remove("consumed_inputs");
        switch (n.opType()) {
            case "Add": case "Sub": case "Mul": case "Div": case "Pow": case "And": case "Or": case "Xor":
            case "Equal": case "Greater": case "Less":
                if (ver < 7) {
                    legacyBroadcast(n, c, out);
                }
                break;
            case "Sum": case "Max": case "Min": case "Mean":
                if (ver < 8) {
                    requireEqualShapes(n, c); // numpy broadcasting came with opset 8
                }
                break;
            case "Gemm":
                if (ver < 7) {
                    // Gemm-1/6 broadcast C (if asked) by the legacy rule, which numpy broadcasting to (M, N) covers
                    n.attrs().remove("broadcast");
                    if (n.input(2).isEmpty()) {
                        throw new ModelFormatException("input C is required by Gemm-" + ver);
                    }
                }
                break;
            case "PRelu":
                if (ver < 7) {
                    prelu6(n, c, out);
                }
                break;
            case "Selu":
                if (ver < 6) {
                    // Selu-1 defaults to rounded constants (1.6732, 1.0507); Selu-6 to the precise ones
                    n.attrs().putIfAbsent("alpha", new Attr.Float(1.6732f));
                    n.attrs().putIfAbsent("gamma", new Attr.Float(1.0507f));
                }
                break;
            case "Concat":
                if (ver < 4) {
                    n.attrs().putIfAbsent("axis", new Attr.Int(1));
                }
                break;
            case "Reshape":
                if (ver < 5) {
                    requireAttr(n, "shape");
                    intsAttrToInput(n, "shape", 1, c);
                }
                break;
            case "Tile":
                if (ver < 6) {
                    tile1(n, c, out);
                }
                break;
            case "RNN": case "GRU": case "LSTM":
                if (ver < 7) {
                    throw new UnsupportedModelException(n.opType() + "-" + ver + " is not supported: its text"
                            + " multiplies the hidden state by R untransposed (Ht-1*R) where opset 7 uses R^T, and"
                            + " implementations of the time disagreed (onnx/onnx#1019), so its meaning is ambiguous;"
                            + " export at opset 7 or later");
                }
                break;
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
                if (ver < 2) {
                    split1(n, c);
                }
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
                if (ver < 2) {
                    Attr paddings = n.attrs().remove("paddings");
                    if (paddings == null) {
                        throw new ModelFormatException("required attribute 'paddings' is missing");
                    }
                    n.attrs().put("pads", paddings); // Pad-2 renamed it, same meaning
                }
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
                if (ver < 7 && intAttr(n, "is_test", 0L) == 0) {
                    throw new UnsupportedModelException("is_test=0 (training mode: Y is normalized with the batch's own"
                            + " mean and variance) is not supported; Hedge runs BatchNormalization in inference mode"
                            + " (is_test=1)");
                }
                n.attrs().remove("is_test");
                batchNorm(n, ver);
                break;
            case "Dropout":
                if (ver < 7) {
                    float ratio = n.attrs().containsKey("ratio") ? asFloat(n.attrs().get("ratio"), "ratio") : 0.5f;
                    if (intAttr(n, "is_test", 0L) == 0 && ratio != 0f) {
                        throw new UnsupportedModelException("is_test=0 (training mode: random dropout with ratio "
                                + ratio + ") is not supported; Hedge runs inference only (is_test=1)");
                    }
                    n.attrs().remove("is_test");
                }
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
                if (ver < 7) {
                    upsample1(n);
                }
                out.add(upsample(n, ver < 7 ? 7 : ver, c));
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
                if (ver < 6) {
                    cast1(n);
                }
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

    /**
     * Binary ops before opset 7 broadcast only when {@code broadcast=1}, and then only B onto A: B's dims
     * line up with A's from {@code axis}, or with A's last dims when axis is absent, each equal or (as the
     * reference data of the time has it) 1; a one-element B goes anywhere. Numpy broadcasting aligns trailing
     * dims, so a B that stops short of A's end gets trailing 1s. Shapes known now are checked.
     */
    private static void legacyBroadcast(RawNode n, Context c, List<RawNode> out) {
        long broadcast = intAttr(n, "broadcast", 0L);
        Attr axisAttr = n.attrs().remove("axis");
        n.attrs().remove("broadcast");
        String a = n.input(0);
        String b = n.input(1);
        if (broadcast == 0) {
            requireEqualShapes(n, c);
            return;
        }
        long[] sa = fixedShape(a, c);
        long[] sb = fixedShape(b, c);
        Tensor bc = c.constant(b);
        if (bc != null && bc.elementCount() == 1) {
            n.setInput(1, c.addConstant(b + "/scalar", bc.copy().reshape()));
            return;
        }
        int ra = rank(a, c);
        int rb = rank(b, c);
        if (sb != null && Arrays.stream(sb).allMatch(d -> d == 1) && ra >= rb) {
            return; // one element: numpy broadcasts it from any position
        }
        if (axisAttr == null) {
            if (ra >= 0 && rb > ra) {
                throw new ModelFormatException("B has rank " + rb + ", more than A's " + ra);
            }
            checkLegacyFit(sa, sb, sa == null || sb == null ? 0 : sa.length - sb.length);
            return;
        }
        long axis = asInt(axisAttr, "axis");
        if (ra >= 0 && rb >= 0) {
            long ax = axis < 0 ? axis + ra : axis;
            if (ax < 0 || ax + rb > ra) {
                throw new ModelFormatException("B (rank " + rb + ") does not fit into A (rank " + ra + ") from axis "
                        + axis);
            }
            checkLegacyFit(sa, sb, (int) ax);
            n.setInput(1, withTrailingOnes(n, b, rb, (int) (ra - ax - rb), c, out));
            return;
        }
        n.setInput(1, alignAtRunTime(n, a, b, rb, axis, c, out));
    }

    /** Inputs that may not broadcast must have equal shapes (checked among the shapes known now). */
    private static void requireEqualShapes(RawNode n, Context c) {
        long[] first = null;
        for (String in : n.inputs()) {
            long[] s = fixedShape(in, c);
            if (s == null) {
                continue;
            }
            if (first != null && !Arrays.equals(first, s)) {
                throw new ModelFormatException("inputs have shapes " + Arrays.toString(first) + " and "
                        + Arrays.toString(s) + "; this version does not broadcast, they must be equal");
            }
            first = first == null ? s : first;
        }
    }

    /** Each of B's dims must equal the A dim it lines up with, or be 1 (checked when both shapes are known). */
    private static void checkLegacyFit(long[] sa, long[] sb, int start) {
        if (sa == null || sb == null) {
            return;
        }
        for (int i = 0; i < sb.length; i++) {
            int j = start + i;
            if (j < 0 || j >= sa.length || (sb[i] != sa[j] && sb[i] != 1)) {
                throw new ModelFormatException("B's shape " + Arrays.toString(sb) + " does not broadcast onto A's "
                        + Arrays.toString(sa) + " from axis " + start);
            }
        }
    }

    /** {@code b} (of rank {@code rb}) with {@code k} trailing 1-dims: a reshaped constant, or an Unsqueeze. */
    private static String withTrailingOnes(RawNode n, String b, int rb, int k, Context c, List<RawNode> out) {
        if (k == 0) {
            return b;
        }
        Tensor t = c.constant(b);
        if (t != null) {
            int[] shape = Arrays.copyOf(t.shape(), rb + k);
            Arrays.fill(shape, rb, rb + k, 1);
            return c.addConstant(b + "/aligned", t.copy().reshape(shape));
        }
        long[] axes = new long[k];
        for (int i = 0; i < k; i++) {
            axes[i] = rb + i;
        }
        String aligned = c.freshValue(b + "/aligned");
        out.add(new RawNode(n.name() + "/align", "Unsqueeze",
                List.of(b, c.addConstant(n.name() + "/align_axes", Tensor.of(axes, k))), List.of(aligned), Map.of()));
        return aligned;
    }

    /**
     * When a rank is only known at run time: Unsqueeze {@code b} at axes rank(b) .. rank(a) - axis - 1, i.e.
     * Range(rank(b), Size(Shape(a, start=axis))) (the planner folds it when shapes are static).
     */
    private static String alignAtRunTime(RawNode n, String a, String b, int rb, long axis, Context c,
            List<RawNode> out) {
        String base = n.name() + "/align";
        String tail = c.freshValue(base + "_a_tail");
        out.add(new RawNode(base + "_a_tail", "Shape", List.of(a), List.of(tail), Map.of("start", new Attr.Int(axis))));
        String tailRank = c.freshValue(base + "_a_tail_rank");
        out.add(new RawNode(base + "_a_tail_rank", "Size", List.of(tail), List.of(tailRank), Map.of()));
        String bRank;
        if (rb >= 0) {
            bRank = c.addConstant(base + "_b_rank", Tensor.scalar((long) rb).reshape());
        } else {
            String bShape = c.freshValue(base + "_b_shape");
            out.add(new RawNode(base + "_b_shape", "Shape", List.of(b), List.of(bShape), Map.of()));
            bRank = c.freshValue(base + "_b_rank");
            out.add(new RawNode(base + "_b_rank", "Size", List.of(bShape), List.of(bRank), Map.of()));
        }
        String axes = c.freshValue(base + "_axes");
        out.add(new RawNode(base + "_axes", "Range",
                List.of(bRank, tailRank, c.addConstant(base + "_step", Tensor.scalar(1L).reshape())), List.of(axes),
                Map.of()));
        String aligned = c.freshValue(b + "/aligned");
        out.add(new RawNode(base, "Unsqueeze", List.of(b, axes), List.of(aligned), Map.of()));
        return aligned;
    }

    /**
     * PRelu before opset 7: a one-element slope is shared, otherwise the slope's elements run along the
     * channel axis (1) whatever its shape. Opset 7 broadcasts the slope numpy-style, so it becomes [C, 1, ...].
     */
    private static void prelu6(RawNode n, Context c, List<RawNode> out) {
        String x = n.input(0);
        String slope = n.input(1);
        Tensor t = c.constant(slope);
        if (t != null && t.elementCount() == 1) {
            n.setInput(1, c.addConstant(slope + "/scalar", t.copy().reshape()));
            return;
        }
        if (t != null) {
            if (t.rank() != 1) {
                slope = c.addConstant(slope + "/flat", t.copy().reshape(t.elementCount()));
            }
        } else if (rank(slope, c) != 1) {
            String flat = c.freshValue(slope + "/flat");
            out.add(new RawNode(n.name() + "/slope_flat", "Reshape",
                    List.of(slope, c.addConstant(n.name() + "/flat_shape", Tensor.of(new long[] {-1}, 1))),
                    List.of(flat), Map.of()));
            slope = flat;
        }
        int rx = rank(x, c);
        if (rx >= 2) {
            n.setInput(1, withTrailingOnes(n, slope, 1, rx - 2, c, out));
        } else if (rx < 0) {
            n.setInput(1, alignAtRunTime(n, x, slope, 1, 1, c, out));
        } else {
            n.setInput(1, slope);
        }
    }

    /** Tile-1 (input, tiles, axis) repeats along one axis: its constants become Tile's repeats vector. */
    private static void tile1(RawNode n, Context c, List<RawNode> out) {
        long tiles = constantInteger(n, 1, "tiles", c);
        long axis = constantInteger(n, 2, "axis", c);
        n.inputs().subList(2, n.inputs().size()).clear();
        String x = n.input(0);
        int r = rank(x, c);
        if (r >= 0) {
            long ax = axis < 0 ? axis + r : axis;
            if (ax < 0 || ax >= r) {
                throw new ModelFormatException("axis " + axis + " is out of range for an input of rank " + r);
            }
            long[] reps = new long[r];
            Arrays.fill(reps, 1);
            reps[(int) ax] = tiles;
            n.setInput(1, c.addConstant(n.name() + "/repeats", Tensor.of(reps, r)));
            return;
        }
        // rank known at run time only: repeats[i] = i == axis ? tiles : 1
        String base = n.name() + "/repeats";
        String shape = c.freshValue(base + "_shape");
        out.add(new RawNode(base + "_shape", "Shape", List.of(x), List.of(shape), Map.of()));
        String rank = c.freshValue(base + "_rank");
        out.add(new RawNode(base + "_rank", "Size", List.of(shape), List.of(rank), Map.of()));
        String zero = c.addConstant(base + "_zero", Tensor.scalar(0L).reshape());
        String one = c.addConstant(base + "_one", Tensor.scalar(1L).reshape());
        String start = zero;
        String limit = rank;
        if (axis < 0) {
            start = c.freshValue(base + "_neg_rank");
            out.add(new RawNode(base + "_neg_rank", "Neg", List.of(rank), List.of(start), Map.of()));
            limit = zero;
        }
        String positions = c.freshValue(base + "_positions");
        out.add(new RawNode(base + "_positions", "Range", List.of(start, limit, one), List.of(positions), Map.of()));
        String isAxis = c.freshValue(base + "_is_axis");
        out.add(new RawNode(base + "_is_axis", "Equal",
                List.of(positions, c.addConstant(base + "_axis", Tensor.scalar(axis).reshape())), List.of(isAxis),
                Map.of()));
        String reps = c.freshValue(base);
        out.add(new RawNode(base, "Where",
                List.of(isAxis, c.addConstant(base + "_tiles", Tensor.scalar(tiles).reshape()), one), List.of(reps),
                Map.of()));
        n.setInput(1, reps);
    }

    /** An integral value from a one-element constant input (Tile-1 types tiles and axis like the data). */
    private static long constantInteger(RawNode n, int i, String what, Context c) {
        if (n.input(i).isEmpty()) {
            throw new ModelFormatException("input '" + what + "' is missing");
        }
        Tensor t = c.constant(n.input(i));
        if (t == null) {
            throw new UnsupportedModelException("'" + what + "' ('" + n.input(i) + "') is computed; Hedge needs it"
                    + " constant");
        }
        if (t.elementCount() != 1) {
            throw new ModelFormatException("'" + what + "' has " + t.elementCount() + " elements, expected one");
        }
        double v = t.getDouble(0);
        if (v != Math.rint(v)) {
            throw new ModelFormatException("'" + what + "' is " + v + ", not an integer");
        }
        return (long) v;
    }

    /**
     * Split-1: no default axis (Split-2 made it 0), and the lengths may come as a second input, typed like
     * the data; that input must be constant and becomes the int64 split input.
     */
    private static void split1(RawNode n, Context c) {
        if (!n.attrs().containsKey("axis")) {
            throw new UnsupportedModelException("Split-1 defines no default for 'axis' (Split-2 made it 0); give"
                    + " the axis explicitly");
        }
        if (n.input(1).isEmpty()) {
            return;
        }
        if (n.attrs().containsKey("split")) {
            throw new ModelFormatException("split lengths are given both as attribute and as input");
        }
        Tensor t = c.constant(n.input(1));
        if (t == null) {
            throw new UnsupportedModelException("split lengths ('" + n.input(1) + "') are computed; Hedge needs them"
                    + " constant");
        }
        long[] v = new long[t.elementCount()];
        for (int i = 0; i < v.length; i++) {
            double d = t.getDouble(i);
            if (d != Math.rint(d) || d < 0) {
                throw new ModelFormatException("split length " + d + " is not a non-negative integer");
            }
            v[i] = (long) d;
        }
        n.setInput(1, c.addConstant(n.name() + "/split", Tensor.of(v, v.length)));
    }

    /** Upsample-1 (4-D, height/width scales) in the Upsample-7 form; bilinear is refused. */
    private static void upsample1(RawNode n) {
        String mode = strAttr(n, "mode", "nearest");
        if (mode.equals("bilinear")) {
            throw new UnsupportedModelException("mode='bilinear' is not supported: Upsample-1 does not say how output"
                    + " coordinates map to input ones (Upsample-7 'linear' is asymmetric; implementations of the"
                    + " experimental op differed)");
        }
        float h = requiredFloat(n, "height_scale");
        float w = requiredFloat(n, "width_scale");
        n.attrs().remove("height_scale");
        n.attrs().remove("width_scale");
        n.attrs().put("scales", new Attr.Floats(new float[] {1f, 1f, h, w}));
    }

    /** Cast-1 names the target type ("FLOAT"); later versions give its code. */
    private static void cast1(RawNode n) {
        Attr to = n.attrs().get("to");
        if (to == null) {
            throw new ModelFormatException("required attribute 'to' is missing");
        }
        if (!(to instanceof Attr.Str s)) {
            throw new ModelFormatException("attribute 'to' is " + to.kind() + ", expected STRING in Cast-1");
        }
        int code = TensorProtos.onnxTypeCode(s.value());
        if (code <= 0) {
            throw new ModelFormatException("to='" + s.value() + "' is not an ONNX data type name");
        }
        n.attrs().put("to", new Attr.Int(code));
    }

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

    /** A value's rank when known now, else -1. */
    private static int rank(String v, Context c) {
        List<Dim> s = v.isEmpty() ? null : c.shape(v);
        return s == null ? -1 : s.size();
    }

    /** A value's shape when all its dims are known now, else null. */
    private static long[] fixedShape(String v, Context c) {
        List<Dim> s = v.isEmpty() ? null : c.shape(v);
        if (s == null) {
            return null;
        }
        long[] d = new long[s.size()];
        for (int i = 0; i < d.length; i++) {
            if (!s.get(i).isFixed()) {
                return null;
            }
            d[i] = s.get(i).value();
        }
        return d;
    }

    private static float requiredFloat(RawNode n, String name) {
        Attr a = n.attrs().get(name);
        if (a == null) {
            throw new ModelFormatException("required attribute '" + name + "' is missing");
        }
        return asFloat(a, name);
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
