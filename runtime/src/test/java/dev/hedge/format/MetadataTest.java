package dev.hedge.format;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.flatbuffers.FlatBufferBuilder;
import dev.hedge.ir.Graph;
import dev.hedge.ir.ModelDef;
import dev.hedge.ir.ValueInfo;
import dev.hedge.runtime.DType;
import dev.hedge.runtime.ModelFormatException;
import dev.hedge.runtime.Tensor;
import dev.hedge.schema.fb.KeyValue;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.zip.Deflater;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MetadataTest {

    @TempDir
    Path dir;

    private static String report() {
        StringBuilder s = new StringBuilder("{\"layers\":[");
        for (int i = 0; i < 200; i++) {
            s.append(i == 0 ? "" : ",").append("{\"name\":\"/").append(i).append("/Gemm\",\"sqnr\":").append(30 + i % 7)
                    .append(",\"bytes\":").append(1000 + i).append('}');
        }
        return s.append("]}").toString();
    }

    @Test
    void longValuesAreStoredDeflatedAndReadBackExactly() throws Exception {
        String report = report();
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put("producer", "hedge");
        meta.put(ModelDef.META_REPORT, report);
        meta.put("note", "short");
        Graph g = Graph.builder("g").initializer("w", Tensor.of(new float[] {1, 2}, 2))
                .addOutput(ValueInfo.of("w", DType.FLOAT32, 2)).build();
        Path f = dir.resolve("m.hedge");
        long size = HedgeWriter.write(new ModelDef(g, meta), f);
        String raw = new String(Files.readAllBytes(f), StandardCharsets.ISO_8859_1);
        assertFalse(raw.contains("\"layers\""), "the report is not stored as plain text");
        assertTrue(raw.contains("short"), "short values stay plain");
        assertTrue(size < report.length(), size + " bytes for a " + report.length() + "-byte report");
        Map<String, String> read = HedgeReader.read(f).model().metadata();
        assertEquals(meta, read);
    }

    private static KeyValue entry(byte[] deflated, String plain) {
        FlatBufferBuilder b = new FlatBufferBuilder();
        int key = b.createString("k");
        int value = plain == null ? 0 : b.createString(plain);
        int vec = KeyValue.createDeflatedValueVector(b, deflated);
        KeyValue.startKeyValue(b);
        KeyValue.addKey(b, key);
        KeyValue.addValue(b, value);
        KeyValue.addDeflatedValue(b, vec);
        b.finish(KeyValue.endKeyValue(b));
        return KeyValue.getRootAsKeyValue(b.dataBuffer());
    }

    private static byte[] deflate(byte[] data) {
        Deflater d = new Deflater();
        d.setInput(data);
        d.finish();
        byte[] out = new byte[data.length + 64];
        int n = d.deflate(out);
        d.end();
        return java.util.Arrays.copyOf(out, n);
    }

    @Test
    void malformedDeflatedValuesAreRejected() {
        byte[] good = deflate("hello metadata".getBytes(StandardCharsets.UTF_8));
        assertEquals("hello metadata", Metadata.value(entry(good, null)));
        var e = assertThrows(ModelFormatException.class,
                () -> Metadata.value(entry(java.util.Arrays.copyOf(good, good.length - 3), null)));
        assertTrue(e.getMessage().contains("truncated"), e.getMessage());
        e = assertThrows(ModelFormatException.class, () -> Metadata.value(entry(new byte[] {1, 2, 3, 4}, null)));
        assertTrue(e.getMessage().contains("malformed"), e.getMessage());
        e = assertThrows(ModelFormatException.class, () -> Metadata.value(entry(good, "both")));
        assertTrue(e.getMessage().contains("both"), e.getMessage());
        // 20 MB of zeros deflate to ~20 KB: past the 1000x ratio, refused before it is all inflated
        byte[] bomb = deflate(new byte[20 << 20]);
        e = assertThrows(ModelFormatException.class, () -> Metadata.value(entry(bomb, null)));
        assertTrue(e.getMessage().contains("inflates past"), e.getMessage());
        byte[] notUtf8 = deflate(new byte[] {(byte) 0xff, (byte) 0xfe, 0x41});
        e = assertThrows(ModelFormatException.class, () -> Metadata.value(entry(notUtf8, null)));
        assertTrue(e.getMessage().contains("UTF-8"), e.getMessage());
    }
}
