package dev.hedge.format;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.hedge.ir.Codebook;
import dev.hedge.ir.Sparse;
import dev.hedge.runtime.DType;
import dev.hedge.runtime.Half;
import dev.hedge.runtime.ModelFormatException;
import dev.hedge.runtime.QuantParams;
import dev.hedge.runtime.Tensor;
import dev.hedge.ir.Graph;
import dev.hedge.ir.ModelDef;
import dev.hedge.ir.ValueInfo;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.io.TempDir;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Decoding against a reference: dense tensors are encoded here by straightforward test-side encoders, and
 * densify must give back exactly the dense bytes (or the palette values the reference picks).
 */
class DecodingTest {

    private final Random r = new Random(42);

    /** Raw bits of element i (nibble for 4-bit types). */
    private static long raw(Tensor t, int i) {
        switch (t.dtype().bits()) {
            case 4: return t.getLong(i) & 0xf;
            case 8: return t.data().get(i) & 0xff;
            case 16: return t.data().getShort(i * 2) & 0xffff;
            case 32: return t.data().getInt(i * 4) & 0xffffffffL;
            default: return t.data().getLong(i * 8);
        }
    }

    /** A dense tensor with about {@code density} of its elements non-zero (random bits). */
    private Tensor sparseDense(DType dt, double density, int... shape) {
        Tensor t = Tensor.allocate(dt, shape);
        for (int i = 0; i < t.elementCount(); i++) {
            if (r.nextDouble() < density) {
                long v = dt.bits() == 4 ? 1 + r.nextInt(15) : r.nextLong() | 1;
                if (dt.bits() == 4) {
                    t.setLong(i, v);
                } else {
                    byte[] b = new byte[dt.byteWidth()];
                    for (int k = 0; k < b.length; k++) {
                        b[k] = (byte) (v >>> (8 * k));
                    }
                    t.data().put(i * b.length, b);
                }
            }
        }
        return t;
    }

    /** Reference block-CSR encoder: keeps every block with a non-zero element. */
    private static Tensor encode(Tensor dense, int br, int bc, DType indexType) {
        int[] shape = dense.shape();
        int rows = shape[0];
        int cols = 1;
        for (int d = 1; d < shape.length; d++) {
            cols *= shape[d];
        }
        List<Integer> rowPtr = new ArrayList<>(List.of(0));
        List<Integer> colIdx = new ArrayList<>();
        List<Long> values = new ArrayList<>();
        for (int bi = 0; bi < rows / br; bi++) {
            for (int bj = 0; bj < cols / bc; bj++) {
                boolean any = false;
                for (int i = 0; i < br; i++) {
                    for (int j = 0; j < bc; j++) {
                        any |= raw(dense, (bi * br + i) * cols + bj * bc + j) != 0;
                    }
                }
                if (any) {
                    colIdx.add(bj);
                    for (int i = 0; i < br; i++) {
                        for (int j = 0; j < bc; j++) {
                            values.add(raw(dense, (bi * br + i) * cols + bj * bc + j));
                        }
                    }
                }
            }
            rowPtr.add(colIdx.size());
        }
        DType dt = dense.dtype();
        ByteBuffer payload = ByteBuffer.allocate((int) dt.byteSize(values.size())).order(ByteOrder.LITTLE_ENDIAN);
        for (int v = 0; v < values.size(); v++) {
            long x = values.get(v);
            if (dt.bits() == 4) {
                payload.put(v / 2, (byte) (payload.get(v / 2) | (x << (4 * (v % 2)))));
            } else {
                for (int k = 0; k < dt.byteWidth(); k++) {
                    payload.put(v * dt.byteWidth() + k, (byte) (x >>> (8 * k)));
                }
            }
        }
        Sparse s = new Sparse(br == 1 && bc == 1 ? Sparse.Format.CSR : Sparse.Format.BLOCK_CSR, br, bc, indexType,
                SampleModels.indices(indexType, rowPtr.stream().mapToInt(Integer::intValue).toArray()),
                SampleModels.indices(indexType, colIdx.stream().mapToInt(Integer::intValue).toArray()),
                colIdx.size());
        return Tensor.encoded(dt, shape, payload, dense.quant(), s, null);
    }

