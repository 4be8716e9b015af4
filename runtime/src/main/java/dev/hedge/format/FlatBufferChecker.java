package dev.hedge.format;

import dev.hedge.runtime.ModelFormatException;
import java.nio.ByteBuffer;
import java.util.List;

/**
 * Structural verification of a .hedge FlatBuffer (Java FlatBuffers has no verifier): every offset, vtable,
 * vector and string lies inside the buffer and is aligned, vtable sizes are sane, vector lengths are bounded
 * by the bytes left, strings are NUL-terminated valid UTF-8, required fields are present, and nesting depth,
 * object count and bytes visited are bounded. Objects are checked once per reference, so the limits also
 * bound the work of anything that later walks the buffer through the generated accessors.
 *
 * <p>The schema is described by {@link #MODEL} and the tables it reaches; a unit test compares that
 * description with {@code hedge.fbs}.
 */
final class FlatBufferChecker {

    static final int MAX_DEPTH = 64;
    static final int MAX_OBJECTS = 10_000_000;

    enum Kind { SCALAR, STRUCT, STRING, TABLE, SCALAR_VECTOR, STRUCT_VECTOR, STRING_VECTOR, TABLE_VECTOR }

    /** A table field; {@code size}/{@code align} describe scalars, structs and vector elements. */
    record Field(String name, Kind kind, int size, int align, Table table, boolean required) {
    }

    record Table(String name, List<Field> fields) {
    }

    private static Field scalar(String name, int size) {
        return new Field(name, Kind.SCALAR, size, size, null, false);
    }

    private static Field string(String name, boolean required) {
        return new Field(name, Kind.STRING, 4, 4, null, required);
    }

    private static Field table(String name, Table t) {
        return new Field(name, Kind.TABLE, 4, 4, t, false);
    }

    private static Field scalars(String name, int size, boolean required) {
        return new Field(name, Kind.SCALAR_VECTOR, size, size, null, required);
    }

    private static Field strings(String name) {
        return new Field(name, Kind.STRING_VECTOR, 4, 4, null, false);
    }

    private static Field tables(String name, Table t) {
        return new Field(name, Kind.TABLE_VECTOR, 4, 4, t, false);
    }

    static final Table ATTRIBUTE = new Table("Attribute", List.of(string("name", true), scalar("type", 1),
            scalar("i", 8), scalar("f", 4), string("s", false), scalars("ints", 8, false),
            scalars("floats", 4, false), strings("strings"), scalar("graph", 4), scalar("tensor", 4)));
    static final Table QUANT_PARAMS = new Table("QuantParams", List.of(scalars("scale", 4, true),
            scalars("zero_point", 8, false), scalar("axis", 4), scalar("block_size", 4)));
    static final Table SPARSE_ENCODING = new Table("SparseEncoding", List.of(scalar("format", 1),
            scalar("block_rows", 4), scalar("block_cols", 4), scalar("index_type", 1), scalar("row_ptr_buffer", 4),
            scalar("col_idx_buffer", 4), scalar("nnz_blocks", 4)));
    static final Table CODEBOOK = new Table("Codebook", List.of(scalars("palette", 4, true),
            scalar("index_bits", 1), scalar("axis", 4)));
    static final Table TENSOR = new Table("Tensor", List.of(string("name", false), scalar("dtype", 1),
            scalars("shape", 8, false), strings("dim_params"), scalar("has_shape", 1), scalar("buffer", 4),
            table("quant", QUANT_PARAMS), table("sparse", SPARSE_ENCODING), table("codebook", CODEBOOK)));
    static final Table NODE = new Table("Node", List.of(string("name", false), scalar("op", 2),
            scalars("inputs", 4, false), scalars("outputs", 4, false), tables("attrs", ATTRIBUTE)));
    static final Table GRAPH = new Table("Graph", List.of(string("name", false), tables("tensors", TENSOR),
            tables("nodes", NODE), scalars("inputs", 4, false), scalars("outputs", 4, false),
            scalars("captures", 4, false)));
    static final Table KEY_VALUE = new Table("KeyValue", List.of(string("key", true), string("value", false),
            scalars("deflated_value", 1, false)));
    static final Table MODEL = new Table("Model", List.of(new Field("version", Kind.STRUCT, 4, 2, null, false),
            string("producer", false), tables("graphs", GRAPH),
            new Field("buffers", Kind.STRUCT_VECTOR, 16, 8, null, false), tables("metadata", KEY_VALUE)));

    private final ByteBuffer bb;
    private final int size;
    private final long maxObjects;
    private long objects;
    private long bytesLeft;
    private int end;

