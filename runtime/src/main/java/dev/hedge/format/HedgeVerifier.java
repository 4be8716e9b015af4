package dev.hedge.format;

import dev.hedge.ir.Sparse;
import dev.hedge.ops.AttrDef;
import dev.hedge.ops.AttrKind;
import dev.hedge.ops.Op;
import dev.hedge.runtime.DType;
import dev.hedge.runtime.ModelFormatException;
import dev.hedge.schema.fb.Attribute;
import dev.hedge.schema.fb.Buffer;
import dev.hedge.schema.fb.Codebook;
import dev.hedge.schema.fb.Graph;
import dev.hedge.schema.fb.KeyValue;
import dev.hedge.schema.fb.Model;
import dev.hedge.schema.fb.Node;
import dev.hedge.schema.fb.QuantParams;
import dev.hedge.schema.fb.SparseEncoding;
import dev.hedge.schema.fb.SparseFormat;
import dev.hedge.schema.fb.Tensor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Verifies a whole .hedge file before anything is decoded: first the FlatBuffer's structure
 * ({@link FlatBufferChecker}), then every rule the decoder and the runtime rely on. A file that passes
 * decodes without exceptions; a file that fails gets a {@link ModelFormatException} naming the place, e.g.
 * {@code graph 0 tensor 12 'conv1.weight': buffer 7 has 100 bytes, FLOAT32[4,3,3,3] needs 432}.
 * Verification work is linear in the file size, whatever the file contains.
 */
public final class HedgeVerifier {

    /** Encoded constants may decode to at most this many times the file size (plus the allowance)... */
    static final long DECODE_RATIO = 1024;
    /** ...so that a small file cannot make the runtime allocate gigabytes when it densifies them. */
    static final long DECODE_ALLOWANCE = 64L << 20;

    private HedgeVerifier() {
    }

    /** Verifies the file held in {@code file}'s bytes from its position to its limit. */
    public static void verify(ByteBuffer file) {
        new Run(file.slice().order(ByteOrder.LITTLE_ENDIAN)).verify();
    }

    private static final class Run {
        private final ByteBuffer bb;
        private final int size;
        private final FlatBufferChecker structure;
        private Model model;
        private long[] bufOffset;
        private long[] bufLength;
        private long workLeft;
        private long decodedLeft;
        private final Set<String> sparseChecked = new HashSet<>();
        private int[] refs;
        private int[] parent;
        private List<List<Integer>> children;

        Run(ByteBuffer bb) {
            this.bb = bb;
            this.size = bb.limit();
            this.structure = new FlatBufferChecker(bb);
            this.workLeft = 4L * size + (1 << 20);
            this.decodedLeft = DECODE_RATIO * size + DECODE_ALLOWANCE;
        }

        void verify() {
            if (size < 8) {
                throw new ModelFormatException("file is " + size + " bytes, too small to be a .hedge model");
            }
            byte[] id = new byte[4];
            bb.get(4, id);
            if (!Arrays.equals(id, HedgeFormat.IDENTIFIER.getBytes(StandardCharsets.US_ASCII))) {
                throw new ModelFormatException("not a .hedge file: identifier is '"
                        + printable(id) + "', expected '" + HedgeFormat.IDENTIFIER + "'");
            }
            int root = structure.root();
            int vp = structure.structField(root, 0, "Model.version");
            if (vp < 0) {
                throw new ModelFormatException("file has no format version");
            }
            int major = bb.getShort(vp) & 0xffff;
            int minor = bb.getShort(vp + 2) & 0xffff;
            if (major != HedgeFormat.MAJOR) {
                throw new ModelFormatException("file format version " + major + "." + minor + "; this Hedge reads "
                        + HedgeFormat.MAJOR + ".x");
            }
            structure.verify(root);
            model = Model.getRootAsModel(bb);
            buffers();
            metadata();
            graphs();
        }

