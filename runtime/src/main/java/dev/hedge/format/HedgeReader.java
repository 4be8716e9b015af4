package dev.hedge.format;

import dev.hedge.ir.Attr;
import dev.hedge.ir.Dim;
import dev.hedge.ir.Graph;
import dev.hedge.ir.ModelDef;
import dev.hedge.ir.Node;
import dev.hedge.ir.Sparse;
import dev.hedge.ir.ValueInfo;
import dev.hedge.ops.AttrKind;
import dev.hedge.ops.Op;
import dev.hedge.runtime.DType;
import dev.hedge.runtime.ModelFormatException;
import dev.hedge.runtime.QuantParams;
import dev.hedge.runtime.Tensor;
import dev.hedge.schema.fb.Attribute;
import dev.hedge.schema.fb.Buffer;
import dev.hedge.schema.fb.Codebook;
import dev.hedge.schema.fb.KeyValue;
import dev.hedge.schema.fb.Model;
import dev.hedge.schema.fb.SparseEncoding;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads .hedge files: memory-maps them read-only, verifies them ({@link HedgeVerifier}) and decodes them
 * into a {@link ModelDef} whose constants are zero-copy read-only views of the mapping.
 *
 * <p>Each graph value has one tensor entry, so one declared type: graph inputs and outputs get theirs from
 * their entries, constants are the entries with data (other than attribute values), and the remaining
 * entries with a known dtype or rank become {@link Graph#valueInfos()}.
 */
public final class HedgeReader {

    private HedgeReader() {
    }

    /** A model and the size of the file it came from. */
    public record Loaded(ModelDef model, long fileBytes) {
    }

    public static Loaded read(Path path) throws IOException {
        ByteBuffer file = map(path);
        try {
            return new Loaded(decode(file), file.limit());
        } catch (ModelFormatException e) {
            throw new ModelFormatException(path + ": " + e.getMessage(), e);
        }
    }

    /**
     * Verifies and decodes a whole file held in {@code file} (from its position to its limit); constants are
     * read-only views of {@code file}.
     */
    public static ModelDef decode(ByteBuffer file) {
        ByteBuffer bb = file.slice().asReadOnlyBuffer().order(ByteOrder.LITTLE_ENDIAN);
        HedgeVerifier.verify(bb);
        return new Decoder(bb).model();
    }

    static ByteBuffer map(Path path) throws IOException {
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
            long size = ch.size();
            if (size > Integer.MAX_VALUE) {
                throw new ModelFormatException(path + ": file is " + size
                        + " bytes; .hedge files are limited to 2^31-1 bytes");
            }
            return ch.map(FileChannel.MapMode.READ_ONLY, 0, size).order(ByteOrder.LITTLE_ENDIAN);
        }
    }

    /** Decodes a verified file; relies on the verifier for every index and size. */
    private static final class Decoder {
        private final ByteBuffer bb;
        private final Model model;
        private final long[] bufOffset;
        private final long[] bufLength;

        Decoder(ByteBuffer bb) {
            this.bb = bb;
            this.model = Model.getRootAsModel(bb);
            int n = model.buffersLength();
            bufOffset = new long[n];
            bufLength = new long[n];
            Buffer b = new Buffer();
            for (int i = 0; i < n; i++) {
                model.buffers(b, i);
                bufOffset[i] = b.offset();
                bufLength[i] = b.length();
            }
        }

        ModelDef model() {
            Map<String, String> meta = new LinkedHashMap<>();
            KeyValue kv = new KeyValue();
            for (int i = 0; i < model.metadataLength(); i++) {
                model.metadata(kv, i);
                meta.put(kv.key(), Metadata.value(kv));
            }
            return new ModelDef(graph(0), meta);
        }

        private Graph graph(int gi) {
            dev.hedge.schema.fb.Graph g = model.graphs(gi);
            int nt = g.tensorsLength();
            dev.hedge.schema.fb.Tensor[] entries = new dev.hedge.schema.fb.Tensor[nt];
            String[] names = new String[nt];
            for (int i = 0; i < nt; i++) {
                entries[i] = g.tensors(i);
                names[i] = entries[i].name() == null ? "" : entries[i].name();
            }
            boolean[] payload = new boolean[nt];
            boolean[] io = new boolean[nt];
            dev.hedge.schema.fb.Node n = new dev.hedge.schema.fb.Node();
            Attribute a = new Attribute();
            for (int k = 0; k < g.nodesLength(); k++) {
                g.nodes(n, k);
                for (int j = 0; j < n.attrsLength(); j++) {
                    if (n.attrs(a, j).type() == AttrKind.TENSOR.code()) {
                        payload[a.tensor()] = true;
                    }
                }
            }
            Graph.Builder b = Graph.builder(g.name() == null ? "" : g.name());
            for (int j = 0; j < g.inputsLength(); j++) {
                int idx = g.inputs(j);
                io[idx] = true;
                b.addInput(valueInfo(names[idx], entries[idx]));
            }
            for (int j = 0; j < g.outputsLength(); j++) {
                int idx = g.outputs(j);
                io[idx] = true;
                b.addOutput(valueInfo(names[idx], entries[idx]));
            }
            for (int i = 0; i < nt; i++) {
                if (payload[i]) {
                    continue;
                }
                dev.hedge.schema.fb.Tensor t = entries[i];
                if (t.buffer() != 0) {
                    b.initializer(names[i], constant(t));
                } else if (!io[i] && (t.dtype() != 0 || t.hasShape())) {
                    b.valueInfo(valueInfo(names[i], t));
                }
            }
            for (int k = 0; k < g.nodesLength(); k++) {
                g.nodes(n, k);
                b.addNode(node(n, names, entries));
            }
            return b.build();
        }

        private Node node(dev.hedge.schema.fb.Node n, String[] names, dev.hedge.schema.fb.Tensor[] entries) {
            List<String> ins = new ArrayList<>(n.inputsLength());
            for (int j = 0; j < n.inputsLength(); j++) {
                int idx = n.inputs(j);
                ins.add(idx < 0 ? "" : names[idx]);
            }
            List<String> outs = new ArrayList<>(n.outputsLength());
            for (int j = 0; j < n.outputsLength(); j++) {
                int idx = n.outputs(j);
                outs.add(idx < 0 ? "" : names[idx]);
            }
            Map<String, Attr> attrs = new LinkedHashMap<>();
            Attribute a = new Attribute();
            for (int j = 0; j < n.attrsLength(); j++) {
                n.attrs(a, j);
                attrs.put(a.name(), attr(a, entries));
            }
            return new Node(n.name() == null ? "" : n.name(), Op.fromCode(n.op()), ins, outs, attrs);
        }

        private Attr attr(Attribute a, dev.hedge.schema.fb.Tensor[] entries) {
            switch (AttrKind.fromCode(a.type())) {
                case INT: return new Attr.Int(a.i());
                case FLOAT: return new Attr.Float(a.f());
                case STRING: return new Attr.Str(a.s());
                case INTS: {
                    long[] v = new long[a.intsLength()];
                    for (int i = 0; i < v.length; i++) {
                        v[i] = a.ints(i);
                    }
                    return new Attr.Ints(v);
                }
                case FLOATS: {
                    float[] v = new float[a.floatsLength()];
                    for (int i = 0; i < v.length; i++) {
                        v[i] = a.floats(i);
                    }
                    return new Attr.Floats(v);
                }
                case STRINGS: {
                    List<String> v = new ArrayList<>(a.stringsLength());
                    for (int i = 0; i < a.stringsLength(); i++) {
                        v.add(a.strings(i));
                    }
                    return new Attr.Strs(v);
                }
                case GRAPH: return new Attr.GraphValue(graph(a.graph()));
                case TENSOR: return new Attr.TensorValue(constant(entries[a.tensor()]));
                default: throw new IllegalStateException("unverified attribute type " + a.type());
            }
        }

        private static ValueInfo valueInfo(String name, dev.hedge.schema.fb.Tensor t) {
            DType dt = t.dtype() == 0 ? null : DType.fromCode(t.dtype());
            if (!t.hasShape()) {
                return new ValueInfo(name, dt, null);
            }
            List<Dim> dims = new ArrayList<>(t.shapeLength());
            boolean params = t.dimParamsLength() > 0;
            for (int j = 0; j < t.shapeLength(); j++) {
                String p = params ? t.dimParams(j) : null;
                dims.add(new Dim(t.shape(j), p == null || p.isEmpty() ? null : p));
            }
            return new ValueInfo(name, dt, dims);
        }

        private Tensor constant(dev.hedge.schema.fb.Tensor t) {
            DType dt = DType.fromCode(t.dtype());
            int[] shape = new int[t.shapeLength()];
            for (int j = 0; j < shape.length; j++) {
                shape[j] = (int) t.shape(j);
            }
            ByteBuffer data = slice(t.buffer());
            dev.hedge.schema.fb.QuantParams fq = t.quant();
            QuantParams q = null;
            if (fq != null) {
                float[] scales = new float[fq.scaleLength()];
                for (int i = 0; i < scales.length; i++) {
                    scales[i] = fq.scale(i);
                }
                long[] zps = null;
                if (fq.zeroPointLength() > 0) {
                    zps = new long[fq.zeroPointLength()];
                    for (int i = 0; i < zps.length; i++) {
                        zps[i] = fq.zeroPoint(i);
                    }
                }
                q = new QuantParams(scales, zps, fq.axis(), fq.blockSize());
            }
            SparseEncoding fs = t.sparse();
            Codebook fc = t.codebook();
            if (fs == null && fc == null) {
                return Tensor.wrap(dt, shape, data, q);
            }
            Sparse sparse = null;
            if (fs != null) {
                sparse = new Sparse(Sparse.Format.fromCode(fs.format()),
                        fs.blockRows(), fs.blockCols(), DType.fromCode(fs.indexType()), slice(fs.rowPtrBuffer()),
                        slice(fs.colIdxBuffer()), (int) fs.nnzBlocks());
            }
            dev.hedge.ir.Codebook codebook = null;
            if (fc != null) {
                float[] palette = new float[fc.paletteLength()];
                for (int i = 0; i < palette.length; i++) {
                    palette[i] = fc.palette(i);
                }
                codebook = new dev.hedge.ir.Codebook(palette, fc.indexBits(), fc.axis());
            }
            return Tensor.encoded(dt, shape, data, q, sparse, codebook);
        }

        /** A read-only little-endian view of a buffer's bytes (no copy). */
        private ByteBuffer slice(long buf) {
            int off = (int) bufOffset[(int) buf];
            int len = (int) bufLength[(int) buf];
            return bb.duplicate().position(off).limit(off + len).slice().order(ByteOrder.LITTLE_ENDIAN);
        }
    }
}
