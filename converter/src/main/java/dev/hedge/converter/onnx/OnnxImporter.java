package dev.hedge.converter.onnx;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.OperatorSetIdProto;
import ai.onnx.proto.OnnxMl.SparseTensorProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnx.proto.OnnxMl.TensorShapeProto;
import ai.onnx.proto.OnnxMl.TypeProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import dev.hedge.ir.Attr;
import dev.hedge.ir.Dim;
import dev.hedge.ir.Graph;
import dev.hedge.ir.ModelDef;
import dev.hedge.ir.Node;
import dev.hedge.converter.passes.TypeRules;
import dev.hedge.ir.ValueInfo;
import dev.hedge.ops.AttrDef;
import dev.hedge.ops.Op;
import dev.hedge.runtime.DType;
import dev.hedge.runtime.ModelFormatException;
import dev.hedge.runtime.Tensor;
import dev.hedge.runtime.UnsupportedModelException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Imports ONNX models (default domain, opsets {@value #MIN_OPSET} to {@value #MAX_OPSET}) into Hedge's IR,
 * plus the com.microsoft contrib ops Hedge's vocabulary spells alike (QLinearAdd, QLinearMul,
 * QLinearAveragePool, QLinearGlobalAveragePool, as ONNX Runtime's quantizer writes them) when the model imports
 * that domain.
 *
 * <p>Each node is checked against the definition of its op at the model's opset ({@link OnnxOpVersions}):
 * an attribute that version does not define is refused. {@link OpsetNormalizer} then rewrites it into the
 * single form of Hedge's op vocabulary, which it must match exactly (attribute kinds, arity). Constant
 * nodes become initializers. Everything Hedge cannot run (op, domain, attribute, attribute value, data
 * type) is collected over the whole model, subgraphs included, and reported in one
 * {@link UnsupportedModelException} naming each node; malformed models fail with a
 * {@link ModelFormatException} naming the node or tensor.
 */
public final class OnnxImporter {

    public static final int MIN_OPSET = 1;
    public static final int MAX_OPSET = 27;

    private final Path baseDir;
    private final int opset;
    private final List<String> problems = new ArrayList<>();
    private final Set<String> nodeNames = new HashSet<>();
    private final Set<String> valueNames;
    private final Set<String> localFunctions = new HashSet<>();
    /** Whether the model imports the com.microsoft domain. */
    private boolean microsoft;

    /**
     * What a graph sees: its own initializers, known element types and declared shapes, then those of
     * enclosing graphs.
     */
    private static final class Scope {
        final Scope parent;
        final Graph.Builder builder;
        final Map<String, DType> types = new HashMap<>();
        final Map<String, List<Dim>> shapes = new HashMap<>();

        Scope(Scope parent, Graph.Builder builder) {
            this.parent = parent;
            this.builder = builder;
        }

        DType type(String v) {
            for (Scope s = this; s != null; s = s.parent) {
                DType t = s.types.get(v);
                if (t != null) {
                    return t;
                }
            }
            return null;
        }

        Tensor constant(String v) {
            for (Scope s = this; s != null; s = s.parent) {
                Tensor t = s.builder.initializers().get(v);
                if (t != null) {
                    return t;
                }
            }
            return null;
        }

        List<Dim> shape(String v) {
            Tensor t = constant(v);
            if (t != null) {
                List<Dim> l = new ArrayList<>();
                for (int d : t.shape()) {
                    l.add(Dim.of(d));
                }
                return l;
            }
            for (Scope s = this; s != null; s = s.parent) {
                List<Dim> d = s.shapes.get(v);
                if (d != null) {
                    return d;
                }
            }
            return null;
        }

        /** Records a declared type and shape; a graph input's declaration wins over what was known before. */
        void declare(ValueInfo vi, boolean input) {
            if (vi.dtype() != null) {
                if (input) {
                    types.put(vi.name(), vi.dtype());
                } else {
                    types.putIfAbsent(vi.name(), vi.dtype());
                }
            }
            if (vi.dims() != null) {
                shapes.putIfAbsent(vi.name(), vi.dims());
            }
        }
    }

    private OnnxImporter(Path baseDir, int opset, Set<String> valueNames) {
        this.baseDir = baseDir;
        this.opset = opset;
        this.valueNames = valueNames;
    }

    /** Imports an .onnx file; external data is resolved next to it. */
    public static ModelDef importFile(Path path) throws IOException {
        byte[] bytes = Files.readAllBytes(path);
        ModelProto m;
        try {
            m = ModelProto.parseFrom(bytes);
        } catch (com.google.protobuf.InvalidProtocolBufferException e) {
            throw new ModelFormatException(path + " is not an ONNX model: " + e.getMessage(), e);
        }
        Path dir = path.toAbsolutePath().getParent();
        ModelDef def = importModel(m, dir);
        return def.withMetadata(ModelDef.META_SOURCE_NAME, path.getFileName().toString())
                .withMetadata(ModelDef.META_SOURCE_DIGEST, sha256(bytes));
    }

    /** Imports a parsed model; {@code baseDir} resolves external data (null: none allowed). */
    public static ModelDef importModel(ModelProto m, Path baseDir) throws IOException {
        if (!m.hasGraph()) {
            throw new ModelFormatException("ONNX model has no graph");
        }
        Integer opset = null;
        for (OperatorSetIdProto o : m.getOpsetImportList()) {
            if (o.getDomain().isEmpty() || o.getDomain().equals("ai.onnx")) {
                opset = (int) o.getVersion();
            }
        }
        if (opset == null && m.getOpsetImportCount() == 0) {
            opset = 1; // IR < 3 models have no opset_import and mean opset 1
        }
        if (opset != null && (opset < MIN_OPSET || opset > MAX_OPSET)) {
            throw new UnsupportedModelException("ONNX default-domain opset " + opset + " is not supported; Hedge"
                    + " imports opsets " + MIN_OPSET + " to " + MAX_OPSET);
        }
        Set<String> names = new HashSet<>();
        collectNames(m.getGraph(), names);
        OnnxImporter imp = new OnnxImporter(baseDir, opset == null ? -1 : opset, names);
        for (OperatorSetIdProto o : m.getOpsetImportList()) {
            imp.microsoft |= o.getDomain().equals(MICROSOFT);
        }
        for (var f : m.getFunctionsList()) {
            imp.localFunctions.add(f.getDomain() + "::" + f.getName());
        }
        Graph g = imp.graph(m.getGraph(), null, true);
        if (!imp.problems.isEmpty()) {
            // the first problem goes on the first line: tools that show one line still say what is wrong
            throw new UnsupportedModelException("Hedge cannot run this model (" + imp.problems.size()
                    + " problem(s)): " + String.join("\n  ", imp.problems)
                    + "\nsupported ops (default domain): " + String.join(", ", Op.names()));
        }
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put(ModelDef.META_PRODUCER, "hedge");
        meta.put("source.producer", (m.getProducerName() + " " + m.getProducerVersion()).trim());
        meta.put("source.ir_version", Long.toString(m.getIrVersion()));
        meta.put("source.opset", Integer.toString(imp.opset));
        if (!m.getDomain().isEmpty()) {
            meta.put("source.domain", m.getDomain());
        }
        if (m.getModelVersion() != 0) {
            meta.put("source.model_version", Long.toString(m.getModelVersion()));
        }
        if (!m.getDocString().isEmpty()) {
            meta.put("source.doc", m.getDocString());
        }
        for (var e : m.getMetadataPropsList()) {
            meta.put("source.meta." + e.getKey(), e.getValue());
        }
        return new ModelDef(g, meta);
    }

    private static void collectNames(GraphProto g, Set<String> names) {
        for (ValueInfoProto v : g.getInputList()) {
            names.add(v.getName());
        }
        for (TensorProto t : g.getInitializerList()) {
            names.add(t.getName());
        }
        for (NodeProto n : g.getNodeList()) {
            names.addAll(n.getOutputList());
            for (AttributeProto a : n.getAttributeList()) {
                if (a.hasG()) {
                    collectNames(a.getG(), names);
                }
                for (GraphProto sub : a.getGraphsList()) {
                    collectNames(sub, names);
                }
            }
        }
    }

    private Graph graph(GraphProto gp, Scope outer, boolean main) throws IOException {
        Graph.Builder b = Graph.builder(gp.getName());
        Scope scope = new Scope(outer, b);
        Set<String> initNames = new HashSet<>();
        for (TensorProto t : gp.getInitializerList()) {
            initNames.add(t.getName());
            Tensor v = tensor(() -> TensorProtos.toTensor(t, baseDir), "initializer '" + t.getName() + "'");
            if (v != null) {
                b.initializer(t.getName(), v);
                scope.types.put(t.getName(), v.dtype());
            }
        }
        for (SparseTensorProto sp : gp.getSparseInitializerList()) {
            String name = sp.getValues().getName();
            initNames.add(name);
            Tensor v = tensor(() -> TensorProtos.toDense(sp, baseDir), "sparse initializer '" + name + "'");
            if (v != null) {
                b.initializer(name, v);
                scope.types.put(name, v.dtype());
            }
        }
        for (ValueInfoProto v : gp.getInputList()) {
            if (main && initNames.contains(v.getName())) {
                // An initializer listed as an input (always so before IR 4) is a weight: Hedge keeps it constant.
                continue;
            }
            ValueInfo vi = valueInfo(v, main ? "graph input" : "subgraph '" + gp.getName() + "' input", true);
            if (vi != null) {
                b.addInput(vi);
                scope.declare(vi, true);
            }
        }
        for (ValueInfoProto v : gp.getValueInfoList()) {
            if (v.hasType() && v.getType().hasTensorType()) {
                ValueInfo vi = valueInfo(v, "value", false);
                b.valueInfo(vi);
                scope.declare(vi, false);
            }
        }
        for (ValueInfoProto v : gp.getOutputList()) {
            // known before the nodes: a declared output rank can guide a rewrite (legacy broadcasting)
            if (v.hasType() && v.getType().hasTensorType() && v.getType().getTensorType().hasShape()) {
                scope.shapes.putIfAbsent(v.getName(), dims(v.getType().getTensorType().getShape()));
            }
        }
        for (NodeProto np : gp.getNodeList()) {
            node(np, scope);
        }
        for (ValueInfoProto v : gp.getOutputList()) {
            ValueInfo vi = valueInfo(v, main ? "graph output" : "subgraph '" + gp.getName() + "' output", true);
            if (vi != null) {
                b.addOutput(vi);
            }
        }
        return b.build();
    }

    private interface TensorSource {
        Tensor get() throws IOException;
    }

    /** Reads a tensor; an unsupported one becomes a problem (null), a malformed one throws. */
    private Tensor tensor(TensorSource src, String what) throws IOException {
        try {
            return src.get();
        } catch (UnsupportedModelException e) {
            problems.add(what + ": " + e.getMessage());
            return null;
        }
    }

    private String uniqueNodeName(String base) {
        String name = base;
        for (int k = 1; !nodeNames.add(name); k++) {
            name = base + "_" + k;
        }
        return name;
    }

    private void node(NodeProto np, Scope scope) throws IOException {
        String name = uniqueNodeName(np.getName().isEmpty() ? np.getOpType() + "_" + nodeNames.size() : np.getName());
        String domain = np.getDomain();
        boolean defaultDomain = domain.isEmpty() || domain.equals("ai.onnx");
        OnnxOpVersions.Version version = defaultDomain && opset > 0 ? OnnxOpVersions.at(np.getOpType(), opset) : null;
        String where = "node '" + name + "' (op " + (version != null ? version.toString() : np.getOpType())
                + ", domain '" + domain + "', opset " + (!defaultDomain ? "of '" + domain + "'" : opset > 0 ? opset
                : "(none)") + ")";
        if (localFunctions.contains(domain + "::" + np.getOpType())) {
            problems.add(where + ": " + np.getOpType() + " is a function defined in the model, which Hedge does not"
                    + " inline; export without local functions");
            return;
        }
        if (domain.equals(MICROSOFT)) {
            microsoftNode(np, name, where, scope);
            return;
        }
        if (!defaultDomain) {
            problems.add(where + ": domain '" + domain + "' is not supported");
            return;
        }
        if (opset < 0) {
            problems.add(where + ": the model does not import the default ONNX domain");
            return;
        }
        if (version == null) {
            OnnxOpVersions.Version first = OnnxOpVersions.first(np.getOpType());
            problems.add(where + ": " + (first != null
                    ? "op " + np.getOpType() + " does not exist at opset " + opset + " (it arrived in opset "
                            + first.since() + ")"
                    : "op type '" + np.getOpType() + "' is not supported"));
            return;
        }
        if (version.deprecated()) {
            problems.add(where + ": " + np.getOpType() + " is deprecated since opset " + version.since()
                    + (np.getOpType().equals("Upsample") ? "; use Resize" : ""));
            return;
        }
        Map<String, Attr> attrs = new LinkedHashMap<>();
        List<String> bad = new ArrayList<>();
        for (AttributeProto a : np.getAttributeList()) {
            if (!version.attrs().contains(a.getName())) {
                bad.add("attribute '" + a.getName() + "' is not defined by " + version);
                continue;
            }
            if (!a.getRefAttrName().isEmpty()) {
                bad.add("attribute '" + a.getName() + "' refers to a function attribute");
                continue;
            }
            try {
                attrs.put(a.getName(), attr(a, scope, where));
            } catch (UnsupportedModelException e) {
                bad.add(e.getMessage());
            }
        }
        if (!bad.isEmpty()) {
            problems.add(where + ": " + String.join("; ", bad));
            return;
        }
        if (np.getOpType().equals("Constant")) {
            constant(np, attrs, scope, where);
            return;
        }
        OpsetNormalizer.RawNode raw = new OpsetNormalizer.RawNode(name, np.getOpType(), np.getInputList(),
                np.getOutputList(), attrs);
        List<OpsetNormalizer.RawNode> rewritten;
        try {
            rewritten = OpsetNormalizer.normalize(raw, version, normalizerContext(scope));
        } catch (UnsupportedModelException e) {
            problems.add(where + ": " + e.getMessage());
            return;
        } catch (ModelFormatException e) {
            throw new ModelFormatException(where + ": " + e.getMessage(), e);
        }
        for (OpsetNormalizer.RawNode r : rewritten) {
            if (!r.name().equals(name)) {
                r = new OpsetNormalizer.RawNode(uniqueNodeName(r.name()), r.opType(), r.inputs(), r.outputs(),
                        r.attrs());
            }
            String w = r.name().equals(name) ? where : "node '" + r.name() + "' (added for " + where + ")";
            add(check(r, w), scope);
        }
    }

    private static void add(Node n, Scope scope) {
        scope.builder.addNode(n);
        DType[] types = TypeRules.of(n, scope::type);
        for (int i = 0; i < n.outputs().size(); i++) {
            if (!n.output(i).isEmpty() && types[i] != null) {
                scope.types.putIfAbsent(n.output(i), types[i]);
            }
        }
    }

    private static final String MICROSOFT = "com.microsoft";

    /** Attributes ONNX Runtime defines for the com.microsoft ops Hedge imports (channels_last only as 0). */
    private static final Map<Op, Set<String>> MICROSOFT_ATTRS = Map.of(
            Op.QLinearAdd, Set.of(),
            Op.QLinearMul, Set.of(),
            Op.QLinearAveragePool, Set.of("auto_pad", "ceil_mode", "channels_last", "count_include_pad",
                    "kernel_shape", "pads", "strides"),
            Op.QLinearGlobalAveragePool, Set.of("channels_last"));

    /** A com.microsoft node: one of the contrib ops whose inputs and attributes Hedge's op of that name takes. */
    private void microsoftNode(NodeProto np, String name, String where, Scope scope) throws IOException {
        Op op = Op.byName(np.getOpType());
        if (op == null || !MICROSOFT_ATTRS.containsKey(op)) {
            List<String> known = new ArrayList<>();
            MICROSOFT_ATTRS.keySet().forEach(o -> known.add(o.name()));
            java.util.Collections.sort(known);
            problems.add(where + ": op " + np.getOpType() + " of domain '" + MICROSOFT + "' is not supported; from"
                    + " that domain Hedge imports " + String.join(", ", known));
            return;
        }
        if (!microsoft) {
            problems.add(where + ": the model does not import the '" + MICROSOFT + "' domain");
            return;
        }
        Map<String, Attr> attrs = new LinkedHashMap<>();
        List<String> bad = new ArrayList<>();
        for (AttributeProto a : np.getAttributeList()) {
            if (!MICROSOFT_ATTRS.get(op).contains(a.getName()) || !a.getRefAttrName().isEmpty()) {
                bad.add("attribute '" + a.getName() + "' is not supported by " + MICROSOFT + "." + op);
                continue;
            }
            Attr v;
            try {
                v = attr(a, scope, where);
            } catch (UnsupportedModelException e) {
                bad.add(e.getMessage());
                continue;
            }
            if (a.getName().equals("channels_last")) {
                if (!(v instanceof Attr.Int i) || i.value() != 0) {
                    bad.add("channels_last = " + a.getI() + ": only NCHW (channels_last = 0) is supported");
                }
                continue;
            }
            attrs.put(a.getName(), v);
        }
        if (!bad.isEmpty()) {
            problems.add(where + ": " + String.join("; ", bad));
            return;
        }
        add(check(new OpsetNormalizer.RawNode(name, op.name(), np.getInputList(), np.getOutputList(), attrs), where),
                scope);
    }

    /** Checks a normalized node against the op vocabulary: op, attribute kinds, required attributes, arity. */
    private static Node check(OpsetNormalizer.RawNode raw, String where) {
        Op op = Op.byName(raw.opType());
        if (op == null) {
            throw new IllegalStateException(where + ": normalized to unknown op " + raw.opType());
        }
        for (Map.Entry<String, Attr> e : raw.attrs().entrySet()) {
            AttrDef d = op.attr(e.getKey());
            if (d == null) {
                throw new IllegalStateException(where + ": attribute '" + e.getKey() + "' is defined by ONNX but"
                        + " missing from Hedge's " + op + " table");
            }
            if (d.kind() != e.getValue().kind()) {
                throw new ModelFormatException(where + ": attribute '" + e.getKey() + "' is "
                        + e.getValue().kind() + ", expected " + d.kind());
            }
        }
        for (AttrDef d : op.attrs().values()) {
            if (d.required() && !raw.attrs().containsKey(d.name())) {
                throw new ModelFormatException(where + ": required attribute '" + d.name() + "' is missing");
            }
        }
        int nIn = raw.inputs().size();
        while (nIn > 0 && raw.inputs().get(nIn - 1).isEmpty()) {
            nIn--;
        }
        if (nIn < op.minInputs() || nIn > op.maxInputs()) {
            throw new ModelFormatException(where + " has " + nIn + " inputs; " + op + " takes " + op.minInputs()
                    + (op.maxInputs() == Op.VARIADIC ? " or more" : " to " + op.maxInputs()));
        }
        int nOut = raw.outputs().size();
        while (nOut > op.minOutputs() && raw.outputs().get(nOut - 1).isEmpty()) {
            nOut--;
        }
        if (nOut < op.minOutputs() || nOut > op.maxOutputs()) {
            throw new ModelFormatException(where + " has " + nOut + " outputs; " + op + " gives " + op.minOutputs()
                    + (op.maxOutputs() == Op.VARIADIC ? " or more" : " to " + op.maxOutputs()));
        }
        return new Node(raw.name(), op, raw.inputs().subList(0, nIn), raw.outputs().subList(0, nOut), raw.attrs());
    }

    private OpsetNormalizer.Context normalizerContext(Scope scope) {
        return new OpsetNormalizer.Context() {
            @Override
            public DType dtype(String value) {
                return scope.type(value);
            }

            @Override
            public Tensor constant(String value) {
                return scope.constant(value);
            }

            @Override
            public List<Dim> shape(String value) {
                return scope.shape(value);
            }

            @Override
            public String addConstant(String hint, Tensor t) {
                String name = freshValue(hint);
                scope.builder.initializer(name, t);
                scope.types.put(name, t.dtype());
                return name;
            }

            @Override
            public String freshValue(String hint) {
                String name = hint;
                for (int k = 1; !valueNames.add(name); k++) {
                    name = hint + "_" + k;
                }
                return name;
            }
        };
    }

    private void constant(NodeProto np, Map<String, Attr> attrs, Scope scope, String where) throws IOException {
        if (np.getOutputCount() != 1 || attrs.size() != 1) {
            throw new ModelFormatException(where + " must have one output and exactly one value attribute, has "
                    + np.getOutputCount() + " outputs and attributes " + attrs.keySet());
        }
        String out = np.getOutput(0);
        Attr a = attrs.values().iterator().next();
        Tensor t;
        if (a instanceof Attr.TensorValue tv) {
            t = tv.value();
        } else if (a instanceof Attr.Float f && attrs.containsKey("value_float")) {
            t = Tensor.scalar(f.value()).reshape();
        } else if (a instanceof Attr.Floats f && attrs.containsKey("value_floats")) {
            float[] v = f.value();
            t = Tensor.of(v, v.length);
        } else if (a instanceof Attr.Int i && attrs.containsKey("value_int")) {
            t = Tensor.scalar(i.value()).reshape();
        } else if (a instanceof Attr.Ints i && attrs.containsKey("value_ints")) {
            long[] v = i.value();
            t = Tensor.of(v, v.length);
        } else if (attrs.containsKey("value_string") || attrs.containsKey("value_strings")) {
            problems.add(where + ": string constants are not supported (Hedge has no string type)");
            return;
        } else {
            throw new ModelFormatException(where + ": attribute " + attrs.keySet() + " has the wrong type "
                    + a.kind());
        }
        scope.builder.initializer(out, t);
        scope.types.put(out, t.dtype());
    }

    private Attr attr(AttributeProto a, Scope scope, String where) throws IOException {
        switch (a.getType()) {
            case FLOAT: return new Attr.Float(a.getF());
            case INT: return new Attr.Int(a.getI());
            case STRING: return new Attr.Str(a.getS().toStringUtf8());
            case FLOATS: {
                float[] v = new float[a.getFloatsCount()];
                for (int i = 0; i < v.length; i++) {
                    v[i] = a.getFloats(i);
                }
                return new Attr.Floats(v);
            }
            case INTS: {
                long[] v = new long[a.getIntsCount()];
                for (int i = 0; i < v.length; i++) {
                    v[i] = a.getInts(i);
                }
                return new Attr.Ints(v);
            }
            case STRINGS: {
                List<String> v = new ArrayList<>();
                for (var s : a.getStringsList()) {
                    v.add(s.toStringUtf8());
                }
                return new Attr.Strs(v);
            }
            case TENSOR:
                try {
                    return new Attr.TensorValue(TensorProtos.toTensor(a.getT(), baseDir));
                } catch (UnsupportedModelException e) {
                    throw new UnsupportedModelException("attribute '" + a.getName() + "': " + e.getMessage());
                }
            case SPARSE_TENSOR:
                try {
                    return new Attr.TensorValue(TensorProtos.toDense(a.getSparseTensor(), baseDir));
                } catch (UnsupportedModelException e) {
                    throw new UnsupportedModelException("attribute '" + a.getName() + "': " + e.getMessage());
                }
            case GRAPH:
                return new Attr.GraphValue(graph(a.getG(), scope, false));
            case UNDEFINED:
                throw new ModelFormatException(where + ": attribute '" + a.getName() + "' has no type");
            default:
                throw new UnsupportedModelException("attribute '" + a.getName() + "' has type " + a.getType()
                        + ", which Hedge does not support");
        }
    }

    /**
     * A graph input/output's declared type. Non-tensors and unsupported element types become problems
     * (null); a missing type is allowed where ONNX allows it ({@code typeOptional}).
     */
    private ValueInfo valueInfo(ValueInfoProto v, String what, boolean typeOptional) {
        boolean untyped = !v.hasType() || v.getType().getValueCase() == TypeProto.ValueCase.VALUE_NOT_SET;
        if (untyped && typeOptional) {
            return new ValueInfo(v.getName(), null, null);
        }
        if (!v.hasType() || !v.getType().hasTensorType()) {
            problems.add(what + " '" + v.getName() + "' is not a tensor ("
                    + (v.hasType() ? v.getType().getValueCase() : "no type") + "); Hedge supports tensors only");
            return null;
        }
        TypeProto.Tensor tt = v.getType().getTensorType();
        DType dt = DType.fromOnnx(tt.getElemType());
        if (dt == null && tt.getElemType() != 0) {
            if (what.equals("value")) {
                return new ValueInfo(v.getName(), null, tt.hasShape() ? dims(tt.getShape()) : null);
            }
            problems.add(what + " '" + v.getName() + "' has data type " + TensorProtos.onnxTypeName(tt.getElemType())
                    + ", which Hedge does not support");
            return null;
        }
        return new ValueInfo(v.getName(), dt, tt.hasShape() ? dims(tt.getShape()) : null);
    }

    private static List<Dim> dims(TensorShapeProto s) {
        List<Dim> l = new ArrayList<>();
        for (TensorShapeProto.Dimension d : s.getDimList()) {
            if (d.hasDimValue() && d.getDimValue() >= 0) {
                l.add(Dim.of(d.getDimValue()));
            } else {
                l.add(Dim.dynamic(d.hasDimParam() ? d.getDimParam() : null));
            }
        }
        return l;
    }

    static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