        private void buffers() {
            int n = model.buffersLength();
            if (n == 0) {
                throw new ModelFormatException("Model.buffers is empty; buffer 0 must be the empty sentinel");
            }
            bufOffset = new long[n];
            bufLength = new long[n];
            Buffer b = new Buffer();
            for (int i = 0; i < n; i++) {
                model.buffers(b, i);
                long off = b.offset();
                long len = b.length();
                bufOffset[i] = off;
                bufLength[i] = len;
                String w = "buffer " + i;
                if (i == 0) {
                    if (off != 0 || len != 0) {
                        throw new ModelFormatException(w + " must be the empty sentinel (offset 0, length 0), is ("
                                + Long.toUnsignedString(off) + ", " + Long.toUnsignedString(len) + ")");
                    }
                    continue;
                }
                if (off < 0 || off > size || len < 0 || len > size - off) {
                    throw new ModelFormatException(w + " (offset " + Long.toUnsignedString(off) + ", "
                            + Long.toUnsignedString(len) + " bytes) extends past the end of the " + size
                            + "-byte file");
                }
                if (off % HedgeFormat.ALIGNMENT != 0) {
                    throw new ModelFormatException(w + " at offset " + off + " is not " + HedgeFormat.ALIGNMENT
                            + "-byte aligned");
                }
                if (off < structure.end()) {
                    throw new ModelFormatException(w + " at offset " + off + " overlaps the FlatBuffer, which ends at "
                            + structure.end());
                }
            }
        }

        private void metadata() {
            Set<String> keys = new HashSet<>();
            KeyValue kv = new KeyValue();
            for (int i = 0; i < model.metadataLength(); i++) {
                String k = model.metadata(kv, i).key();
                if (!keys.add(k)) {
                    throw new ModelFormatException("metadata key '" + k + "' appears twice");
                }
                Metadata.value(kv); // a deflated value must inflate, within bounds
            }
        }

        private void graphs() {
            int ng = model.graphsLength();
            if (ng == 0) {
                throw new ModelFormatException("file has no graphs");
            }
            refs = new int[ng];
            parent = new int[ng];
            children = new ArrayList<>(ng);
            for (int i = 0; i < ng; i++) {
                children.add(new ArrayList<>(0));
            }
            Scope[] scopes = new Scope[ng];
            Graph g = new Graph();
            for (int gi = 0; gi < ng; gi++) {
                scopes[gi] = graph(gi, model.graphs(g, gi));
            }
            for (int j = 1; j < ng; j++) {
                if (refs[j] == 0) {
                    throw new ModelFormatException("graph " + j + " is not used by any GRAPH attribute");
                }
            }
            // every subgraph has exactly one parent; all must hang below graph 0 (else there is a cycle)
            int[] depth = new int[ng];
            List<Integer> order = new ArrayList<>(ng);
            order.add(0);
            for (int at = 0; at < order.size(); at++) {
                int gi = order.get(at);
                for (int c : children.get(gi)) {
                    depth[c] = depth[gi] + 1;
                    if (depth[c] > HedgeFormat.MAX_GRAPH_DEPTH) {
                        throw new ModelFormatException("graph " + c + " is nested " + depth[c]
                                + " levels deep; the limit is " + HedgeFormat.MAX_GRAPH_DEPTH);
                    }
                    order.add(c);
                }
            }
            for (int j = 1; j < ng; j++) {
                if (depth[j] == 0) {
                    throw new ModelFormatException("graph " + j + " is not reachable from the main graph"
                            + " (its GRAPH attributes form a cycle)");
                }
            }
            for (int gi : order) {
                for (int c : children.get(gi)) {
                    for (String cap : scopes[c].captures) {
                        if (!scopes[gi].visible.contains(cap)) {
                            throw new ModelFormatException("graph " + c + " captures '" + cap
                                    + "', which its enclosing graph " + gi + " neither defines nor captures");
                        }
                    }
                }
            }
        }

