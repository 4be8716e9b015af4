package dev.hedge.format;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.hedge.ir.Attr;
import dev.hedge.ir.Graph;
import dev.hedge.ir.ModelDef;
import dev.hedge.ir.Node;
import dev.hedge.ir.ValueInfo;
import dev.hedge.ops.Op;
import dev.hedge.runtime.DType;
import dev.hedge.runtime.ModelFormatException;
import dev.hedge.runtime.Tensor;
import dev.hedge.schema.fb.Model;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class HedgeRoundTripTest {

    @TempDir
    Path dir;

    @Test
    void roundTripPreservesEveryFeature() throws IOException {
        ModelDef m = SampleModels.full();
        Path f = dir.resolve("full.hedge");
        long size = HedgeWriter.write(m, f);
        assertEquals(Files.size(f), size);
        HedgeReader.Loaded loaded = HedgeReader.read(f);
        assertEquals(size, loaded.fileBytes());
        ModelAssert.assertModelEquals(m, loaded.model());
    }

    @Test
    void constantsAreZeroCopyReadOnlyViewsOfTheMapping() throws IOException {
        Path f = dir.resolve("m.hedge");
        HedgeWriter.write(SampleModels.full(), f);
        Graph g = HedgeReader.read(f).model().graph();
        for (Map.Entry<String, Tensor> e : g.initializers().entrySet()) {
            ByteBuffer b = e.getValue().data();
            assertTrue(b.isDirect() && b.isReadOnly(), e.getKey() + " is not a read-only mapped view");
        }
    }

    @Test
    void payloadsAre64ByteAlignedPastTheFlatBufferAndDeduplicated() throws IOException {
        Path f = dir.resolve("m.hedge");
        HedgeWriter.write(SampleModels.full(), f);
        FilePatch p = new FilePatch(f);
        Model model = p.model;
        assertEquals(0, model.buffers(0).offset());
        assertEquals(0, model.buffers(0).length());
        long end = 0;
        for (int i = 1; i < model.buffersLength(); i++) {
            long off = model.buffers(i).offset();
            assertEquals(0, off % 64, "buffer " + i + " offset " + off);
            assertTrue(off >= end, "buffers overlap or are out of order");
            end = off + model.buffers(i).length();
        }
        assertEquals(Files.size(f), end);
        assertEquals(1, model.version().major());
        assertEquals(HedgeFormat.MINOR, model.version().minor());
        // dup_a and dup_b hold the same 16 bytes: one buffer
        assertEquals(p.tensor(0, "dup_a").buffer(), p.tensor(0, "dup_b").buffer());
        // no payload is stored twice
        Set<String> contents = new HashSet<>();
        for (int i = 1; i < model.buffersLength(); i++) {
            byte[] b = java.util.Arrays.copyOfRange(p.bytes, (int) model.buffers(i).offset(),
                    (int) (model.buffers(i).offset() + model.buffers(i).length()));
            assertTrue(contents.add(java.util.HexFormat.of().formatHex(b)), "buffer " + i + " is a duplicate");
        }
    }

    @Test
    void subgraphsAreNumberedMainFirstWithCaptures() throws IOException {
        Path f = dir.resolve("m.hedge");
        HedgeWriter.write(SampleModels.full(), f);
        FilePatch p = new FilePatch(f);
        assertEquals(List.of("main", "then_g", "body", "else_g"),
                Stream.of(0, 1, 2, 3).map(i -> p.graph(i).name()).toList());
        assertEquals(0, p.graph(0).capturesLength());
        assertEquals(List.of("x", "h", "M"), captures(p, 1));
        assertEquals(List.of("h", "t_one"), captures(p, 2));
        assertEquals(List.of("x"), captures(p, 3));
        // captures are tensors without data
        for (int g = 1; g < 4; g++) {
            for (int j = 0; j < p.graph(g).capturesLength(); j++) {
                assertEquals(0, p.graph(g).tensors(p.graph(g).captures(j)).buffer());
            }
        }
    }

    private static List<String> captures(FilePatch p, int g) {
        dev.hedge.schema.fb.Graph gr = p.graph(g);
        return java.util.stream.IntStream.range(0, gr.capturesLength())
                .mapToObj(j -> gr.tensors(gr.captures(j)).name()).toList();
    }

    @Test
    void rewritingAReadModelGivesTheSameBytes() throws IOException {
        Path a = dir.resolve("a.hedge");
        Path b = dir.resolve("b.hedge");
        HedgeWriter.write(SampleModels.full(), a);
        HedgeWriter.write(HedgeReader.read(a).model(), b);
        assertArrayEquals(Files.readAllBytes(a), Files.readAllBytes(b));
    }

    @Test
    void writeReplacesAnExistingFileAndLeavesNoTempFile() throws IOException {
        Path f = dir.resolve("m.hedge");
        Files.writeString(f, "old contents");
        HedgeWriter.write(SampleModels.full(), f);
        ModelAssert.assertModelEquals(SampleModels.full(), HedgeReader.read(f).model());
        try (Stream<Path> s = Files.list(dir)) {
            assertEquals(List.of(f), s.toList());
        }
    }

    @Test
    void invalidModelIsRefusedWithoutTouchingTheTargetOrLeavingTempFiles() throws IOException {
        Path f = dir.resolve("m.hedge");
        Files.writeString(f, "old contents");
        Graph g = Graph.builder("main")
                .addInput(ValueInfo.of("x", DType.FLOAT32, 2))
                .addNode(Node.of("relu", Op.Relu, List.of("nowhere"), List.of("y")))
                .addOutput(ValueInfo.of("y", DType.FLOAT32, 2))
                .build();
        ModelFormatException e = assertThrows(ModelFormatException.class,
                () -> HedgeWriter.write(new ModelDef(g, Map.of()), f));
        assertTrue(e.getMessage().contains("graph 0 node 0 'relu' input 0 reads 'nowhere'"), e.getMessage());
        assertEquals("old contents", Files.readString(f));
        try (Stream<Path> s = Files.list(dir)) {
            assertEquals(List.of(f), s.toList());
        }
    }

    @Test
    void nestingDeeperThanTheLimitIsRefused() {
        Graph leaf = Graph.builder("leaf").addOutput(ValueInfo.of("c", DType.BOOL)).build();
        Graph inner = leaf;
        for (int d = HedgeFormat.MAX_GRAPH_DEPTH; d >= 0; d--) {
            Graph.Builder b = Graph.builder("g" + d).addInput(ValueInfo.of("c", DType.BOOL));
            b.addNode(new Node("if" + d, Op.If, List.of("c"), List.of("o" + d),
                    Map.of("then_branch", new Attr.GraphValue(inner), "else_branch", new Attr.GraphValue(leaf))));
            b.addOutput(ValueInfo.of("o" + d, DType.BOOL));
            inner = b.build();
        }
        ModelDef m = new ModelDef(inner, Map.of());
        ModelFormatException e = assertThrows(ModelFormatException.class,
                () -> HedgeWriter.write(m, dir.resolve("deep.hedge")));
        assertTrue(e.getMessage().contains("levels deep; the limit is 64"), e.getMessage());
    }

    @Test
    void smallFileDecodingToHugeConstantsIsRefused() {
        // one empty block of 2^27 x 1 INT8: 128 MiB once densified, from a file of about a kilobyte
        int rows = 1 << 27;
        dev.hedge.ir.Sparse s = new dev.hedge.ir.Sparse(dev.hedge.ir.Sparse.Format.BLOCK_CSR, rows, 1, DType.INT32,
                SampleModels.indices(DType.INT32, new int[] {0, 0}), SampleModels.indices(DType.INT32, new int[0]), 0);
        Graph g = Graph.builder("g")
                .initializer("bomb", Tensor.encoded(DType.INT8, new int[] {rows, 1}, ByteBuffer.allocate(0), null, s,
                        null))
                .addOutput(ValueInfo.of("bomb", DType.INT8, rows, 1))
                .build();
        ModelFormatException e = assertThrows(ModelFormatException.class,
                () -> HedgeWriter.write(new ModelDef(g, Map.of()), dir.resolve("bomb.hedge")));
        assertTrue(e.getMessage().contains("tensor 0 'bomb': encoded constants decode to more than 1024 times the"
                + " file size plus 64 MiB"), e.getMessage());
    }

    @Test
    void minimalModelsRoundTrip() throws IOException {
        Graph g = Graph.builder("")
                .addInput(ValueInfo.of("x", DType.UINT4, 0))
                .addNode(Node.of("", Op.Identity, List.of("x"), List.of("x2")))
                .addOutput(ValueInfo.of("x2", DType.UINT4, 0))
                .build();
        ModelDef m = new ModelDef(g, Map.of());
        Path f = dir.resolve("min.hedge");
        long size = HedgeWriter.write(m, f);
        assertTrue(size < 1024, "no data section expected, got " + size + " bytes");
        ModelAssert.assertModelEquals(m, HedgeReader.read(f).model());
    }
}