    /** {@code bb}: the whole file, little-endian, index 0 = file offset 0. */
    FlatBufferChecker(ByteBuffer bb) {
        this.bb = bb;
        this.size = bb.limit();
        // legitimate files reference each object once, and every object takes at least 4 bytes
        this.maxObjects = Math.min(MAX_OBJECTS, size / 4 + 1024);
        this.bytesLeft = 2L * size + 4096;
    }

    /** One past the last byte of any FlatBuffer object seen so far (the data section must start after it). */
    int end() {
        return end;
    }

    /** Checks the root offset and the root table's header; returns the root table's position. */
    int root() {
        if (size < 8) {
            throw new ModelFormatException("file is " + size + " bytes, too small to be a .hedge model");
        }
        touch(8);
        long root = u32(0);
        if (root > size - 4) {
            throw new ModelFormatException("root table offset " + root + " is outside the " + size + "-byte file");
        }
        tableVtable((int) root, "Model");
        return (int) root;
    }

    /** Position of a struct field of the root table, or -1 when absent (after {@link #root()}). */
    int structField(int table, int id, String where) {
        int vt = tableVtable(table, where);
        Field f = MODEL.fields().get(id);
        return fieldPos(table, vt, id, f, where);
    }

    /** Verifies the whole tree below the root table. */
    void verify(int root) {
        table(root, MODEL, 0, "Model");
    }

    private void table(int pos, Table t, int depth, String where) {
        if (depth > MAX_DEPTH) {
            throw new ModelFormatException(where + ": nesting deeper than " + MAX_DEPTH);
        }
        count(where);
        int vt = tableVtable(pos, where);
        List<Field> fields = t.fields();
        for (int id = 0; id < fields.size(); id++) {
            Field f = fields.get(id);
            String fw = where + "." + f.name();
            int fp = fieldPos(pos, vt, id, f, fw);
            if (fp < 0) {
                if (f.required()) {
                    throw new ModelFormatException(fw + ": required field is missing");
                }
                continue;
            }
            switch (f.kind()) {
                case SCALAR:
                case STRUCT:
                    break;
                case STRING:
                    string(indirect(fp, fw), fw);
                    break;
                case TABLE:
                    table(indirect(fp, fw), f.table(), depth + 1, fw);
                    break;
                case SCALAR_VECTOR:
                case STRUCT_VECTOR:
                    vector(indirect(fp, fw), f.size(), f.align(), fw);
                    break;
                case STRING_VECTOR: {
                    int v = indirect(fp, fw);
                    int n = vector(v, 4, 4, fw);
                    for (int i = 0; i < n; i++) {
                        String ew = fw + "[" + i + "]";
                        string(indirect(v + 4 + 4 * i, ew), ew);
                    }
                    break;
                }
                case TABLE_VECTOR: {
                    int v = indirect(fp, fw);
                    int n = vector(v, 4, 4, fw);
                    for (int i = 0; i < n; i++) {
                        String ew = fw + "[" + i + "]";
                        table(indirect(v + 4 + 4 * i, ew), f.table(), depth + 1, ew);
                    }
                    break;
                }
                default:
                    throw new IllegalStateException(f.kind().name());
            }
        }
    }

    /** Checks a table's soffset and vtable; returns the vtable position. */
    private int tableVtable(int pos, String where) {
        if (pos < 0 || pos > size - 4 || (pos & 3) != 0) {
            throw new ModelFormatException(where + ": table at " + pos + " is outside the buffer or not 4-aligned");
        }
        long vt = pos - (long) bb.getInt(pos);
        if (vt < 0 || vt > size - 4 || (vt & 1) != 0) {
            throw new ModelFormatException(where + ": vtable at " + vt + " (table at " + pos
                    + ") is outside the buffer or not 2-aligned");
        }
        int vsize = u16((int) vt);
        int tsize = u16((int) vt + 2);
        if (vsize < 4 || (vsize & 1) != 0 || vt + vsize > size) {
            throw new ModelFormatException(where + ": vtable at " + vt + " has invalid size " + vsize);
        }
        if (tsize < 4 || (long) pos + tsize > size) {
            throw new ModelFormatException(where + ": table at " + pos + " has invalid size " + tsize);
        }
        touch(vt + vsize);
        touch((long) pos + tsize);
        return (int) vt;
    }

