package dev.hedge.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.hedge.runtime.DType;
import dev.hedge.runtime.Half;
import dev.hedge.runtime.InvalidInputException;
import dev.hedge.runtime.Tensor;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** .npy reading and writing against files written by NumPy 1.24 (see make_fixtures.py beside them). */
class NpyTest {

    @TempDir
    Path tmp;

    /** The values make_fixtures.py wrote, as exact decimal strings (u8's max does not fit in a long). */
    private static final Map<String, String[]> VALUES = Map.ofEntries(
            Map.entry("f2", new String[] {"1.0", "-0.5", "65504.0"}),
            Map.entry("f4", new String[] {"0.0", "1.5", "-2.25", "1.0E30", "-0.0", "7.0"}),
            Map.entry("f8", new String[] {"0.1", "-1.0E300", "3.0", "4.5"}),
            Map.entry("i1", new String[] {"-128", "127", "0", "5"}),
            Map.entry("i2", new String[] {"-32768", "32767", "1"}),
            Map.entry("i4", new String[] {"-2147483648", "2147483647", "42"}),
            Map.entry("i8", new String[] {"-9223372036854775808", "9223372036854775807", "7"}),
            Map.entry("u1", new String[] {"0", "255", "7"}),
            Map.entry("u2", new String[] {"0", "65535", "9"}),
            Map.entry("u4", new String[] {"0", "4294967295", "11"}),
            Map.entry("u8", new String[] {"0", "18446744073709551615", "13"}),
            Map.entry("b1", new String[] {"1", "0", "1"}));

    private static final Map<String, DType> TYPES = Map.ofEntries(
            Map.entry("f2", DType.FLOAT16), Map.entry("f4", DType.FLOAT32), Map.entry("f8", DType.FLOAT64),
            Map.entry("i1", DType.INT8), Map.entry("i2", DType.INT16), Map.entry("i4", DType.INT32),
            Map.entry("i8", DType.INT64), Map.entry("u1", DType.UINT8), Map.entry("u2", DType.UINT16),
            Map.entry("u4", DType.UINT32), Map.entry("u8", DType.UINT64), Map.entry("b1", DType.BOOL));

