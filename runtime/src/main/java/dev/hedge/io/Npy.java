package dev.hedge.io;

import dev.hedge.runtime.DType;
import dev.hedge.runtime.InvalidInputException;
import dev.hedge.runtime.Tensor;
import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * NumPy {@code .npy} files (format versions 1.0, 2.0 and 3.0) for every Hedge dtype NumPy has: f2, f4, f8,
 * i1..i8, u1..u8 and b1. Big-endian data is converted on reading; files are always written little-endian.
 *
 * <p>Reading validates the header completely and checks the sizes it implies against the actual length
 * before allocating anything, so a corrupt or hostile file fails with a message instead of an
 * out-of-memory error or a tensor of garbage. Errors are {@link InvalidInputException}s naming the source.
 */
public final class Npy {

    private static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};
    /** NumPy refuses headers longer than this by default; so do we (it bounds what a header can make us read). */
    private static final int MAX_HEADER = 10_000;
    private static final int ALIGN = 64;

    private Npy() {
    }

    /** A parsed header: dtype, whether the data is big-endian, shape, and where the data starts. */
    private record Header(DType dtype, boolean bigEndian, int[] shape, int dataOffset) {
    }

    /** Reads a .npy file into a new tensor. */
    public static Tensor read(Path file) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = ch.size();
            String what = file.toString();
            ByteBuffer prefix = ByteBuffer.allocate((int) Math.min(size, 12));
            readFully(ch, prefix, 0);
            int headerLen = headerLength(prefix.array(), prefix.limit(), size, what);
            int lenBytes = prefix.get(6) == 1 ? 2 : 4;
            ByteBuffer hb = ByteBuffer.allocate(headerLen);
            readFully(ch, hb, 6 + 2 + lenBytes);
            Header h = parseHeader(hb.array(), prefix.get(6), 6 + 2 + lenBytes + headerLen, what);
            long dataBytes = checkDataSize(h, size, what);
            ByteBuffer data = ByteBuffer.allocateDirect((int) dataBytes);
            readFully(ch, data, h.dataOffset());
            return toTensor(h, data);
        }
    }

    /** Parses a whole .npy file held in memory; {@code what} names it in error messages. */
    public static Tensor read(byte[] bytes, String what) {
        int headerLen = headerLength(bytes, Math.min(bytes.length, 12), bytes.length, what);
        int start = 6 + 2 + (bytes[6] == 1 ? 2 : 4);
        byte[] hb = new byte[headerLen];
        System.arraycopy(bytes, start, hb, 0, headerLen);
        Header h = parseHeader(hb, bytes[6], start + headerLen, what);
        long dataBytes = checkDataSize(h, bytes.length, what);
        ByteBuffer data = ByteBuffer.allocateDirect((int) dataBytes);
        data.put(0, bytes, h.dataOffset(), (int) dataBytes);
        return toTensor(h, data);
    }

    /** Validates magic and version; returns the declared header length, checked against the total size. */
    private static int headerLength(byte[] b, int available, long totalSize, String what) {
        if (available < 10) {
            throw bad(what, "file has " + totalSize + " bytes, too short for a .npy header");
        }
        for (int i = 0; i < MAGIC.length; i++) {
            if (b[i] != MAGIC[i]) {
                throw bad(what, "not a .npy file (bad magic string)");
            }
        }
        int major = b[6] & 0xff;
        int minor = b[7] & 0xff;
        if (major < 1 || major > 3 || minor != 0) {
            throw bad(what, "unsupported .npy format version " + major + "." + minor + " (supported: 1.0, 2.0, 3.0)");
        }
        long len;
        int prefixLen;
        if (major == 1) {
            len = (b[8] & 0xff) | (b[9] & 0xff) << 8;
            prefixLen = 10;
        } else {
            if (available < 12) {
                throw bad(what, "file has " + totalSize + " bytes, too short for a version " + major + " header");
            }
            len = (b[8] & 0xffL) | (b[9] & 0xffL) << 8 | (b[10] & 0xffL) << 16 | (b[11] & 0xffL) << 24;
            prefixLen = 12;
        }
        if (len > MAX_HEADER) {
            throw bad(what, "header length " + len + " exceeds the limit of " + MAX_HEADER + " bytes");
        }
        if (prefixLen + len > totalSize) {
            throw bad(what, "header length " + len + " runs past the end of the file (" + totalSize + " bytes)");
        }
        return (int) len;
    }

    private static long checkDataSize(Header h, long totalSize, String what) {
        long n = Tensor.elementCount(h.shape());
        long need = h.dtype().byteSize(n);
        long have = totalSize - h.dataOffset();
        if (have != need) {
            throw bad(what, "shape " + java.util.Arrays.toString(h.shape()) + " of " + descr(h.dtype())
                    + " needs " + need + " data bytes, the file has " + have);
        }
        return need;
    }

    private static Tensor toTensor(Header h, ByteBuffer data) {
        int width = h.dtype().byteWidth();
        if (h.bigEndian() && width > 1) {
            swapInPlace(data, width);
        }
        return Tensor.wrap(h.dtype(), h.shape(), data);
    }

    private static void swapInPlace(ByteBuffer b, int width) {
        int n = b.capacity();
        for (int i = 0; i < n; i += width) {
            for (int lo = i, hi = i + width - 1; lo < hi; lo++, hi--) {
                byte t = b.get(lo);
                b.put(lo, b.get(hi));
                b.put(hi, t);
            }
        }
    }

    private static Header parseHeader(byte[] hb, byte major, int dataOffset, String what) {
        String text = new String(hb, major == 3 ? StandardCharsets.UTF_8 : StandardCharsets.ISO_8859_1);
        Map<String, Object> dict;
        try {
            Object v = new LiteralParser(text).parseTop();
            if (!(v instanceof Map)) {
                throw new IllegalArgumentException("header is not a dictionary");
            }
            @SuppressWarnings("unchecked")
            Map<String, Object> m = (Map<String, Object>) v;
            dict = m;
        } catch (IllegalArgumentException e) {
            throw bad(what, "malformed header: " + e.getMessage());
        }
        if (!dict.keySet().equals(java.util.Set.of("descr", "fortran_order", "shape"))) {
            throw bad(what, "header must have exactly the keys descr, fortran_order, shape; it has " + dict.keySet());
        }
        Object descr = dict.get("descr");
        Object fortran = dict.get("fortran_order");
        Object shapeObj = dict.get("shape");
        if (!(descr instanceof String)) {
            throw bad(what, "header 'descr' must be a string (structured dtypes are not supported), got " + descr);
        }
        if (!(fortran instanceof Boolean)) {
            throw bad(what, "header 'fortran_order' must be True or False, got " + fortran);
        }
        if ((Boolean) fortran) {
            throw bad(what, "Fortran-order (column-major) arrays are not supported; save it with "
                    + "np.save(path, np.ascontiguousarray(a))");
        }
        if (!(shapeObj instanceof List)) {
            throw bad(what, "header 'shape' must be a tuple of integers, got " + shapeObj);
        }
        List<?> dims = (List<?>) shapeObj;
        int[] shape = new int[dims.size()];
        long count = 1;
        for (int i = 0; i < shape.length; i++) {
            Object d = dims.get(i);
            if (!(d instanceof Long) || (Long) d < 0 || (Long) d > Integer.MAX_VALUE) {
                throw bad(what, "header 'shape' dimension " + i + " is invalid: " + d);
            }
            shape[i] = (int) (long) (Long) d;
            count *= shape[i];
            if (count > Integer.MAX_VALUE) {
                throw bad(what, "shape " + dims + " has more than 2^31-1 elements");
            }
        }
        String d = (String) descr;
        if (d.length() < 3) {
            throw bad(what, "unsupported dtype '" + d + "'");
        }
        char order = d.charAt(0);
        DType dt = fromDescrCode(d.substring(1));
        if (dt == null || (order != '<' && order != '>' && order != '|')) {
            throw bad(what, "unsupported dtype '" + d + "' (Hedge reads " + SUPPORTED + ")");
        }
        if (order == '|' && dt.byteWidth() > 1) {
            throw bad(what, "dtype '" + d + "' needs a byte order ('<' or '>')");
        }
        if (count * dt.byteWidth() > Integer.MAX_VALUE) {
            throw bad(what, "shape " + dims + " of '" + d + "' is larger than 2 GiB");
        }
        return new Header(dt, order == '>', shape, dataOffset);
    }

    private static final String SUPPORTED = "f2 f4 f8 i1 i2 i4 i8 u1 u2 u4 u8 b1, little- or big-endian";

    private static DType fromDescrCode(String code) {
        switch (code) {
            case "f2": return DType.FLOAT16;
            case "f4": return DType.FLOAT32;
            case "f8": return DType.FLOAT64;
            case "i1": return DType.INT8;
            case "i2": return DType.INT16;
            case "i4": return DType.INT32;
            case "i8": return DType.INT64;
            case "u1": return DType.UINT8;
            case "u2": return DType.UINT16;
            case "u4": return DType.UINT32;
            case "u8": return DType.UINT64;
            case "b1": return DType.BOOL;
            default: return null;
        }
    }

    /** The .npy descr for a dtype, or null when NumPy has no such type (bfloat16, 4-bit integers). */
    public static String descr(DType dt) {
        switch (dt) {
            case FLOAT16: return "<f2";
            case FLOAT32: return "<f4";
            case FLOAT64: return "<f8";
            case INT8: return "|i1";
            case INT16: return "<i2";
            case INT32: return "<i4";
            case INT64: return "<i8";
            case UINT8: return "|u1";
            case UINT16: return "<u2";
            case UINT32: return "<u4";
            case UINT64: return "<u8";
            case BOOL: return "|b1";
            default: return null;
        }
    }

    /** Whether {@link #write} can store this dtype. */
    public static boolean supports(DType dt) {
        return descr(dt) != null;
    }

    /** The tensor as the bytes of a .npy file (version 1.0, or 2.0 if the header needs it). */
    public static byte[] toBytes(Tensor t) {
        byte[] header = header(t);
        int n = t.byteSize();
        byte[] out = new byte[header.length + n];
        System.arraycopy(header, 0, out, 0, header.length);
        t.data().get(0, out, header.length, n);
        return out;
    }

    /** Writes a .npy file atomically (a temporary file in the same directory, then a rename). */
    public static void write(Tensor t, Path file) throws IOException {
        byte[] header = header(t);
        Path abs = file.toAbsolutePath();
        Path tmp = Files.createTempFile(abs.getParent(), "." + abs.getFileName(), ".tmp");
        try {
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
                writeFully(ch, ByteBuffer.wrap(header));
                writeFully(ch, t.data().duplicate().position(0).limit(t.byteSize()));
                ch.force(true);
            }
            try {
                Files.move(tmp, abs, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, abs, StandardCopyOption.REPLACE_EXISTING);
            }
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    private static byte[] header(Tensor t) {
        if (t.isEncoded()) {
            throw new IllegalArgumentException("cannot write an encoded tensor as .npy; decode it first");
        }
        String d = descr(t.dtype());
        if (d == null) {
            throw new IllegalArgumentException(t.dtype() + " has no .npy equivalent; convert it first");
        }
        StringBuilder s = new StringBuilder("{'descr': '").append(d).append("', 'fortran_order': False, 'shape': (");
        int[] shape = t.shape();
        for (int i = 0; i < shape.length; i++) {
            s.append(i > 0 ? ", " : "").append(shape[i]);
        }
        s.append(shape.length == 1 ? ",), }" : "), }");
        byte[] dict = s.toString().getBytes(StandardCharsets.ISO_8859_1);
        int major = 1;
        int prefix = 10;
        int total = align(prefix + dict.length + 1);
        if (total - prefix > 0xffff) {
            // version 1.0 stores the header length in 16 bits
            major = 2;
            prefix = 12;
            total = align(prefix + dict.length + 1);
        }
        int headerLen = total - prefix;
        ByteBuffer b = ByteBuffer.allocate(total).order(ByteOrder.LITTLE_ENDIAN);
        b.put(MAGIC).put((byte) major).put((byte) 0);
        if (major == 1) {
            b.putShort((short) headerLen);
        } else {
            b.putInt(headerLen);
        }
        b.put(dict);
        while (b.position() < total - 1) {
            b.put((byte) ' ');
        }
        b.put((byte) '\n');
        return b.array();
    }

    private static int align(int n) {
        return (n + ALIGN - 1) / ALIGN * ALIGN;
    }

    private static void readFully(FileChannel ch, ByteBuffer dst, long pos) throws IOException {
        while (dst.hasRemaining()) {
            int r = ch.read(dst, pos);
            if (r < 0) {
                throw new EOFException("unexpected end of file");
            }
            pos += r;
        }
        dst.flip();
    }

    private static void writeFully(FileChannel ch, ByteBuffer src) throws IOException {
        while (src.hasRemaining()) {
            ch.write(src);
        }
    }

    private static InvalidInputException bad(String what, String msg) {
        return new InvalidInputException(what + ": " + msg);
    }

    /**
     * The subset of Python literal syntax .npy headers use: dicts, tuples, lists, strings, ints, True/False.
     * Anything else (calls, expressions) is rejected: the header is data, never evaluated.
     */
    private static final class LiteralParser {
        private final String s;
        private int i;
        private int depth;

        LiteralParser(String s) {
            this.s = s;
        }

        Object parseTop() {
            Object v = value();
            skipWs();
            if (i != s.length()) {
                throw new IllegalArgumentException("unexpected '" + s.charAt(i) + "' at offset " + i);
            }
            return v;
        }

        private void skipWs() {
            while (i < s.length() && Character.isWhitespace(s.charAt(i))) {
                i++;
            }
        }

        private char peek() {
            skipWs();
            if (i >= s.length()) {
                throw new IllegalArgumentException("unexpected end of header");
            }
            return s.charAt(i);
        }

        private void expect(char c) {
            if (peek() != c) {
                throw new IllegalArgumentException("expected '" + c + "' at offset " + i + ", found '" + s.charAt(i) + "'");
            }
            i++;
        }

        private Object value() {
            if (++depth > 16) {
                throw new IllegalArgumentException("nesting too deep");
            }
            try {
                char c = peek();
                if (c == '{') {
                    return dict();
                }
                if (c == '(' || c == '[') {
                    return sequence(c == '(' ? ')' : ']');
                }
                if (c == '\'' || c == '"') {
                    return string();
                }
                if (c == '-' || Character.isDigit(c)) {
                    return integer();
                }
                if (s.startsWith("True", i)) {
                    i += 4;
                    return Boolean.TRUE;
                }
                if (s.startsWith("False", i)) {
                    i += 5;
                    return Boolean.FALSE;
                }
                throw new IllegalArgumentException("unexpected '" + c + "' at offset " + i);
            } finally {
                depth--;
            }
        }

        private Map<String, Object> dict() {
            expect('{');
            Map<String, Object> m = new LinkedHashMap<>();
            while (peek() != '}') {
                Object k = value();
                if (!(k instanceof String)) {
                    throw new IllegalArgumentException("dictionary key " + k + " is not a string");
                }
                expect(':');
                if (m.put((String) k, value()) != null) {
                    throw new IllegalArgumentException("duplicate key '" + k + "'");
                }
                if (peek() == ',') {
                    i++;
                } else if (peek() != '}') {
                    throw new IllegalArgumentException("expected ',' or '}' at offset " + i);
                }
            }
            i++;
            return m;
        }

        private List<Object> sequence(char close) {
            i++;
            List<Object> l = new ArrayList<>();
            while (peek() != close) {
                l.add(value());
                if (peek() == ',') {
                    i++;
                } else if (peek() != close) {
                    throw new IllegalArgumentException("expected ',' or '" + close + "' at offset " + i);
                }
            }
            i++;
            return l;
        }

        private String string() {
            char q = s.charAt(i++);
            int start = i;
            while (i < s.length() && s.charAt(i) != q) {
                if (s.charAt(i) == '\\') {
                    throw new IllegalArgumentException("escape sequences in strings are not supported");
                }
                i++;
            }
            if (i >= s.length()) {
                throw new IllegalArgumentException("unterminated string");
            }
            return s.substring(start, i++);
        }

        private Long integer() {
            int start = i;
            if (s.charAt(i) == '-') {
                i++;
            }
            while (i < s.length() && Character.isDigit(s.charAt(i))) {
                i++;
            }
            if (i - start > 19 || i == start || (i == start + 1 && s.charAt(start) == '-')) {
                throw new IllegalArgumentException("bad integer at offset " + start);
            }
            return Long.parseLong(s.substring(start, i));
        }
    }
}