    /** Absolute position of field {@code id}, or -1 when absent; checks it lies inside the table, aligned. */
    private int fieldPos(int pos, int vt, int id, Field f, String where) {
        int vsize = u16(vt);
        int slot = 4 + 2 * id;
        if (slot + 2 > vsize) {
            return -1;
        }
        int off = u16(vt + slot);
        if (off == 0) {
            return -1;
        }
        int width = f.kind() == Kind.SCALAR || f.kind() == Kind.STRUCT ? f.size() : 4;
        int align = f.kind() == Kind.SCALAR || f.kind() == Kind.STRUCT ? f.align() : 4;
        int tsize = u16(vt + 2);
        if (off < 4 || off + width > tsize) {
            throw new ModelFormatException(where + ": field offset " + off + " (+" + width
                    + " bytes) is outside its " + tsize + "-byte table");
        }
        int fp = pos + off;
        if (fp % align != 0) {
            throw new ModelFormatException(where + ": field at " + fp + " is not " + align + "-aligned");
        }
        return fp;
    }

    /** Follows the uoffset stored at {@code at}; the target must leave room for a 4-byte header. */
    private int indirect(int at, String where) {
        long target = at + u32(at);
        if (target > size - 4) {
            throw new ModelFormatException(where + ": offset at " + at + " points to " + target
                    + ", outside the " + size + "-byte buffer");
        }
        return (int) target;
    }

    /** Checks a vector header and extent; returns its length. */
    private int vector(int pos, int elemSize, int elemAlign, String where) {
        count(where);
        if ((pos & 3) != 0) {
            throw new ModelFormatException(where + ": vector at " + pos + " is not 4-aligned");
        }
        long n = u32(pos);
        int body = pos + 4;
        if (body % elemAlign != 0) {
            throw new ModelFormatException(where + ": vector elements at " + body + " are not " + elemAlign
                    + "-aligned");
        }
        long bytes = n * elemSize;
        if (bytes > size - (long) body) {
            throw new ModelFormatException(where + ": vector of " + n + " elements (" + bytes + " bytes) at "
                    + pos + " runs past the end of the " + size + "-byte buffer");
        }
        spend(bytes, where);
        touch(body + bytes);
        return (int) n;
    }

    private void string(int pos, String where) {
        count(where);
        if ((pos & 3) != 0) {
            throw new ModelFormatException(where + ": string at " + pos + " is not 4-aligned");
        }
        long n = u32(pos);
        int body = pos + 4;
        if (n + 1 > size - (long) body) {
            throw new ModelFormatException(where + ": string of " + n + " bytes at " + pos
                    + " runs past the end of the " + size + "-byte buffer");
        }
        if (bb.get(body + (int) n) != 0) {
            throw new ModelFormatException(where + ": string at " + pos + " is not NUL-terminated");
        }
        spend(n, where);
        touch(body + n + 1);
        int bad = invalidUtf8(body, body + (int) n);
        if (bad >= 0) {
            throw new ModelFormatException(where + ": string at " + pos + " is not valid UTF-8 (byte "
                    + (bad - body) + ")");
        }
    }

    /** Position of the first byte of an invalid UTF-8 sequence in [from, to), or -1 (strict: no overlongs, no surrogates). */
    private int invalidUtf8(int from, int to) {
        int i = from;
        while (i < to) {
            int b = bb.get(i) & 0xff;
            if (b < 0x80) {
                i++;
                continue;
            }
            int len;
            int min;
            int cp;
            if (b >= 0xc2 && b <= 0xdf) {
                len = 2; min = 0x80; cp = b & 0x1f;
            } else if (b >= 0xe0 && b <= 0xef) {
                len = 3; min = 0x800; cp = b & 0x0f;
            } else if (b >= 0xf0 && b <= 0xf4) {
                len = 4; min = 0x10000; cp = b & 0x07;
            } else {
                return i;
            }
            if (i + len > to) {
                return i;
            }
            for (int k = 1; k < len; k++) {
                int c = bb.get(i + k) & 0xff;
                if ((c & 0xc0) != 0x80) {
                    return i;
                }
                cp = (cp << 6) | (c & 0x3f);
            }
            if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
                return i;
            }
            i += len;
        }
        return -1;
    }

    private void count(String where) {
        if (++objects > maxObjects) {
            throw new ModelFormatException(where + ": more than " + maxObjects
                    + " FlatBuffer objects (a " + size + "-byte file cannot hold that many without sharing them)");
        }
    }

    private void spend(long bytes, String where) {
        bytesLeft -= bytes;
        if (bytesLeft < 0) {
            throw new ModelFormatException(where + ": vectors and strings add up to more than twice the file size"
                    + " (the file references the same data too many times)");
        }
    }

    private void touch(long upTo) {
        if (upTo > end) {
            end = (int) upTo;
        }
    }

    private long u32(int pos) {
        return bb.getInt(pos) & 0xffffffffL;
    }

    private int u16(int pos) {
        return bb.getShort(pos) & 0xffff;
    }
}