    private static byte[] resource(String name) {
        try (InputStream in = NpyTest.class.getResourceAsStream(name)) {
            if (in == null) {
                throw new IllegalStateException("missing fixture " + name);
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private Path file(String name) throws IOException {
        Path p = tmp.resolve(name);
        Files.write(p, resource(name));
        return p;
    }

    private static String element(Tensor t, int i) {
        switch (t.dtype()) {
            case FLOAT16: return Float.toString(Half.toFloat(t.data().getShort(i * 2)));
            case FLOAT32: return Float.toString(t.data().getFloat(i * 4));
            case FLOAT64: return Double.toString(t.data().getDouble(i * 8));
            case UINT64: return new BigInteger(Long.toUnsignedString(t.data().getLong(i * 8))).toString();
            default: return Long.toString(t.getLong(i));
        }
    }

    private static void assertValues(String code, Tensor t) {
        assertEquals(TYPES.get(code), t.dtype(), code);
        String[] want = VALUES.get(code);
        assertArrayEquals(new int[] {want.length}, t.shape(), code);
        for (int i = 0; i < want.length; i++) {
            assertEquals(want[i], element(t, i), code + "[" + i + "]");
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"f2", "f4", "f8", "i1", "i2", "i4", "i8", "u1", "u2", "u4", "u8", "b1"})
    void readsEveryDtypeLittleEndian(String code) throws IOException {
        assertValues(code, Npy.read(file(code + ".npy")));
        assertValues(code, Npy.read(resource(code + ".npy"), code));
    }

    @ParameterizedTest
    @ValueSource(strings = {"f2", "f4", "f8", "i2", "i4", "i8", "u2", "u4", "u8"})
    void convertsBigEndian(String code) throws IOException {
        Tensor t = Npy.read(file(code + "_be.npy"));
        assertValues(code, t);
        assertEquals(ByteOrder.LITTLE_ENDIAN, t.data().order());
    }

    @ParameterizedTest
    @ValueSource(strings = {"f2", "f4", "f8", "i1", "i2", "i4", "i8", "u1", "u2", "u4", "u8", "b1"})
    void writesTheSameBytesAsNumpy(String code) throws IOException {
        byte[] numpy = resource(code + ".npy");
        Tensor t = Npy.read(numpy, code);
        assertArrayEquals(numpy, Npy.toBytes(t), code);
        Path out = tmp.resolve("out-" + code + ".npy");
        Npy.write(t, out);
        assertArrayEquals(numpy, Files.readAllBytes(out), code);
    }

    @Test
    void shapesMatrixScalarAndEmpty() throws IOException {
        Tensor m = Npy.read(file("f4_2x3.npy"));
        assertArrayEquals(new int[] {2, 3}, m.shape());
        assertArrayEquals(new float[] {0f, 1.5f, -2.25f, 1e30f, -0f, 7f}, m.toFloatArray());
        assertArrayEquals(resource("f4_2x3.npy"), Npy.toBytes(m));

        Tensor s = Npy.read(file("scalar.npy"));
        assertEquals(0, s.rank());
        assertEquals(3.5f, s.getFloat(0));
        assertArrayEquals(resource("scalar.npy"), Npy.toBytes(s));

        Tensor e = Npy.read(file("empty.npy"));
        assertArrayEquals(new int[] {0, 3}, e.shape());
        assertArrayEquals(resource("empty.npy"), Npy.toBytes(e));
    }

    @ParameterizedTest
    @ValueSource(strings = {"i4_v2.npy", "i4_v3.npy"})
    void readsVersions2And3(String name) throws IOException {
        assertValues("i4", Npy.read(file(name)));
    }

    @Test
    void refusesFortranOrder() throws IOException {
        Path f = file("fortran.npy");
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> Npy.read(f));
        assertTrue(e.getMessage().contains("Fortran-order"), e.getMessage());
        assertTrue(e.getMessage().contains(f.toString()), e.getMessage());
    }

    @Test
    void writeRefusesTypesNumpyLacks() {
        Tensor bf = Tensor.allocate(DType.BFLOAT16, 2);
        assertFalse(Npy.supports(DType.BFLOAT16));
        assertFalse(Npy.supports(DType.INT4));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Npy.write(bf, tmp.resolve("x.npy")));
        assertTrue(e.getMessage().contains("BFLOAT16"), e.getMessage());
        assertFalse(Files.exists(tmp.resolve("x.npy")));
    }

    @Test
    void writeReplacesAtomicallyAndLeavesNoTemporaryFiles() throws IOException {
        Path out = tmp.resolve("a.npy");
        Files.writeString(out, "old");
        Npy.write(Tensor.of(new long[] {1, 2, 3}, 3), out);
        assertArrayEquals(new long[] {1, 2, 3}, Npy.read(out).toLongArray());
        try (var files = Files.list(tmp)) {
            assertEquals(1, files.count());
        }
    }

    /** A v1 file with this header text (padded like NumPy does) followed by {@code dataBytes} zero bytes. */
    private static byte[] craft(String dict, int dataBytes) {
        byte[] d = dict.getBytes(StandardCharsets.ISO_8859_1);
        int total = (10 + d.length + 1 + 63) / 64 * 64;
        ByteBuffer b = ByteBuffer.allocate(total + dataBytes).order(ByteOrder.LITTLE_ENDIAN);
        b.put(new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0}).putShort((short) (total - 10)).put(d);
        while (b.position() < total - 1) {
            b.put((byte) ' ');
        }
        b.put((byte) '\n');
        return b.array();
    }