    /** Reference bitmap encoder: one bit per element, row-major, LSB first; values in row-major order. */
    private static Tensor encodeBitmask(Tensor dense, DType indexType) {
        int[] shape = dense.shape();
        int rows = shape[0];
        int cols = dense.elementCount() / rows;
        byte[] bitmap = new byte[(rows * cols + 7) / 8];
        int[] rowPtr = new int[rows + 1];
        List<Long> values = new ArrayList<>();
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                long x = raw(dense, r * cols + c);
                if (x != 0) {
                    int i = r * cols + c;
                    bitmap[i / 8] |= (byte) (1 << (i % 8));
                    values.add(x);
                }
            }
            rowPtr[r + 1] = values.size();
        }
        DType dt = dense.dtype();
        ByteBuffer payload = ByteBuffer.allocate((int) dt.byteSize(values.size())).order(ByteOrder.LITTLE_ENDIAN);
        for (int v = 0; v < values.size(); v++) {
            long x = values.get(v);
            if (dt.bits() == 4) {
                payload.put(v / 2, (byte) (payload.get(v / 2) | (x << (4 * (v % 2)))));
            } else {
                for (int k = 0; k < dt.byteWidth(); k++) {
                    payload.put(v * dt.byteWidth() + k, (byte) (x >>> (8 * k)));
                }
            }
        }
        Sparse s = new Sparse(Sparse.Format.BITMASK, 1, 1, indexType, SampleModels.indices(indexType, rowPtr),
                ByteBuffer.wrap(bitmap).order(ByteOrder.LITTLE_ENDIAN), values.size());
        return Tensor.encoded(dt, shape, payload, dense.quant(), s, null);
    }

    /** Reference LSB-first bit packer, one bit at a time. */
    private static ByteBuffer pack(int[] idx, int bits) {
        byte[] out = new byte[(idx.length * bits + 7) / 8];
        for (int i = 0; i < idx.length; i++) {
            for (int b = 0; b < bits; b++) {
                int pos = i * bits + b;
                out[pos / 8] |= (byte) (((idx[i] >> b) & 1) << (pos % 8));
            }
        }
        return ByteBuffer.wrap(out);
    }

    private void assertDensifiesTo(Tensor dense, Tensor encoded) {
        Tensor out = Decoding.densify(encoded);
        assertEquals(dense.dtype(), out.dtype());
        assertArrayEquals(dense.shape(), out.shape());
        assertTrue(!out.isEncoded());
        assertArrayEquals(ModelAssert.bytes(dense.data(), dense.byteSize()),
                ModelAssert.bytes(out.data(), out.byteSize()), "dense bytes of " + dense);
    }

    @Test
    void denseTensorsPassThrough() {
        Tensor t = Tensor.of(new float[] {1, 2}, 2);
        assertSame(t, Decoding.densify(t));
    }

    @Test
    void csrOfEveryDtypeAndIndexType() {
        DType[] indexTypes = {DType.INT32, DType.INT16, DType.UINT16, DType.UINT8};
        int k = 0;
        for (DType dt : DType.values()) {
            Tensor dense = sparseDense(dt, 0.3, 6, 2, 5);
            assertDensifiesTo(dense, encode(dense, 1, 1, indexTypes[k++ % indexTypes.length]));
        }
    }

    @Test
    void blockCsr() {
        for (DType dt : new DType[] {DType.FLOAT32, DType.INT8, DType.INT4, DType.UINT4, DType.FLOAT64}) {
            Tensor dense = sparseDense(dt, 0.08, 8, 12);
            assertDensifiesTo(dense, encode(dense, 2, 4, DType.INT32));
            assertDensifiesTo(dense, encode(dense, 4, 3, DType.UINT8));
        }
    }

    @Test
    void allZeroAndEmptyMatrices() {
        Tensor zeros = Tensor.allocate(DType.FLOAT32, 4, 4);
        assertDensifiesTo(zeros, encode(zeros, 2, 2, DType.INT32));
        Tensor empty = Tensor.allocate(DType.INT8, 0, 5);
        assertDensifiesTo(empty, encode(empty, 1, 1, DType.INT16));
    }

    @Test
    void quantizationIsKept() {
        Tensor dense = sparseDense(DType.INT8, 0.5, 4, 6)
                .withQuant(QuantParams.perAxis(new float[] {1, 2, 3, 4}, new long[] {0, 1, 2, 3}, 0));
        Tensor out = Decoding.densify(encode(dense, 1, 1, DType.INT32));
        assertEquals(dense.quant(), out.quant());
    }

    @Test
    void codebookWithOnePalette() {
        for (int bits = 1; bits <= 8; bits++) {
            int[] shape = {7, 3};
            int[] idx = r.ints(21, 0, 1 << bits).toArray();
            float[] palette = SampleModels.palette(1 << bits, r);
            Tensor t = Tensor.encoded(DType.FLOAT32, shape, pack(idx, bits), null, null,
                    new Codebook(palette, bits, -1));
            Tensor out = Decoding.densify(t);
            assertEquals(DType.FLOAT32, out.dtype());
            for (int i = 0; i < idx.length; i++) {
                assertEquals(palette[idx[i]], out.getFloat(i), "bits " + bits + " element " + i);
            }
        }
    }

    @Test
    void codebookWithAPalettePerSlice() {
        int[] shape = {2, 3, 4};
        int bits = 3;
        for (int axis = 0; axis < 3; axis++) {
            int[] idx = r.ints(24, 0, 8).toArray();
            float[] palette = SampleModels.palette(8 * shape[axis], r);
            Tensor out = Decoding.densify(Tensor.encoded(DType.FLOAT32, shape, pack(idx, bits), null, null,
                    new Codebook(palette, bits, axis)));
            int i = 0;
            for (int a = 0; a < 2; a++) {
                for (int b = 0; b < 3; b++) {
                    for (int c = 0; c < 4; c++, i++) {
                        int slice = axis == 0 ? a : axis == 1 ? b : c;
                        assertEquals(palette[slice * 8 + idx[i]], out.getFloat(i), "axis " + axis + " at " + i);
                    }
                }
            }
        }
    }

    @Test
    void codebookIntoHalfPrecision() {
        int[] idx = {0, 1, 2, 3};
        float[] palette = {0.1f, -2.5f, 1e-3f, 65504f};
        Tensor out = Decoding.densify(Tensor.encoded(DType.FLOAT16, new int[] {4}, pack(idx, 2), null, null,
                new Codebook(palette, 2, -1)));
        assertEquals(DType.FLOAT16, out.dtype());
        for (int i = 0; i < 4; i++) {
            assertEquals(Half.toFloat(Half.fromFloat(palette[i])), out.getFloat(i));
        }
    }

    @Test
    void sparseValuesAreCodebookIndices() {
        // 4x4 with per-row palettes (axis 0), 2x2 blocks
        int bits = 2;
        float[] palette = SampleModels.palette(4 * 4, r);
        int[] rowPtr = {0, 1, 3};
        int[] colIdx = {1, 0, 1};
        int[] stored = r.ints(12, 0, 4).toArray();
        Sparse s = new Sparse(Sparse.Format.BLOCK_CSR, 2, 2, DType.INT32, SampleModels.indices(DType.INT32, rowPtr),
                SampleModels.indices(DType.INT32, colIdx), 3);
        Tensor out = Decoding.densify(Tensor.encoded(DType.FLOAT32, new int[] {4, 4}, pack(stored, bits), null, s,
                new Codebook(palette, bits, 0)));
        float[] expected = new float[16];
        int v = 0;
        for (int bi = 0; bi < 2; bi++) {
            for (int k = rowPtr[bi]; k < rowPtr[bi + 1]; k++) {
                for (int i = 0; i < 2; i++) {
                    for (int j = 0; j < 2; j++, v++) {
                        int row = bi * 2 + i;
                        expected[row * 4 + colIdx[k] * 2 + j] = palette[row * 4 + stored[v]];
                    }
                }
            }
        }
        assertArrayEquals(expected, out.toFloatArray());
    }

    // ---- defensive checks on tensors built in memory ----

    private static Tensor csrTensor(int[] rowPtr, int[] colIdx, int payloadFloats) {
        Sparse s = new Sparse(Sparse.Format.CSR, 1, 1, DType.INT32, SampleModels.indices(DType.INT32, rowPtr),
                SampleModels.indices(DType.INT32, colIdx), colIdx.length);
        return Tensor.encoded(DType.FLOAT32, new int[] {2, 3}, ByteBuffer.allocate(4 * payloadFloats), null, s, null);
    }

    @Test
    void columnIndexOutOfRangeIsRejected() {
        ModelFormatException e = assertThrows(ModelFormatException.class,
                () -> Decoding.densify(csrTensor(new int[] {0, 1, 2}, new int[] {0, 3}, 2)));
        assertTrue(e.getMessage().contains("encoded constant FLOAT32[2,3]: sparse col_idx[1] = 3 is not below the 3"
                + " block columns"), e.getMessage());
    }

    @Test
    void negativeRowPointerIsRejected() {
        ModelFormatException e = assertThrows(ModelFormatException.class,
                () -> Decoding.densify(csrTensor(new int[] {0, -1, 2}, new int[] {0, 1}, 2)));
        assertTrue(e.getMessage().contains("row_ptr[1] = -1"), e.getMessage());
    }

    @Test
    void shortPayloadsAreRejected() {
        assertThrows(ModelFormatException.class,
                () -> Decoding.densify(csrTensor(new int[] {0, 1, 2}, new int[] {0, 1}, 1)));
        assertThrows(ModelFormatException.class,
                () -> Decoding.densify(csrTensor(new int[] {0, 1}, new int[] {0, 1}, 2)));
        Tensor cb = Tensor.encoded(DType.FLOAT32, new int[] {9}, ByteBuffer.allocate(2), null, null,
                new Codebook(new float[4], 2, -1));
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> Decoding.densify(cb));
        assertTrue(e.getMessage().contains("payload has 2 bytes; 9 2-bit codebook indices need 3"), e.getMessage());
    }

    @Test
    void paletteTooSmallIsRejected() {
        Tensor cb = Tensor.encoded(DType.FLOAT32, new int[] {4}, ByteBuffer.allocate(1), null, null,
                new Codebook(new float[3], 2, -1));
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> Decoding.densify(cb));
        assertTrue(e.getMessage().contains("palette has 3 entries"), e.getMessage());
    }

    @Test
    void bitmaskOfEveryWidthAndOddSizes() {
        for (DType dt : new DType[] {DType.FLOAT32, DType.INT8, DType.UINT8, DType.INT16, DType.INT64, DType.INT4}) {
            for (int[] shape : new int[][] {{7, 13}, {1, 1}, {5, 3, 3}, {16, 64}}) {
                Tensor dense = sparseDense(dt, 0.3, shape);
                assertDensifiesTo(dense, encodeBitmask(dense, DType.INT16));
            }
        }
    }

    @Test
    void bitmaskRowCountsMustMatchTheBitmap() {
        Tensor dense = sparseDense(DType.FLOAT32, 0.5, 4, 9);
        Tensor enc = encodeBitmask(dense, DType.INT32);
        Sparse s = enc.sparse();
        ByteBuffer bitmap = ByteBuffer.allocate(s.colIdx().limit());
        bitmap.put(0, s.colIdx(), 0, s.colIdx().limit());
        int firstSet = 0;
        while ((bitmap.get(firstSet / 8) >> (firstSet % 8) & 1) == 0) {
            firstSet++;
        }
        bitmap.put(firstSet / 8, (byte) (bitmap.get(firstSet / 8) & ~(1 << (firstSet % 8))));
        Tensor bad = Tensor.encoded(DType.FLOAT32, new int[] {4, 9}, enc.data(), null,
                new Sparse(Sparse.Format.BITMASK, 1, 1, DType.INT32, s.rowPtr(), bitmap, s.nnzBlocks()), null);
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> Decoding.densify(bad));
        assertTrue(e.getMessage().contains("bitmap row"), e.getMessage());
        Tensor shortMap = Tensor.encoded(DType.FLOAT32, new int[] {4, 9}, enc.data(), null,
                new Sparse(Sparse.Format.BITMASK, 1, 1, DType.INT32, s.rowPtr(), ByteBuffer.allocate(2),
                        s.nnzBlocks()), null);
        e = assertThrows(ModelFormatException.class, () -> Decoding.densify(shortMap));
        assertTrue(e.getMessage().contains("bitmap has 2 bytes"), e.getMessage());
    }

    @Test
    void bitmaskSurvivesAFile(@TempDir Path dir) throws IOException {
        Tensor dense = sparseDense(DType.INT8, 0.3, 10, 12);
        Graph g = Graph.builder("g")
                .initializer("w", encodeBitmask(dense, DType.UINT8))
                .addOutput(ValueInfo.of("w", DType.INT8, 10, 12))
                .build();
        Path f = dir.resolve("w.hedge");
        HedgeWriter.write(new ModelDef(g, Map.of()), f);
        Tensor read = HedgeReader.read(f).model().graph().initializers().get("w");
        assertEquals(Sparse.Format.BITMASK, read.sparse().format());
        assertDensifiesTo(dense, read);
    }

    @Test
    void encodedConstantsReadFromAFileDecodeToTheOriginal(@TempDir Path dir) throws IOException {
        Tensor dense = sparseDense(DType.INT4, 0.2, 6, 8);
        Graph g = Graph.builder("g")
                .initializer("w", encode(dense, 2, 2, DType.UINT16))
                .addOutput(ValueInfo.of("w", DType.INT4, 6, 8))
                .build();
        Path f = dir.resolve("w.hedge");
        HedgeWriter.write(new ModelDef(g, Map.of()), f);
        Tensor read = HedgeReader.read(f).model().graph().initializers().get("w");
        assertTrue(read.isEncoded());
        assertDensifiesTo(dense, read);
    }
}