        /** Names a graph defines or captures, and what it captures. */
        private record Scope(Set<String> visible, List<String> captures) {
        }

        private Scope graph(int gi, Graph g) {
            String gw = "graph " + gi;
            int nt = g.tensorsLength();
            String[] names = new String[nt];
            boolean[] constant = new boolean[nt];
            Tensor t = new Tensor();
            for (int i = 0; i < nt; i++) {
                g.tensors(t, i);
                names[i] = t.name() == null ? "" : t.name();
                constant[i] = tensor(gw + " tensor " + i + " '" + names[i] + "'", t);
            }
            boolean[] payload = new boolean[nt];
            Node n = new Node();
            Attribute a = new Attribute();
            for (int k = 0; k < g.nodesLength(); k++) {
                g.nodes(n, k);
                node(gi, nodeWhere(gw, k, n), n, a, nt, constant, payload);
            }

            Map<String, Integer> byName = new HashMap<>();
            for (int i = 0; i < nt; i++) {
                if (payload[i]) {
                    continue;
                }
                if (names[i].isEmpty()) {
                    throw new ModelFormatException(gw + " tensor " + i + " is a value without a name");
                }
                Integer prev = byName.put(names[i], i);
                if (prev != null) {
                    throw new ModelFormatException(gw + " tensors " + prev + " and " + i + " are both named '"
                            + names[i] + "'");
                }
            }

            String[] definedBy = new String[nt];
            for (int j = 0; j < g.inputsLength(); j++) {
                int idx = value(gw, " input ", j, g.inputs(j), nt, payload, names, false);
                if (definedBy[idx] != null) {
                    throw new ModelFormatException(gw + " input " + j + " '" + names[idx] + "' is listed twice");
                }
                definedBy[idx] = "a graph input";
            }
            for (int i = 0; i < nt; i++) {
                if (constant[i] && !payload[i] && definedBy[i] == null) {
                    definedBy[i] = "a constant";
                }
            }
            for (int k = 0; k < g.nodesLength(); k++) {
                g.nodes(n, k);
                String nw = nodeWhere(gw, k, n);
                for (int j = 0; j < n.outputsLength(); j++) {
                    int idx = value(nw, " output ", j, n.outputs(j), nt, payload, names, true);
                    if (idx < 0) {
                        continue;
                    }
                    if (definedBy[idx] != null) {
                        throw new ModelFormatException(nw + " output " + j + " '" + names[idx]
                                + "' is already defined, by " + definedBy[idx]);
                    }
                    definedBy[idx] = "node " + k + " output " + j;
                }
            }
            boolean[] captured = new boolean[nt];
            List<String> captures = new ArrayList<>();
            if (gi == 0 && g.capturesLength() > 0) {
                throw new ModelFormatException(gw + " is the main graph but captures " + g.capturesLength()
                        + " values");
            }
            for (int j = 0; j < g.capturesLength(); j++) {
                int idx = value(gw, " capture ", j, g.captures(j), nt, payload, names, false);
                if (definedBy[idx] != null) {
                    throw new ModelFormatException(gw + " capture " + j + " '" + names[idx]
                            + "' is defined in the graph itself, by " + definedBy[idx]);
                }
                if (!captured[idx]) {
                    captured[idx] = true;
                    captures.add(names[idx]);
                }
            }
            for (int k = 0; k < g.nodesLength(); k++) {
                g.nodes(n, k);
                String nw = nodeWhere(gw, k, n);
                for (int j = 0; j < n.inputsLength(); j++) {
                    int idx = value(nw, " input ", j, n.inputs(j), nt, payload, names, true);
                    if (idx >= 0 && definedBy[idx] == null && !captured[idx]) {
                        throw new ModelFormatException(nw + " input " + j + " reads '" + names[idx]
                                + "', which " + gw + " neither defines nor captures");
                    }
                }
            }
            for (int j = 0; j < g.outputsLength(); j++) {
                int idx = value(gw, " output ", j, g.outputs(j), nt, payload, names, false);
                if (definedBy[idx] == null && !captured[idx]) {
                    throw new ModelFormatException(gw + " output " + j + " is '" + names[idx]
                            + "', which the graph neither defines nor captures");
                }
            }
            Set<String> visible = new HashSet<>(captures);
            for (int i = 0; i < nt; i++) {
                if (definedBy[i] != null) {
                    visible.add(names[i]);
                }
            }
            return new Scope(visible, captures);
        }

