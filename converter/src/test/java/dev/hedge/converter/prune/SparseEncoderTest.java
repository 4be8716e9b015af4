package dev.hedge.converter.prune;

import static dev.hedge.converter.prune.PruneGraphs.node;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.hedge.format.Decoding;
import dev.hedge.format.HedgeReader;
import dev.hedge.format.HedgeWriter;
import dev.hedge.ir.Codebook;
import dev.hedge.ir.Graph;
import dev.hedge.ir.ModelDef;
import dev.hedge.ir.Sparse;
import dev.hedge.ir.ValueInfo;
import dev.hedge.ops.Op;
import dev.hedge.runtime.DType;
import dev.hedge.runtime.QuantParams;
import dev.hedge.runtime.Tensor;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SparseEncoderTest {

    @TempDir
    Path dir;

    /** Random float32 [rows, cols] with about {@code density} of the entries non-zero. */
    private static Tensor sparse(long seed, int rows, int cols, double density) {
        Random r = new Random(seed);
        float[] v = new float[rows * cols];
        for (int i = 0; i < v.length; i++) {
            v[i] = r.nextDouble() < density ? (float) r.nextGaussian() : 0f;
        }
        return Tensor.of(v, rows, cols);
    }

    private static Graph withWeight(Tensor w) {
        Graph.Builder b = PruneGraphs.graph("x", 1, w.dim(1));
        b.initializer("w", w);
        b.addNode(node("fc", Op.Gemm, "x,w->y", "transB", 1));
        b.addOutput(new ValueInfo("y", DType.FLOAT32, null));
        return b.build();
    }

    /** Writes a graph holding {@code t}, reads it back, densifies the constant. */
    private Tensor roundTrip(Tensor encoded) throws Exception {
        Path p = dir.resolve("m.hedge");
        HedgeWriter.write(new ModelDef(withWeight(encoded), Map.of()), p);
        Tensor back = HedgeReader.read(p).model().graph().initializers().get("w");
        assertEquals(encoded.sparse().format(), back.sparse().format());
        assertEquals(encoded.sparse().indexType(), back.sparse().indexType());
        return Decoding.densify(back);
    }

    private static void assertSameRaw(Tensor a, Tensor b) {
        assertEquals(a.dtype(), b.dtype());
        assertArrayEquals(a.shape(), b.shape());
        for (int i = 0; i < a.elementCount(); i++) {
            assertEquals(a.getDouble(i), b.getDouble(i), 0, "element " + i);
        }
    }

    @Test
    void csrAndBlockCsrRoundTripThroughTheFile() throws Exception {
        Tensor dense = sparse(1, 12, 40, 0.3);
        for (int[] blk : List.of(new int[] {1, 1}, new int[] {1, 4}, new int[] {2, 2}, new int[] {4, 8},
                new int[] {3, 5})) {
            Tensor enc = SparseEncoder.encode(dense, blk[0], blk[1]);
            assertEquals(blk[0] * blk[1] == 1 ? Sparse.Format.CSR : Sparse.Format.BLOCK_CSR, enc.sparse().format());
            assertSameRaw(dense, roundTrip(enc));
            assertSameRaw(dense, Decoding.densify(enc));
        }
    }

    @Test
    void quantizedInt8AndPackedFourBitKeepTheirRawValuesAndScales() throws Exception {
        Random r = new Random(2);
        byte[] q = new byte[8 * 16];
        for (int i = 0; i < q.length; i++) {
            q[i] = r.nextDouble() < 0.3 ? (byte) (r.nextInt(255) - 127) : 0;
        }
        float[] scales = new float[8];
        java.util.Arrays.fill(scales, 0.02f);
        Tensor int8 = Tensor.ofBytes(DType.INT8, q, 8, 16).withQuant(QuantParams.perAxis(scales, new long[8], 0));
        Tensor enc = SparseEncoder.encode(int8, 1, 1);
        Tensor back = roundTrip(enc);
        assertSameRaw(int8, back);
        assertArrayEquals(scales, back.quant().scales());

        ByteBuffer packed = ByteBuffer.allocateDirect(8 * 16 / 2);
        for (int i = 0; i < packed.capacity(); i++) {
            packed.put(i, (byte) (r.nextDouble() < 0.5 ? 0 : r.nextInt(256)));
        }
        Tensor int4 = Tensor.wrap(DType.INT4, new int[] {8, 16}, packed);
        assertSameRaw(int4, Decoding.densify(SparseEncoder.encode(int4, 1, 2)));
    }

    @Test
    void codebookIndicesAreStoredForEntriesWhosePaletteValueIsNotZero() {
        // 2-bit palette {0, 0.5, -1, 2}; indices packed LSB first
        Codebook cb = new Codebook(new float[] {0f, 0.5f, -1f, 2f}, 2, -1);
        Random r = new Random(3);
        ByteBuffer idx = ByteBuffer.allocateDirect(16);
        float[] expected = new float[64];
        for (int i = 0; i < 64; i++) {
            int v = r.nextDouble() < 0.6 ? 0 : 1 + r.nextInt(3);
            idx.put(i / 4, (byte) (idx.get(i / 4) | v << (2 * (i % 4))));
            expected[i] = cb.entry(v);
        }
        Tensor t = Tensor.encoded(DType.FLOAT32, new int[] {4, 16}, idx, null, null, cb);
        Tensor enc = SparseEncoder.encode(t, 1, 1);
        assertEquals((enc.sparse().nnzBlocks() * 2 + 7) / 8, enc.data().capacity());
        Tensor dense = Decoding.densify(enc);
        for (int i = 0; i < 64; i++) {
            assertEquals(expected[i], dense.getFloat(i), 0);
        }
    }

    @Test
    void smallestIndexTypeThatHoldsRowPointersAndColumns() {
        assertEquals(DType.UINT8, SparseEncoder.encode(sparse(3, 16, 64, 0.2), 1, 1).sparse().indexType());
        // 256 x 64 at 30%: about 4900 stored entries: row_ptr needs 16 bits though columns fit in 8
        SparseEncoder.Encoding e = SparseEncoder.plan(sparse(4, 256, 64, 0.3), 1, 1);
        assertEquals(DType.INT16, e.indexType());
        assertEquals(257 * 2, e.rowPtrBytes());
        assertEquals(e.nnzBlocks() * 2L, e.colIdxBytes());
        assertEquals(e.nnzBlocks() * 4L, e.valueBytes());
        assertEquals(DType.UINT16, SparseEncoder.plan(sparse(5, 2, 40000, 0.6), 1, 1).indexType());
        assertEquals(DType.INT32, SparseEncoder.plan(sparse(6, 2, 70000, 0.6), 1, 1).indexType());
        assertNull(SparseEncoder.plan(sparse(7, 6, 10, 0.5), 4, 1), "4 rows do not tile 6");
    }

    @Test
    void payloadBytesAreTheBytesTheFileStores() throws Exception {
        Tensor dense = sparse(8, 64, 64, 0.25);
        Path densePath = dir.resolve("dense.hedge");
        long denseFile = HedgeWriter.write(new ModelDef(withWeight(dense), Map.of()), densePath);
        SparseEncoder.Result r = SparseEncoder.encodeGraph(withWeight(dense), SparseEncoder.DEFAULT_BLOCKS);
        SparseEncoder.TensorStats s = r.tensors().get(0);
        assertEquals(64 * 64 * 4, s.denseBytes());
        Tensor enc = r.graph().initializers().get("w");
        assertEquals(s.storedBytes(), SparseEncoder.payloadBytes(enc));
        assertEquals(s.encoding().payloadBytes(), enc.data().capacity() + enc.sparse().rowPtr().limit()
                + enc.sparse().colIdx().limit());
        Path sparsePath = dir.resolve("sparse.hedge");
        long sparseFile = HedgeWriter.write(new ModelDef(r.graph(), Map.of()), sparsePath);
        assertEquals(Files.size(sparsePath), sparseFile);
        // the data section shrinks by exactly the aligned payload difference; the FlatBuffer grows by the
        // sparse table (well under 200 bytes)
        long saved = denseFile - sparseFile;
        long alignedDiff = SparseEncoder.align(s.denseBytes()) - s.encoding().alignedBytes();
        assertTrue(saved <= alignedDiff && saved > alignedDiff - 200, saved + " vs " + alignedDiff);
    }

    @Test
    void denserThanWorthwhileStaysDense() {
        SparseEncoder.Result r = SparseEncoder.encodeGraph(withWeight(sparse(9, 32, 32, 0.9)),
                SparseEncoder.DEFAULT_BLOCKS);
        assertNull(r.tensors().get(0).encoding());
        assertEquals(r.denseBytes(), r.storedBytes());
        assertTrue(!r.graph().initializers().get("w").isEncoded());
        assertThrows(IllegalArgumentException.class, () -> SparseEncoder.encode(sparse(1, 6, 10, 0.5), 4, 1));
    }
}
