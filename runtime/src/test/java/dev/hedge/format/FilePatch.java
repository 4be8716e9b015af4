package dev.hedge.format;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.google.flatbuffers.Table;
import dev.hedge.schema.fb.Attribute;
import dev.hedge.schema.fb.Graph;
import dev.hedge.schema.fb.Model;
import dev.hedge.schema.fb.Node;
import dev.hedge.schema.fb.Tensor;
import java.io.IOException;
import java.lang.reflect.Field;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Edits a valid .hedge file in place: locates tables with the generated accessors and overwrites one field
 * (which must be present in the file), a vector element or length, or payload bytes.
 */
final class FilePatch {

    // field ids, in hedge.fbs declaration order
    static final int MODEL_BUFFERS = 3;
    static final int GRAPH_CAPTURES = 5;
    static final int TENSOR_DTYPE = 1;
    static final int TENSOR_SHAPE = 2;
    static final int TENSOR_BUFFER = 5;
    static final int NODE_OP = 1;
    static final int NODE_INPUTS = 2;
    static final int NODE_ATTRS = 4;
    static final int ATTR_NAME = 0;
    static final int ATTR_TYPE = 1;
    static final int ATTR_GRAPH = 8;
    static final int QUANT_SCALE = 0;
    static final int QUANT_ZERO_POINT = 1;
    static final int QUANT_AXIS = 2;
    static final int SPARSE_NNZ = 6;
    static final int CODEBOOK_PALETTE = 0;
    static final int CODEBOOK_BITS = 1;
    static final int CODEBOOK_AXIS = 2;

    private static final Field BB_POS;

    static {
        try {
            BB_POS = Table.class.getDeclaredField("bb_pos");
            BB_POS.setAccessible(true);
        } catch (NoSuchFieldException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    final byte[] bytes;
    final ByteBuffer bb;
    final Model model;

    FilePatch(Path file) throws IOException {
        this(Files.readAllBytes(file));
    }

    FilePatch(byte[] bytes) {
        this.bytes = bytes;
        this.bb = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        this.model = Model.getRootAsModel(ByteBuffer.wrap(bytes));
    }

    Graph graph(int g) {
        return model.graphs(g);
    }

    int tensorIndex(int g, String name) {
        Graph gr = graph(g);
        for (int i = 0; i < gr.tensorsLength(); i++) {
            if (name.equals(gr.tensors(i).name())) {
                return i;
            }
        }
        return fail("no tensor '" + name + "' in graph " + g);
    }

    Tensor tensor(int g, String name) {
        return graph(g).tensors(tensorIndex(g, name));
    }

    Node node(int g, String name) {
        Graph gr = graph(g);
        for (int i = 0; i < gr.nodesLength(); i++) {
            if (name.equals(gr.nodes(i).name())) {
                return gr.nodes(i);
            }
        }
        return fail("no node '" + name + "' in graph " + g);
    }

    Attribute attr(Node n, String name) {
        for (int i = 0; i < n.attrsLength(); i++) {
            if (name.equals(n.attrs(i).name())) {
                return n.attrs(i);
            }
        }
        return fail("no attribute '" + name + "'");
    }

    static int pos(Table t) {
        try {
            return BB_POS.getInt(t);
        } catch (IllegalAccessException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Absolute position of a field that must be present. */
    int field(Table t, int id) {
        int p = pos(t);
        int vt = p - bb.getInt(p);
        int vsize = bb.getShort(vt) & 0xffff;
        int slot = 4 + 2 * id;
        int off = slot < vsize ? bb.getShort(vt + slot) & 0xffff : 0;
        assertTrue(off != 0, "field " + id + " is absent; the test needs it present");
        return p + off;
    }

    /** Position of the length word of the vector a field points to. */
    int vector(Table t, int id) {
        int f = field(t, id);
        return f + bb.getInt(f);
    }

    /** Position of a vector's element {@code i}. */
    int element(Table t, int id, int i, int size) {
        return vector(t, id) + 4 + i * size;
    }

    FilePatch putByte(int at, int v) {
        bb.put(at, (byte) v);
        return this;
    }

    FilePatch putShort(int at, int v) {
        bb.putShort(at, (short) v);
        return this;
    }

    FilePatch putInt(int at, int v) {
        bb.putInt(at, v);
        return this;
    }

    FilePatch putLong(int at, long v) {
        bb.putLong(at, v);
        return this;
    }

    FilePatch putFloat(int at, float v) {
        bb.putFloat(at, v);
        return this;
    }

    /** Position of Buffer struct {@code i} (offset at +0, length at +8). */
    int buffer(int i) {
        return element(model, MODEL_BUFFERS, i, 16);
    }

    /** File offset of buffer {@code i}'s payload. */
    int payload(long i) {
        return (int) model.buffers((int) i).offset();
    }

    Path write(Path dir, String name) throws IOException {
        Path p = dir.resolve(name);
        Files.write(p, bytes);
        return p;
    }
}