        private static String nodeWhere(String gw, int k, Node n) {
            return gw + " node " + k + " '" + (n.name() == null ? "" : n.name()) + "'";
        }

        /** Checks a reference to a value tensor; returns the index (-1 only when {@code omittable}). */
        private static int value(String owner, String role, int j, int idx, int nt, boolean[] payload,
                String[] names, boolean omittable) {
            if (idx == -1 && omittable) {
                return -1;
            }
            if (idx < 0 || idx >= nt) {
                throw new ModelFormatException(owner + role + j + " refers to tensor " + idx + ", which does not exist (the graph has "
                        + nt + ")");
            }
            if (payload[idx]) {
                throw new ModelFormatException(owner + role + j + " refers to tensor " + idx + " '" + names[idx]
                        + "', which holds an attribute value, not a graph value");
            }
            return idx;
        }

        private void node(int gi, String nw, Node n, Attribute a, int nt, boolean[] constant, boolean[] payload) {
            Op op;
            try {
                op = Op.fromCode(n.op());
            } catch (IllegalArgumentException e) {
                throw new ModelFormatException(nw + ": unknown op code " + n.op());
            }
            nw = nw + " (" + op + ")";
            int listed = n.inputsLength();
            int given = listed;
            while (given > 0 && n.inputs(given - 1) == -1) {
                given--;
            }
            if (listed > op.maxInputs() || given < op.minInputs()) {
                throw new ModelFormatException(nw + ": has " + given + " inputs (" + listed + " listed); " + op
                        + " takes " + arity(op.minInputs(), op.maxInputs()));
            }
            int outs = n.outputsLength();
            if (outs < op.minOutputs() || outs > op.maxOutputs()) {
                throw new ModelFormatException(nw + ": has " + outs + " outputs; " + op + " gives "
                        + arity(op.minOutputs(), op.maxOutputs()));
            }
            Set<String> seen = new HashSet<>();
            for (int j = 0; j < n.attrsLength(); j++) {
                n.attrs(a, j);
                String name = a.name();
                String aw = nw + ": attribute '" + name + "'";
                AttrKind kind;
                try {
                    kind = AttrKind.fromCode(a.type());
                } catch (IllegalArgumentException e) {
                    throw new ModelFormatException(aw + " has unknown type code " + a.type());
                }
                AttrDef def = op.attr(name);
                if (def == null) {
                    throw new ModelFormatException(aw + " is not an attribute of " + op);
                }
                if (def.kind() != kind) {
                    throw new ModelFormatException(aw + " is " + kind + ", expected " + def.kind());
                }
                if (!seen.add(name)) {
                    throw new ModelFormatException(aw + " appears twice");
                }
                switch (kind) {
                    case STRING:
                        if (a.s() == null) {
                            throw new ModelFormatException(aw + " is STRING but has no string");
                        }
                        break;
                    case GRAPH: {
                        int gj = a.graph();
                        if (gj < 0 || gj >= refs.length) {
                            throw new ModelFormatException(aw + " refers to graph " + gj
                                    + ", which does not exist (the file has " + refs.length + ")");
                        }
                        if (gj == 0) {
                            throw new ModelFormatException(aw + " refers to the main graph 0");
                        }
                        if (refs[gj]++ > 0) {
                            throw new ModelFormatException(aw + " refers to graph " + gj + ", which graph " + parent[gj]
                                    + " already uses (each subgraph belongs to exactly one attribute)");
                        }
                        parent[gj] = gi;
                        children.get(gi).add(gj);
                        break;
                    }
                    case TENSOR: {
                        int ti = a.tensor();
                        if (ti < 0 || ti >= nt) {
                            throw new ModelFormatException(aw + " refers to tensor " + ti
                                    + ", which does not exist (the graph has " + nt + ")");
                        }
                        if (!constant[ti]) {
                            throw new ModelFormatException(aw + " refers to tensor " + ti + ", which has no data");
                        }
                        payload[ti] = true;
                        break;
                    }
                    default:
                        break;
                }
            }
            for (AttrDef d : op.attrs().values()) {
                if (d.required() && !seen.contains(d.name())) {
                    throw new ModelFormatException(nw + ": required attribute '" + d.name() + "' is missing");
                }
            }
        }