    private String failure(byte[] bytes) throws IOException {
        Path p = tmp.resolve("bad.npy");
        Files.write(p, bytes);
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> Npy.read(p));
        assertTrue(e.getMessage().startsWith(p.toString() + ": "), e.getMessage());
        InvalidInputException e2 = assertThrows(InvalidInputException.class, () -> Npy.read(bytes, "mem"));
        assertEquals(e.getMessage().substring(p.toString().length()), e2.getMessage().substring(3));
        return e.getMessage();
    }

    private void assertFails(byte[] bytes, String expectedPart) throws IOException {
        String msg = failure(bytes);
        assertTrue(msg.contains(expectedPart), "'" + msg + "' should contain '" + expectedPart + "'");
    }

    @Test
    void validCraftedHeaderReads() {
        Tensor t = Npy.read(craft("{'shape': (2,), \"descr\": '<i2', 'fortran_order': False}", 4), "crafted");
        assertArrayEquals(new int[] {2}, t.shape());
        assertEquals(DType.INT16, t.dtype());
    }

    @Test
    void malformedFiles() throws IOException {
        assertFails(new byte[0], "too short");
        assertFails(new byte[] {(byte) 0x93, 'N', 'U', 'M'}, "too short");
        assertFails("PK\u0003\u0004 this is a zip file".getBytes(StandardCharsets.ISO_8859_1), "bad magic");
        byte[] v9 = craft("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }", 4);
        v9[6] = 9;
        assertFails(v9, "version 9.0");
        byte[] longHeader = craft("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }", 4);
        longHeader[8] = (byte) 0xff;
        longHeader[9] = (byte) 0x0f;
        assertFails(longHeader, "runs past the end");
        byte[] hugeHeader = craft("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }", 4);
        hugeHeader[8] = (byte) 0xff;
        hugeHeader[9] = (byte) 0xff;
        assertFails(hugeHeader, "exceeds the limit");
    }

    @Test
    void malformedHeaders() throws IOException {
        assertFails(craft("{'descr': '<f4', 'shape': (1,), }", 4), "exactly the keys");
        assertFails(craft("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), 'x': 1}", 4), "exactly the keys");
        assertFails(craft("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), 'shape': (1,)}", 4),
                "duplicate key");
        assertFails(craft("{'descr': '<f4', 'fortran_order': 0, 'shape': (1,), }", 4), "fortran_order");
        assertFails(craft("{'descr': '<f4', 'fortran_order': False, 'shape': (-1,), }", 0), "dimension 0");
        assertFails(craft("{'descr': '<f4', 'fortran_order': False, 'shape': ('a',), }", 0), "dimension 0");
        assertFails(craft("{'descr': '<f4', 'fortran_order': False, 'shape': 3, }", 12), "tuple of integers");
        assertFails(craft("{'descr': '<f4', 'fortran_order': False, 'shape': (1,)", 4), "malformed header");
        assertFails(craft("{'descr': '<f4, 'fortran_order': False, 'shape': (1,), }", 4), "malformed header");
        assertFails(craft("{'descr': __import__('os'), 'fortran_order': False, 'shape': (1,), }", 4),
                "malformed header");
        assertFails(craft("{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999,), }", 4),
                "malformed header");
        assertFails(craft("[" .repeat(40) + "]".repeat(40), 0), "nesting too deep");
        assertFails(craft("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,), }", 4),
                "structured dtypes");
    }

    @Test
    void unsupportedDtypes() throws IOException {
        assertFails(craft("{'descr': '<c8', 'fortran_order': False, 'shape': (1,), }", 8), "unsupported dtype '<c8'");
        assertFails(craft("{'descr': '<U3', 'fortran_order': False, 'shape': (1,), }", 12), "unsupported dtype");
        assertFails(craft("{'descr': '=f4', 'fortran_order': False, 'shape': (1,), }", 4), "unsupported dtype");
        assertFails(craft("{'descr': '|f4', 'fortran_order': False, 'shape': (1,), }", 4), "byte order");
    }

    @Test
    void sizesAreCheckedBeforeAllocating() throws IOException {
        assertFails(craft("{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }", 8), "needs 12 data bytes");
        assertFails(craft("{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }", 16), "the file has 16");
        // Would need 4 GB (elements fit in an int, bytes do not) or 10^10 elements: refused, never allocated.
        assertFails(craft("{'descr': '<f4', 'fortran_order': False, 'shape': (1000000000,), }", 4), "2 GiB");
        assertFails(craft("{'descr': '<f8', 'fortran_order': False, 'shape': (100000, 100000), }", 4), "2^31-1");
        assertFails(craft("{'descr': '<f8', 'fortran_order': False, 'shape': (300000000,), }", 4), "2 GiB");
        assertFails(craft("{'descr': '<i8', 'fortran_order': False, 'shape': (1000,), }", 4), "needs 8000 data bytes");
    }
}
