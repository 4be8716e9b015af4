package dev.hedge.converter.onnx;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.OperatorSetIdProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnx.proto.OnnxMl.TensorShapeProto;
import ai.onnx.proto.OnnxMl.TypeProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import dev.hedge.ir.Attr;
import dev.hedge.ir.Dim;
import dev.hedge.ir.Graph;
import dev.hedge.ir.ModelDef;
import dev.hedge.ir.Node;
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
import java.util.HashSet;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Imports ONNX models (default domain, opsets {@value #MIN_OPSET} to {@value #MAX_OPSET}) into Hedge's IR.
 * Constant nodes become initializers; attributes whose ONNX form changed across opsets are normalised
 * by {@link OpsetNormalizer}; everything else must match the op vocabulary exactly, so an unsupported
 * op, attribute, dtype or opset is an error naming the node, never a silent approximation.
 */
public final class OnnxImporter {

    public static final int MIN_OPSET = 7;
    public static final int MAX_OPSET = 27;

    private final Path baseDir;
    private final int opset;
    private final List<String> unsupported = new ArrayList<>();
    private int anonymous;

    private OnnxImporter(Path baseDir, int opset) {
        this.baseDir = baseDir;
        this.opset = opset;
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
        int opset = -1;
        for (OperatorSetIdProto o : m.getOpsetImportList()) {
            if (o.getDomain().isEmpty() || o.getDomain().equals("ai.onnx")) {
                opset = (int) o.getVersion();
            }
        }
        if (opset < 0) {
            opset = m.getOpsetImportCount() == 0 ? 1 : -1;
        }
        if (opset < MIN_OPSET || opset > MAX_OPSET) {
            throw new UnsupportedModelException("ONNX default-domain opset " + (opset < 0 ? "(none)" : opset)
                    + " is not supported; Hedge imports opsets " + MIN_OPSET + " to " + MAX_OPSET);
        }
        OnnxImporter imp = new OnnxImporter(baseDir, opset);
        Graph g = imp.graph(m.getGraph(), true);
        if (!imp.unsupported.isEmpty()) {
            throw new UnsupportedModelException("the model uses " + imp.unsupported.size()
                    + " node(s) Hedge cannot run:\n  " + String.join("\n  ", imp.unsupported)
                    + "\nsupported ops (default domain): " + String.join(", ", Op.names()));
        }
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put(ModelDef.META_PRODUCER, "hedge");
        meta.put("source.producer", (m.getProducerName() + " " + m.getProducerVersion()).trim());
        meta.put("source.opset", Integer.toString(opset));
        for (var e : m.getMetadataPropsList()) {
            meta.put("source.meta." + e.getKey(), e.getValue());
        }
        return new ModelDef(g, meta);
    }

    private Graph graph(GraphProto gp, boolean main) throws IOException {
        Graph.Builder b = Graph.builder(gp.getName());
        Set<String> initNames = new HashSet<>();
        for (TensorProto t : gp.getInitializerList()) {
            initNames.add(t.getName());
            b.initializer(t.getName(), TensorProtos.toTensor(t, baseDir));
        }
        if (gp.getSparseInitializerCount() > 0) {
            throw new UnsupportedModelException("graph '" + gp.getName() + "' has sparse initializers ("
                    + gp.getSparseInitializer(0).getValues().getName() + "), which Hedge does not import");
        }
        for (ValueInfoProto v : gp.getInputList()) {
            if (main && initNames.contains(v.getName())) {
                continue; // IR < 4 lists initializers as inputs; they stay constants
            }
            b.addInput(valueInfo(v, "graph input"));
        }
        for (ValueInfoProto v : gp.getOutputList()) {
            b.addOutput(valueInfo(v, "graph output"));
        }
        for (ValueInfoProto v : gp.getValueInfoList()) {
            ValueInfo vi = valueInfoOrNull(v);
            if (vi != null) {
                b.valueInfo(vi);
            }
        }
        for (NodeProto np : gp.getNodeList()) {
            node(np, b);
        }
        return b.build();
    }

    private void node(NodeProto np, Graph.Builder b) throws IOException {
        String name = np.getName().isEmpty() ? np.getOpType() + "_" + (anonymous++) : np.getName();
        String where = "node '" + name + "' (op " + np.getOpType() + ", domain '" + np.getDomain() + "', opset "
                + opset + ")";
        if (!np.getDomain().isEmpty() && !np.getDomain().equals("ai.onnx")) {
            unsupported.add(where + ": domain '" + np.getDomain() + "' is not supported");
            return;
        }
        Map<String, Attr> attrs = new LinkedHashMap<>();
        for (AttributeProto a : np.getAttributeList()) {
            if (!a.getRefAttrName().isEmpty()) {
                unsupported.add(where + ": attribute '" + a.getName() + "' refers to a function attribute");
                return;
            }
            attrs.put(a.getName(), attr(a, where));
        }
        if (np.getOpType().equals("Constant")) {
            constant(name, np, attrs, b, where);
            return;
        }
        OpsetNormalizer.RawNode raw = new OpsetNormalizer.RawNode(name, np.getOpType(),
                new ArrayList<>(np.getInputList()), new ArrayList<>(np.getOutputList()), attrs);
        try {
            raw = OpsetNormalizer.normalize(raw, opset, b);
        } catch (UnsupportedModelException e) {
            unsupported.add(where + ": " + e.getMessage());
            return;
        }
        Op op = Op.byName(raw.opType());
        if (op == null) {
            unsupported.add(where + ": op type '" + np.getOpType() + "' is not supported");
            return;
        }
        for (Map.Entry<String, Attr> e : raw.attrs().entrySet()) {
            AttrDef d = op.attr(e.getKey());
            if (d == null) {
                unsupported.add(where + ": attribute '" + e.getKey() + "' is not supported");
                return;
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
        if (nOut < op.minOutputs() || nOut > op.maxOutputs()) {
            throw new ModelFormatException(where + " has " + nOut + " outputs; " + op + " gives " + op.minOutputs()
                    + (op.maxOutputs() == Op.VARIADIC ? " or more" : " to " + op.maxOutputs()));
        }
        b.addNode(new Node(name, op, raw.inputs().subList(0, nIn), raw.outputs(), raw.attrs()));
    }

    private void constant(String name, NodeProto np, Map<String, Attr> attrs, Graph.Builder b, String where) {
        if (np.getOutputCount() != 1) {
            throw new ModelFormatException(where + " must have one output");
        }
        String out = np.getOutput(0);
        Tensor t;
        if (attrs.get("value") instanceof Attr.TensorValue tv) {
            t = tv.value();
        } else if (attrs.get("value_float") instanceof Attr.Float f) {
            t = Tensor.scalar(f.value()).reshape();
        } else if (attrs.get("value_floats") instanceof Attr.Floats f) {
            float[] v = f.value();
            t = Tensor.of(v, v.length);
        } else if (attrs.get("value_int") instanceof Attr.Int i) {
            t = Tensor.scalar(i.value()).reshape();
        } else if (attrs.get("value_ints") instanceof Attr.Ints i) {
            long[] v = i.value();
            t = Tensor.of(v, v.length);
        } else {
            unsupported.add(where + ": only numeric Constant values are supported (attributes " + attrs.keySet()
                    + ")");
            return;
        }
        b.initializer(out, t);
    }

    private Attr attr(AttributeProto a, String where) throws IOException {
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
            case TENSOR: return new Attr.TensorValue(TensorProtos.toTensor(a.getT(), baseDir));
            case GRAPH: return new Attr.GraphValue(graph(a.getG(), false));
            default:
                throw new UnsupportedModelException(where + ": attribute '" + a.getName() + "' has type "
                        + a.getType() + ", which Hedge does not support");
        }
    }

    private static ValueInfo valueInfo(ValueInfoProto v, String what) {
        if (!v.hasType() || !v.getType().hasTensorType()) {
            throw new UnsupportedModelException(what + " '" + v.getName() + "' is not a tensor ("
                    + (v.hasType() ? v.getType().getValueCase() : "no type") + "); Hedge supports tensors only");
        }
        TypeProto.Tensor tt = v.getType().getTensorType();
        DType dt = DType.fromOnnx(tt.getElemType());
        if (dt == null) {
            throw new UnsupportedModelException(what + " '" + v.getName() + "' has data type "
                    + TensorProtos.onnxTypeName(tt.getElemType()) + ", which Hedge does not support");
        }
        return new ValueInfo(v.getName(), dt, tt.hasShape() ? dims(tt.getShape()) : null);
    }

    private static ValueInfo valueInfoOrNull(ValueInfoProto v) {
        if (!v.hasType() || !v.getType().hasTensorType()) {
            return null;
        }
        TypeProto.Tensor tt = v.getType().getTensorType();
        DType dt = DType.fromOnnx(tt.getElemType());
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