        private static String arity(int min, int max) {
            return max == Op.VARIADIC ? min + " or more" : min == max ? Integer.toString(min) : min + " to " + max;
        }

        /** Checks one tensor entry; returns whether it is a constant (has data). */
        private boolean tensor(String w, Tensor t) {
            DType dt = null;
            if (t.dtype() != 0) {
                try {
                    dt = DType.fromCode(t.dtype());
                } catch (IllegalArgumentException e) {
                    throw new ModelFormatException(w + ": unknown dtype code " + t.dtype());
                }
            }
            long buf = t.buffer();
            if (buf >= bufLength.length) {
                throw new ModelFormatException(w + ": buffer " + buf + " does not exist (the file has "
                        + bufLength.length + ")");
            }
            boolean constant = buf != 0;
            int rank = t.shapeLength();
            if (!t.hasShape() && (rank != 0 || t.dimParamsLength() != 0)) {
                throw new ModelFormatException(w + ": has unknown rank but lists " + rank + " dimensions");
            }
            if (t.dimParamsLength() != 0 && t.dimParamsLength() != rank) {
                throw new ModelFormatException(w + ": has " + t.dimParamsLength() + " dim_params for " + rank
                        + " dimensions");
            }
            int[] shape = new int[rank];
            long elements = 1;
            for (int j = 0; j < rank; j++) {
                long d = t.shape(j);
                if (d < (constant ? 0 : -1) || d > Integer.MAX_VALUE) {
                    throw new ModelFormatException(w + ": dimension " + j + " is " + d + (constant
                            ? "; a constant's dimensions must be in 0..2^31-1"
                            : "; dimensions must be in 0..2^31-1, or -1 when dynamic"));
                }
                shape[j] = (int) d;
                if (d >= 0) {
                    elements *= d;
                    if (elements > Integer.MAX_VALUE) {
                        throw new ModelFormatException(w + ": shape has more than 2^31-1 elements");
                    }
                }
            }
            QuantParams q = t.quant();
            SparseEncoding s = t.sparse();
            Codebook c = t.codebook();
            if (!constant) {
                if (q != null || s != null || c != null) {
                    throw new ModelFormatException(w + ": has " + (q != null ? "quantization parameters"
                            : s != null ? "a sparse encoding" : "a codebook") + " but no data (buffer 0)");
                }
                return false;
            }
            if (dt == null) {
                throw new ModelFormatException(w + ": a constant needs a dtype");
            }
            if (!t.hasShape()) {
                throw new ModelFormatException(w + ": a constant needs a shape");
            }
            long len = bufLength[(int) buf];
            if (q != null) {
                float[] scales = new float[q.scaleLength()];
                for (int i = 0; i < scales.length; i++) {
                    scales[i] = q.scale(i);
                }
                long[] zps = new long[q.zeroPointLength()];
                for (int i = 0; i < zps.length; i++) {
                    zps[i] = q.zeroPoint(i);
                }
                Encodings.checkQuant(w, dt, shape, scales, zps, q.axis(), q.blockSize());
            }
            if (s == null && c == null) {
                long need = dt.byteSize(elements);
                if (len != need) {
                    throw new ModelFormatException(w + ": buffer " + buf + " has " + len + " bytes, "
                            + Encodings.describe(dt, shape) + " needs " + need);
                }
                return true;
            }
            Encodings.checkDecodedSize(w, dt, shape);
            decodedLeft -= dt.byteSize(elements);
            if (decodedLeft < 0) {
                throw new ModelFormatException(w + ": encoded constants decode to more than " + DECODE_RATIO
                        + " times the file size plus " + (DECODE_ALLOWANCE >> 20) + " MiB");
            }
            int bits = 0;
            if (c != null) {
                bits = c.indexBits();
                Encodings.checkCodebook(w, dt, shape, c.paletteLength(), bits, c.axis());
                if (s == null) {
                    long need = Encodings.packedBytes(elements, bits);
                    if (len != need) {
                        throw new ModelFormatException(w + ": buffer " + buf + " has " + len + " bytes; "
                                + elements + " " + bits + "-bit codebook indices need " + need);
                    }
                }
            }
            if (s != null) {
                sparse(w, dt, shape, s, buf, len, bits);
            }
            return true;
        }

