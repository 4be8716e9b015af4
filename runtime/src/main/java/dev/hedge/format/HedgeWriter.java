package dev.hedge.format;

import com.google.flatbuffers.FlatBufferBuilder;
import dev.hedge.ir.Attr;
import dev.hedge.ir.Dim;
import dev.hedge.ir.Graph;
import dev.hedge.ir.ModelDef;
import dev.hedge.ir.Node;
import dev.hedge.ir.Sparse;
import dev.hedge.ir.ValueInfo;
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
import dev.hedge.schema.fb.Version;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes a {@link ModelDef} as a .hedge file: one FlatBuffer, then the data section with every constant
 * payload at a 64-byte aligned absolute offset (identical payloads are stored once). The file is written
 * atomically (temp file in the target directory, forced to disk, verified, then renamed), so a reader never
 * sees a partial file and the writer never leaves one that Hedge would refuse to load.
 *
 * <p>Each graph value gets one tensor entry holding its declared type. Where the IR gives a value several
 * types, the entry keeps one: a constant's own dtype and shape, else the graph input's, else the graph
 * output's, else the value info's.
 */
public final class HedgeWriter {

    private HedgeWriter() {
    }

    /** Writes the model; returns the file size in bytes. */
    public static long write(ModelDef model, Path path) throws IOException {
        Plan plan = new Plan(model);
        // Buffer offsets depend on the FlatBuffer's size: build once to learn it, then with the final offsets.
        byte[] first = plan.build(new long[plan.payloads.size()]);
        long[] offsets = new long[plan.payloads.size()];
        long cursor = HedgeFormat.align(first.length);
        long fileSize = first.length;
        for (int i = 1; i < offsets.length; i++) {
            offsets[i] = HedgeFormat.align(cursor);
            cursor = offsets[i] + plan.payloads.get(i).remaining();
            fileSize = cursor;
        }
        byte[] flat = plan.build(offsets);
        if (flat.length != first.length) {
            throw new IllegalStateException("FlatBuffer size changed between passes: " + first.length + " -> "
                    + flat.length);
        }
        if (fileSize > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("model needs " + fileSize + " bytes; .hedge files are limited to"
                    + " 2^31-1 bytes");
        }

        Path target = path.toAbsolutePath();
        Path tmp = Files.createTempFile(target.getParent(), "." + target.getFileName() + ".", ".tmp");
        try {
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
                writeFully(ch, ByteBuffer.wrap(flat));
                long pos = flat.length;
                for (int i = 1; i < offsets.length; i++) {
                    pos = pad(ch, pos, offsets[i]);
                    ByteBuffer p = plan.payloads.get(i).duplicate();
                    pos += p.remaining();
                    writeFully(ch, p);
                }
                pad(ch, pos, fileSize);
                ch.force(true);
            }
            try {
                HedgeVerifier.verify(HedgeReader.map(tmp));
            } catch (ModelFormatException e) {
                throw new ModelFormatException("cannot write " + target + ", the model is not valid: "
                        + e.getMessage(), e);
            }
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException | RuntimeException | Error e) {
            try {
                Files.deleteIfExists(tmp);
            } catch (IOException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
        return fileSize;
    }

    private static void writeFully(FileChannel ch, ByteBuffer b) throws IOException {
        while (b.hasRemaining()) {
            ch.write(b);
        }
    }

    private static long pad(FileChannel ch, long pos, long to) throws IOException {
        if (to > pos) {
            writeFully(ch, ByteBuffer.allocate((int) (to - pos)));
        }
        return Math.max(pos, to);
    }

    /** A value's tensor entry. */
    private static final class Entry {
        final String name;
        DType dtype;
        List<Dim> dims;
        Tensor constant;
        boolean fromValueInfo;

        Entry(String name) {
            this.name = name;
        }

        void type(ValueInfo v) {
            dtype = v.dtype();
            dims = v.dims();
        }
    }

    private record AttrRef(String name, Attr value, int index) {
    }

    private record NodePlan(Node node, int[] inputs, int[] outputs, List<AttrRef> attrs) {
    }

    private static final class GraphPlan {
        final Graph graph;
        final List<Entry> entries = new ArrayList<>();
        final Map<String, Integer> byName = new HashMap<>();
        final List<NodePlan> nodes = new ArrayList<>();
        int[] inputs;
        int[] outputs;
        int[] captures;

        GraphPlan(Graph graph) {
            this.graph = graph;
        }

        Entry entry(String name) {
            Integer i = byName.get(name);
            if (i != null) {
                return entries.get(i);
            }
            Entry e = new Entry(name);
            byName.put(name, entries.size());
            entries.add(e);
            return e;
        }

        int index(String name) {
            Integer i = byName.get(name);
            if (i == null) {
                entry(name);
                i = entries.size() - 1;
            }
            return i;
        }
    }

    /** Everything the FlatBuffer refers to: graphs in index order (main graph first) and unique payloads. */
    private static final class Plan {
        final ModelDef model;
        final List<GraphPlan> graphs = new ArrayList<>();
        final List<ByteBuffer> payloads = new ArrayList<>();
        final Map<ByteBuffer, Integer> payloadIndex = new HashMap<>();
        final Map<Tensor, int[]> tensorBuffers = new HashMap<>();

        Plan(ModelDef model) {
            this.model = model;
            payloads.add(ByteBuffer.allocate(0)); // buffer 0: "no data"
            plan(model.graph(), true);
        }

        private int plan(Graph g, boolean main) {
            GraphPlan p = new GraphPlan(g);
            int gi = graphs.size();
            graphs.add(p);
            for (ValueInfo v : g.inputs()) {
                p.entry(v.name()).type(v);
            }
            for (Map.Entry<String, Tensor> e : g.initializers().entrySet()) {
                Entry en = p.entry(e.getKey());
                constant(en, e.getValue());
            }
            for (ValueInfo v : g.valueInfos().values()) {
                if (!p.byName.containsKey(v.name())) {
                    Entry en = p.entry(v.name());
                    en.type(v);
                    en.fromValueInfo = true;
                }
            }
            for (ValueInfo v : g.outputs()) {
                Entry en = p.entry(v.name());
                if (en.constant == null && (en.fromValueInfo || (en.dtype == null && en.dims == null))) {
                    en.type(v);
                    en.fromValueInfo = false;
                }
            }
            for (Node n : g.nodes()) {
                int[] ins = new int[n.inputs().size()];
                for (int j = 0; j < ins.length; j++) {
                    ins[j] = n.input(j).isEmpty() ? -1 : p.index(n.input(j));
                }
                int[] outs = new int[n.outputs().size()];
                for (int j = 0; j < outs.length; j++) {
                    outs[j] = n.output(j).isEmpty() ? -1 : p.index(n.output(j));
                }
                p.nodes.add(new NodePlan(n, ins, outs, new ArrayList<>()));
            }
            p.inputs = g.inputs().stream().mapToInt(v -> p.index(v.name())).toArray();
            p.outputs = g.outputs().stream().mapToInt(v -> p.index(v.name())).toArray();
            p.captures = main ? new int[0] : g.freeVariables().stream().mapToInt(p::index).toArray();
            // attribute values come last, so graph values keep their order
            for (NodePlan np : p.nodes) {
                for (Map.Entry<String, Attr> a : np.node().attrs().entrySet()) {
                    int index = -1;
                    if (a.getValue() instanceof Attr.GraphValue gv) {
                        index = plan(gv.value(), false);
                    } else if (a.getValue() instanceof Attr.TensorValue tv) {
                        Entry en = new Entry(np.node().name() + "/" + a.getKey());
                        constant(en, tv.value());
                        index = p.entries.size();
                        p.entries.add(en);
                    }
                    np.attrs().add(new AttrRef(a.getKey(), a.getValue(), index));
                }
            }
            return gi;
        }

        private void constant(Entry en, Tensor t) {
            en.constant = t;
            en.dtype = t.dtype();
            en.dims = null;
            en.fromValueInfo = false;
            ByteBuffer data = t.data().duplicate().clear();
            data.limit(t.byteSize());
            int[] bufs = {payload(data), 0, 0};
            if (t.sparse() != null) {
                bufs[1] = payload(t.sparse().rowPtr().duplicate().position(0));
                bufs[2] = payload(t.sparse().colIdx().duplicate().position(0));
            }
            tensorBuffers.put(t, bufs);
        }

        private int payload(ByteBuffer b) {
            ByteBuffer key = b.slice();
            Integer i = payloadIndex.get(key);
            if (i == null) {
                i = payloads.size();
                payloads.add(key);
                payloadIndex.put(key, i);
            }
            return i;
        }

        byte[] build(long[] offsets) {
            FlatBufferBuilder b = new FlatBufferBuilder(1 << 12);
            int[] graphOffsets = new int[graphs.size()];
            for (int i = 0; i < graphOffsets.length; i++) {
                graphOffsets[i] = graph(b, graphs.get(i));
            }
            int graphsVec = Model.createGraphsVector(b, graphOffsets);
            Model.startBuffersVector(b, payloads.size());
            for (int i = payloads.size() - 1; i >= 0; i--) {
                Buffer.createBuffer(b, offsets[i], payloads.get(i).remaining());
            }
            int buffersVec = b.endVector();
            int[] kvs = new int[model.metadata().size()];
            int k = 0;
            for (Map.Entry<String, String> e : model.metadata().entrySet()) {
                int key = b.createString(e.getKey());
                byte[] deflated = e.getValue() == null ? null : Metadata.deflate(e.getValue());
                int value = e.getValue() == null || deflated != null ? 0 : b.createString(e.getValue());
                int packed = deflated == null ? 0 : KeyValue.createDeflatedValueVector(b, deflated);
                KeyValue.startKeyValue(b);
                KeyValue.addKey(b, key);
                KeyValue.addValue(b, value);
                KeyValue.addDeflatedValue(b, packed);
                kvs[k++] = KeyValue.endKeyValue(b);
            }
            int metaVec = Model.createMetadataVector(b, kvs);
            int producer = b.createString(model.metadata().getOrDefault(ModelDef.META_PRODUCER, "hedge"));
            Model.startModel(b);
            Model.addVersion(b, Version.createVersion(b, HedgeFormat.MAJOR, HedgeFormat.MINOR));
            Model.addProducer(b, producer);
            Model.addGraphs(b, graphsVec);
            Model.addBuffers(b, buffersVec);
            Model.addMetadata(b, metaVec);
            Model.finishModelBuffer(b, Model.endModel(b));
            return b.sizedByteArray();
        }

        private int graph(FlatBufferBuilder b, GraphPlan p) {
            int[] tensors = new int[p.entries.size()];
            for (int i = 0; i < tensors.length; i++) {
                tensors[i] = tensor(b, p.entries.get(i));
            }
            int[] nodes = new int[p.nodes.size()];
            for (int i = 0; i < nodes.length; i++) {
                nodes[i] = node(b, p.nodes.get(i));
            }
            int name = b.createString(p.graph.name());
            int tensorsVec = dev.hedge.schema.fb.Graph.createTensorsVector(b, tensors);
            int nodesVec = dev.hedge.schema.fb.Graph.createNodesVector(b, nodes);
            int ins = dev.hedge.schema.fb.Graph.createInputsVector(b, p.inputs);
            int outs = dev.hedge.schema.fb.Graph.createOutputsVector(b, p.outputs);
            int caps = p.captures.length == 0 ? 0 : dev.hedge.schema.fb.Graph.createCapturesVector(b, p.captures);
            dev.hedge.schema.fb.Graph.startGraph(b);
            dev.hedge.schema.fb.Graph.addName(b, name);
            dev.hedge.schema.fb.Graph.addTensors(b, tensorsVec);
            dev.hedge.schema.fb.Graph.addNodes(b, nodesVec);
            dev.hedge.schema.fb.Graph.addInputs(b, ins);
            dev.hedge.schema.fb.Graph.addOutputs(b, outs);
            dev.hedge.schema.fb.Graph.addCaptures(b, caps);
            return dev.hedge.schema.fb.Graph.endGraph(b);
        }

        private int tensor(FlatBufferBuilder b, Entry e) {
            Tensor t = e.constant;
            long[] shape;
            String[] params = null;
            if (t != null) {
                shape = Arrays.stream(t.shape()).asLongStream().toArray();
            } else if (e.dims != null) {
                shape = new long[e.dims.size()];
                for (int j = 0; j < shape.length; j++) {
                    Dim d = e.dims.get(j);
                    shape[j] = d.value() < 0 ? -1 : d.value();
                    if (d.param() != null && !d.param().isEmpty()) {
                        if (params == null) {
                            params = new String[shape.length];
                            Arrays.fill(params, "");
                        }
                        params[j] = d.param();
                    }
                }
            } else {
                shape = new long[0];
            }
            int name = b.createString(e.name);
            int shapeVec = shape.length == 0 ? 0 : dev.hedge.schema.fb.Tensor.createShapeVector(b, shape);
            int paramsVec = params == null ? 0 : dev.hedge.schema.fb.Tensor.createDimParamsVector(b, strings(b, params));
            int quant = 0;
            int sparse = 0;
            int codebook = 0;
            int[] bufs = t == null ? new int[3] : tensorBuffers.get(t);
            if (t != null && t.quant() != null) {
                quant = quant(b, t.quant());
            }
            if (t != null && t.sparse() != null) {
                Sparse s = t.sparse();
                SparseEncoding.startSparseEncoding(b);
                SparseEncoding.addFormat(b, s.format().code());
                SparseEncoding.addBlockRows(b, s.blockRows());
                SparseEncoding.addBlockCols(b, s.blockCols());
                SparseEncoding.addIndexType(b, s.indexType().code());
                SparseEncoding.addRowPtrBuffer(b, bufs[1]);
                SparseEncoding.addColIdxBuffer(b, bufs[2]);
                SparseEncoding.addNnzBlocks(b, s.nnzBlocks());
                sparse = SparseEncoding.endSparseEncoding(b);
            }
            if (t != null && t.codebook() != null) {
                int palette = Codebook.createPaletteVector(b, t.codebook().palette());
                Codebook.startCodebook(b);
                Codebook.addPalette(b, palette);
                Codebook.addIndexBits(b, t.codebook().indexBits());
                Codebook.addAxis(b, t.codebook().axis());
                codebook = Codebook.endCodebook(b);
            }
            dev.hedge.schema.fb.Tensor.startTensor(b);
            dev.hedge.schema.fb.Tensor.addName(b, name);
            dev.hedge.schema.fb.Tensor.addDtype(b, e.dtype == null ? 0 : e.dtype.code());
            dev.hedge.schema.fb.Tensor.addShape(b, shapeVec);
            dev.hedge.schema.fb.Tensor.addDimParams(b, paramsVec);
            dev.hedge.schema.fb.Tensor.addHasShape(b, t != null || e.dims != null);
            dev.hedge.schema.fb.Tensor.addBuffer(b, bufs[0]);
            dev.hedge.schema.fb.Tensor.addQuant(b, quant);
            dev.hedge.schema.fb.Tensor.addSparse(b, sparse);
            dev.hedge.schema.fb.Tensor.addCodebook(b, codebook);
            return dev.hedge.schema.fb.Tensor.endTensor(b);
        }

        private static int quant(FlatBufferBuilder b, QuantParams q) {
            int scales = dev.hedge.schema.fb.QuantParams.createScaleVector(b, q.scales());
            long[] zps = q.zeroPoints();
            boolean anyZp = Arrays.stream(zps).anyMatch(z -> z != 0);
            int zpVec = anyZp ? dev.hedge.schema.fb.QuantParams.createZeroPointVector(b, zps) : 0;
            dev.hedge.schema.fb.QuantParams.startQuantParams(b);
            dev.hedge.schema.fb.QuantParams.addScale(b, scales);
            dev.hedge.schema.fb.QuantParams.addZeroPoint(b, zpVec);
            dev.hedge.schema.fb.QuantParams.addAxis(b, q.axis());
            dev.hedge.schema.fb.QuantParams.addBlockSize(b, q.blockSize());
            return dev.hedge.schema.fb.QuantParams.endQuantParams(b);
        }

        private static int[] strings(FlatBufferBuilder b, String[] s) {
            int[] o = new int[s.length];
            for (int i = 0; i < s.length; i++) {
                o[i] = b.createString(s[i]);
            }
            return o;
        }

        private int node(FlatBufferBuilder b, NodePlan np) {
            int[] attrs = new int[np.attrs().size()];
            for (int i = 0; i < attrs.length; i++) {
                attrs[i] = attr(b, np.attrs().get(i));
            }
            int name = b.createString(np.node().name() == null ? "" : np.node().name());
            int ins = dev.hedge.schema.fb.Node.createInputsVector(b, np.inputs());
            int outs = dev.hedge.schema.fb.Node.createOutputsVector(b, np.outputs());
            int attrsVec = dev.hedge.schema.fb.Node.createAttrsVector(b, attrs);
            dev.hedge.schema.fb.Node.startNode(b);
            dev.hedge.schema.fb.Node.addName(b, name);
            dev.hedge.schema.fb.Node.addOp(b, np.node().op().code());
            dev.hedge.schema.fb.Node.addInputs(b, ins);
            dev.hedge.schema.fb.Node.addOutputs(b, outs);
            dev.hedge.schema.fb.Node.addAttrs(b, attrsVec);
            return dev.hedge.schema.fb.Node.endNode(b);
        }

        private static int attr(FlatBufferBuilder b, AttrRef ref) {
            int name = b.createString(ref.name());
            int value = 0;
            Attr a = ref.value();
            if (a instanceof Attr.Str s) {
                value = b.createString(s.value());
            } else if (a instanceof Attr.Ints is) {
                value = Attribute.createIntsVector(b, is.value());
            } else if (a instanceof Attr.Floats fs) {
                value = Attribute.createFloatsVector(b, fs.value());
            } else if (a instanceof Attr.Strs ss) {
                value = Attribute.createStringsVector(b, strings(b, ss.value().toArray(new String[0])));
            }
            Attribute.startAttribute(b);
            Attribute.addName(b, name);
            Attribute.addType(b, a.kind().code());
            if (a instanceof Attr.Int i) {
                Attribute.addI(b, i.value());
            } else if (a instanceof Attr.Float f) {
                // forced so that -0.0 (equal to the default 0.0) keeps its sign
                b.forceDefaults(true);
                Attribute.addF(b, f.value());
                b.forceDefaults(false);
            } else if (a instanceof Attr.Str) {
                Attribute.addS(b, value);
            } else if (a instanceof Attr.Ints) {
                Attribute.addInts(b, value);
            } else if (a instanceof Attr.Floats) {
                Attribute.addFloats(b, value);
            } else if (a instanceof Attr.Strs) {
                Attribute.addStrings(b, value);
            } else if (a instanceof Attr.GraphValue) {
                Attribute.addGraph(b, ref.index());
            } else if (a instanceof Attr.TensorValue) {
                Attribute.addTensor(b, ref.index());
            }
            return Attribute.endAttribute(b);
        }
    }
}