        private void sparse(String w, DType dt, int[] shape, SparseEncoding s, long buf, long len, int bits) {
            if (s.format() != SparseFormat.CSR && s.format() != SparseFormat.BLOCK_CSR
                    && s.format() != SparseFormat.BITMASK) {
                throw new ModelFormatException(w + ": unknown sparse format code " + s.format());
            }
            DType it;
            try {
                it = DType.fromCode(s.indexType());
            } catch (IllegalArgumentException e) {
                throw new ModelFormatException(w + ": unknown sparse index type code " + s.indexType());
            }
            long rp = s.rowPtrBuffer();
            long ci = s.colIdxBuffer();
            for (long b : new long[] {rp, ci}) {
                if (b >= bufLength.length) {
                    throw new ModelFormatException(w + ": sparse index buffer " + b + " does not exist (the file has "
                            + bufLength.length + ")");
                }
            }
            if (s.nnzBlocks() > Integer.MAX_VALUE) {
                throw new ModelFormatException(w + ": sparse nnz_blocks " + s.nnzBlocks() + " exceeds 2^31-1");
            }
            String key = rp + "," + ci + "," + it + "," + s.format() + "," + s.blockRows() + "," + s.blockCols() + ","
                    + s.nnzBlocks() + "," + dt + Arrays.toString(shape) + "," + bits + "," + len;
            if (!sparseChecked.add(key)) {
                return; // same structure already checked (de-duplicated payloads)
            }
            workLeft -= bufLength[(int) rp] + bufLength[(int) ci];
            if (workLeft < 0) {
                throw new ModelFormatException(w + ": sparse index buffers are referenced too many times"
                        + " (verification work would exceed a multiple of the file size)");
            }
            Sparse sp = new Sparse(Sparse.Format.fromCode(s.format()), s.blockRows(), s.blockCols(), it, slice(rp),
                    slice(ci),
                    (int) s.nnzBlocks());
            Encodings.checkSparse(w, dt, shape, sp, len, bits);
        }

        private ByteBuffer slice(long buf) {
            int off = (int) bufOffset[(int) buf];
            int len = (int) bufLength[(int) buf];
            return bb.duplicate().position(off).limit(off + len).slice().order(ByteOrder.LITTLE_ENDIAN);
        }

        private static String printable(byte[] b) {
            StringBuilder sb = new StringBuilder();
            for (byte x : b) {
                sb.append(x >= 0x20 && x < 0x7f ? String.valueOf((char) x) : String.format("\\x%02x", x & 0xff));
            }
            return sb.toString();
        }
    }
}
