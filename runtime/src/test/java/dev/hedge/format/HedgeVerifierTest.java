package dev.hedge.format;

import static dev.hedge.format.FilePatch.ATTR_GRAPH;
import static dev.hedge.format.FilePatch.ATTR_NAME;
import static dev.hedge.format.FilePatch.ATTR_TYPE;
import static dev.hedge.format.FilePatch.CODEBOOK_AXIS;
import static dev.hedge.format.FilePatch.CODEBOOK_BITS;
import static dev.hedge.format.FilePatch.CODEBOOK_PALETTE;
import static dev.hedge.format.FilePatch.GRAPH_CAPTURES;
import static dev.hedge.format.FilePatch.NODE_ATTRS;
import static dev.hedge.format.FilePatch.NODE_INPUTS;
import static dev.hedge.format.FilePatch.NODE_OP;
import static dev.hedge.format.FilePatch.QUANT_AXIS;
import static dev.hedge.format.FilePatch.QUANT_SCALE;
import static dev.hedge.format.FilePatch.QUANT_ZERO_POINT;
import static dev.hedge.format.FilePatch.SPARSE_NNZ;
import static dev.hedge.format.FilePatch.TENSOR_BUFFER;
import static dev.hedge.format.FilePatch.TENSOR_DTYPE;
import static dev.hedge.format.FilePatch.TENSOR_SHAPE;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.hedge.runtime.ModelFormatException;
import dev.hedge.schema.fb.Node;
import dev.hedge.schema.fb.Tensor;
import java.io.IOException;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Each test patches one field of a valid file and expects the verifier to name it. */
class HedgeVerifierTest {

    // SparseEncoding and Attribute field ids (hedge.fbs order)
    private static final int SPARSE_FORMAT = 0;
    private static final int SPARSE_BLOCK_COLS = 2;
    private static final int SPARSE_INDEX_TYPE = 3;
    private static final int SPARSE_ROW_PTR = 4;
    private static final int SPARSE_COL_IDX = 5;
    private static final int ATTR_TENSOR = 9;
    private static final int NODE_OUTPUTS = 3;

    @TempDir
    Path dir;
    FilePatch p;

    @BeforeEach
    void writeValidFile() throws IOException {
        Path f = dir.resolve("valid.hedge");
        HedgeWriter.write(SampleModels.full(), f);
        p = new FilePatch(f);
    }

    private void expect(String fragment) throws IOException {
        Path bad = p.write(dir, "bad.hedge");
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> HedgeReader.read(bad));
        assertTrue(e.getMessage().contains(fragment), "message: " + e.getMessage() + "\nexpected: " + fragment);
    }

    private void loads() throws IOException {
        HedgeReader.read(p.write(dir, "ok.hedge"));
    }

    private String where(int g, String tensor) {
        return "graph " + g + " tensor " + p.tensorIndex(g, tensor) + " '" + tensor + "'";
    }

    /** Position of the first byte of a string field's characters. */
    private int chars(com.google.flatbuffers.Table t, int field) {
        int f = p.field(t, field);
        return f + p.bb.getInt(f) + 4;
    }

    @Test
    void validFileLoads() throws IOException {
        loads();
    }

    // ---- header ----

    @Test
    void wrongIdentifier() throws IOException {
        p.putByte(4, 'X');
        expect("not a .hedge file: identifier is 'XEDG', expected 'HEDG'");
    }

    @Test
    void otherMajorVersionIsRefusedWithItsNumber() throws IOException {
        p.putShort(p.field(p.model, 0), 2);
        expect("file format version 2." + HedgeFormat.MINOR + "; this Hedge reads 1.x");
    }

    @Test
    void newerMinorVersionLoads() throws IOException {
        p.putShort(p.field(p.model, 0) + 2, 7);
        loads();
    }

    @Test
    void tinyFile() throws IOException {
        expectBytes(new byte[] {1, 2, 3}, "file is 3 bytes, too small to be a .hedge model");
    }

    private void expectBytes(byte[] bytes, String fragment) throws IOException {
        Path bad = java.nio.file.Files.write(dir.resolve("tiny.hedge"), bytes);
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> HedgeReader.read(bad));
        assertTrue(e.getMessage().contains(fragment), e.getMessage());
    }

    // ---- FlatBuffer structure ----

    @Test
    void rootOffsetOutsideTheFile() throws IOException {
        p.putInt(0, 0x7ffffff0);
        expect("root table offset 2147483632 is outside");
    }

    @Test
    void vectorLongerThanTheFile() throws IOException {
        p.putInt(p.vector(p.node(0, "concat"), NODE_INPUTS), 0x3fffffff);
        expect("Model.graphs[0].nodes[");
        expect(".inputs: vector of 1073741823 elements");
    }

    @Test
    void vtableOutsideTheFile() throws IOException {
        int table = FilePatch.pos(p.node(0, "concat"));
        p.putInt(table, -0x10000000);
        expect("vtable at");
    }

    @Test
    void fieldOutsideItsTable() throws IOException {
        Node n = p.node(0, "concat");
        int table = FilePatch.pos(n);
        int vt = table - p.bb.getInt(table);
        p.putShort(vt + 4 + 2 * NODE_OP, 0xfff0);
        expect("field offset 65520");
    }

    @Test
    void invalidUtf8InAName() throws IOException {
        p.putByte(chars(p.node(0, "concat"), 0), 0xff);
        expect("is not valid UTF-8");
    }

    @Test
    void stringWithoutTerminator() throws IOException {
        int at = chars(p.node(0, "concat"), 0);
        p.putByte(at + "concat".length(), 'x');
        expect("is not NUL-terminated");
    }

    // ---- buffers ----

    @Test
    void bufferTooShortForItsTensorIsNamedExactly() throws IOException {
        Tensor t = p.tensor(0, "c_float32");
        long b = t.buffer();
        p.putLong(p.buffer((int) b) + 8, 56);
        expect(where(0, "c_float32") + ": buffer " + b + " has 56 bytes, FLOAT32[3,5] needs 60");
    }

    @Test
    void bufferIndexOutOfRange() throws IOException {
        p.putInt(p.field(p.tensor(0, "c_float32"), TENSOR_BUFFER), 9999);
        expect(where(0, "c_float32") + ": buffer 9999 does not exist");
    }

    @Test
    void misalignedBuffer() throws IOException {
        long b = p.tensor(0, "c_float32").buffer();
        int off = p.payload(b) + 8;
        p.putLong(p.buffer((int) b), off);
        expect("buffer " + b + " at offset " + off + " is not 64-byte aligned");
    }

    @Test
    void bufferPastTheEndOfTheFile() throws IOException {
        long b = p.tensor(0, "c_float32").buffer();
        p.putLong(p.buffer((int) b) + 8, 1L << 40);
        expect("buffer " + b + " (offset " + p.payload(b) + ", 1099511627776 bytes) extends past the end");
    }

    @Test
    void bufferOverlappingTheFlatBuffer() throws IOException {
        long b = p.tensor(0, "c_float32").buffer();
        p.putLong(p.buffer((int) b), 0);
        expect("buffer " + b + " at offset 0 overlaps the FlatBuffer");
    }

    @Test
    void bufferZeroMustBeTheEmptySentinel() throws IOException {
        p.putLong(p.buffer(0) + 8, 8);
        expect("buffer 0 must be the empty sentinel");
    }

    // ---- tensors ----

    @Test
    void constantWithDynamicDimension() throws IOException {
        p.putLong(p.element(p.tensor(0, "c_float32"), TENSOR_SHAPE, 0, 8), -1);
        expect(where(0, "c_float32") + ": dimension 0 is -1; a constant's dimensions must be in 0..2^31-1");
    }

    @Test
    void valueDimensionBelowMinusOne() throws IOException {
        p.putLong(p.element(p.tensor(0, "big"), TENSOR_SHAPE, 1, 8), -2);
        expect(where(0, "big") + ": dimension 1 is -2");
    }

    @Test
    void tooManyElements() throws IOException {
        p.putLong(p.element(p.tensor(0, "big"), TENSOR_SHAPE, 0, 8), Integer.MAX_VALUE);
        expect(where(0, "big") + ": shape has more than 2^31-1 elements");
    }

    @Test
    void unknownDtypeCode() throws IOException {
        p.putByte(p.field(p.tensor(0, "c_float32"), TENSOR_DTYPE), 99);
        expect(where(0, "c_float32") + ": unknown dtype code 99");
    }

    @Test
    void duplicateValueNames() throws IOException {
        int at = chars(p.tensor(0, "c_int16"), 0);
        p.putByte(at + 5, '3').putByte(at + 6, '2');
        expect("are both named 'c_int32'");
    }

    // ---- nodes and attributes ----

    @Test
    void unknownOpCode() throws IOException {
        p.putShort(p.field(p.node(0, "concat"), NODE_OP), 999);
        expect("graph 0 node 6 'concat': unknown op code 999");
    }

    @Test
    void unknownAttributeTypeCode() throws IOException {
        p.putByte(p.field(p.attr(p.node(0, "conv1"), "group"), ATTR_TYPE), 42);
        expect("graph 0 node 0 'conv1' (Conv): attribute 'group' has unknown type code 42");
    }

    @Test
    void attributeOfTheWrongKind() throws IOException {
        p.putByte(p.field(p.attr(p.node(0, "conv1"), "group"), ATTR_TYPE), 2);
        expect("graph 0 node 0 'conv1' (Conv): attribute 'group' is FLOAT, expected INT");
    }

    @Test
    void attributeTheOpDoesNotHave() throws IOException {
        p.putByte(chars(p.attr(p.node(0, "conv1"), "group"), ATTR_NAME) + 4, 'q');
        expect("attribute 'grouq' is not an attribute of Conv");
    }

    @Test
    void requiredAttributeMissing() throws IOException {
        p.putInt(p.vector(p.node(0, "concat"), NODE_ATTRS), 0);
        expect("graph 0 node 6 'concat' (Concat): required attribute 'axis' is missing");
    }

    @Test
    void tooFewInputs() throws IOException {
        p.putInt(p.vector(p.node(0, "nœud ✓"), NODE_INPUTS), 0);
        expect("graph 0 node 1 'nœud ✓' (Relu): has 0 inputs (0 listed); Relu takes 1");
    }

    @Test
    void tooFewOutputs() throws IOException {
        p.putInt(p.vector(p.node(0, "concat"), NODE_OUTPUTS), 0);
        expect("(Concat): has 0 outputs; Concat gives 1");
    }

    @Test
    void inputIndexOutOfRange() throws IOException {
        p.putInt(p.element(p.node(0, "concat"), NODE_INPUTS, 0, 4), 9999);
        expect("graph 0 node 6 'concat' input 0 refers to tensor 9999, which does not exist");
    }

    @Test
    void inputReadingAnAttributePayload() throws IOException {
        p.putInt(p.element(p.node(0, "concat"), NODE_INPUTS, 0, 4), p.tensorIndex(0, "cos/value"));
        expect("which holds an attribute value, not a graph value");
    }

    @Test
    void inputReadingAnUndefinedValue() throws IOException {
        p.putInt(p.element(p.node(0, "concat"), NODE_INPUTS, 0, 4), p.tensorIndex(0, "big"));
        expect("graph 0 node 6 'concat' input 0 reads 'big', which graph 0 neither defines nor captures");
    }

    @Test
    void valueDefinedTwice() throws IOException {
        p.putInt(p.element(p.node(0, "nœud ✓"), NODE_OUTPUTS, 0, 4), p.tensorIndex(0, "c0"));
        expect("output 0 'c0' is already defined, by node 0 output 0");
    }

    @Test
    void tensorAttributeWithoutData() throws IOException {
        p.putInt(p.field(p.attr(p.node(0, "cos"), "value"), ATTR_TENSOR), p.tensorIndex(0, "h"));
        expect("attribute 'value' refers to tensor " + p.tensorIndex(0, "h") + ", which has no data");
    }

    // ---- subgraphs ----

    @Test
    void graphIndexOutOfRange() throws IOException {
        p.putInt(p.field(p.attr(p.node(0, "if"), "then_branch"), ATTR_GRAPH), 99);
        expect("attribute 'then_branch' refers to graph 99, which does not exist (the file has 4)");
    }

    @Test
    void subgraphReferringToTheMainGraph() throws IOException {
        p.putInt(p.field(p.attr(p.node(0, "if"), "else_branch"), ATTR_GRAPH), 0);
        expect("attribute 'else_branch' refers to the main graph 0");
    }

    @Test
    void subgraphUsedTwice() throws IOException {
        p.putInt(p.field(p.attr(p.node(0, "if"), "else_branch"), ATTR_GRAPH), 1);
        expect("attribute 'else_branch' refers to graph 1, which graph 0 already uses");
    }

    @Test
    void subgraphCycle() throws IOException {
        p.putInt(p.field(p.attr(p.node(0, "if"), "then_branch"), ATTR_GRAPH), 2);
        p.putInt(p.field(p.attr(p.node(1, "t_loop"), "body"), ATTR_GRAPH), 1);
        expect("graph 1 is not reachable from the main graph (its GRAPH attributes form a cycle)");
    }

    @Test
    void captureTheEnclosingGraphDoesNotHave() throws IOException {
        p.putByte(chars(p.tensor(3, "x"), 0), 'q');
        expect("graph 3 captures 'q', which its enclosing graph 0 neither defines nor captures");
    }

    @Test
    void captureDefinedInTheGraphItself() throws IOException {
        p.putInt(p.element(p.graph(1), GRAPH_CAPTURES, 0, 4), p.tensorIndex(1, "t0"));
        expect("graph 1 capture 0 't0' is defined in the graph itself, by node 0 output 0");
    }

    @Test
    void subgraphReadingAValueItDoesNotCapture() throws IOException {
        p.putInt(p.vector(p.graph(1), GRAPH_CAPTURES), 2);
        expect("graph 1 node 1 't_loop' input 0 reads 'M', which graph 1 neither defines nor captures");
    }

    // ---- quantization ----

    @Test
    void wrongScaleCountForTheAxis() throws IOException {
        dev.hedge.schema.fb.QuantParams q = p.tensor(0, "q_axis").quant();
        p.putInt(p.vector(q, QUANT_SCALE), 2).putInt(p.vector(q, QUANT_ZERO_POINT), 2);
        expect(where(0, "q_axis") + ": quantization has 2 scales; axis 0 of UINT8[3,2] needs 3 (or 1)");
    }

    @Test
    void scaleAndZeroPointCountsDiffer() throws IOException {
        p.putInt(p.vector(p.tensor(0, "q_axis").quant(), QUANT_SCALE), 2);
        expect(where(0, "q_axis") + ": quantization has 2 scales but 3 zero points");
    }

    @Test
    void wrongBlockedScaleCount() throws IOException {
        dev.hedge.schema.fb.QuantParams q = p.tensor(0, "q_block").quant();
        p.putInt(p.vector(q, QUANT_SCALE), 3).putInt(p.vector(q, QUANT_ZERO_POINT), 3);
        expect(where(0, "q_block") + ": quantization has 3 scales; blocks of 4 along axis 1 of INT4[2,8] needs 4");
    }

    @Test
    void quantAxisOutOfRange() throws IOException {
        p.putInt(p.field(p.tensor(0, "q_block").quant(), QUANT_AXIS), 5);
        expect(where(0, "q_block") + ": quantization axis 5 is out of range for INT4[2,8]");
    }

    @Test
    void nonPositiveOrNonFiniteScales() throws IOException {
        int at = p.element(p.tensor(0, "q_tensor").quant(), QUANT_SCALE, 0, 4);
        for (float bad : new float[] {-1f, 0f, Float.NaN, Float.POSITIVE_INFINITY}) {
            p.putFloat(at, bad);
            expect(where(0, "q_tensor") + ": quantization scale[0] = " + bad + " is not a finite positive number");
        }
    }

    @Test
    void zeroPointOutsideTheDtypeRange() throws IOException {
        p.putLong(p.element(p.tensor(0, "q_axis").quant(), QUANT_ZERO_POINT, 2, 8), 256);
        expect(where(0, "q_axis") + ": quantization zero_point[2] = 256 is outside the UINT8 range [0, 255]");
        p.putLong(p.element(p.tensor(0, "q_block").quant(), QUANT_ZERO_POINT, 0, 8), -9);
        p.putLong(p.element(p.tensor(0, "q_axis").quant(), QUANT_ZERO_POINT, 2, 8), 0);
        expect(where(0, "q_block") + ": quantization zero_point[0] = -9 is outside the INT4 range [-8, 7]");
    }

    // ---- sparse (s_csr: FLOAT32[4,6], row_ptr 0 2 2 3 5, col_idx 1 4 0 2 5) ----

    private int sparseIndex(String tensor, int field, int i, int width) {
        long buf = p.bb.getInt(p.field(p.tensor(0, tensor).sparse(), field)) & 0xffffffffL;
        return p.payload(buf) + i * width;
    }

    @Test
    void rowPtrWithTheWrongEntryCount() throws IOException {
        long buf = p.tensor(0, "s_csr").sparse().rowPtrBuffer();
        p.putLong(p.buffer((int) buf) + 8, 16);
        expect(where(0, "s_csr") + ": sparse row_ptr has 16 bytes; 4 block rows need 5 INT32 entries (20 bytes)");
    }

    @Test
    void rowPtrDecreasing() throws IOException {
        p.putInt(sparseIndex("s_csr", SPARSE_ROW_PTR, 2, 4), 1);
        expect(where(0, "s_csr") + ": sparse row_ptr[2] = 1 is not in row_ptr[1] = 2 .. nnz_blocks = 5");
    }

    @Test
    void rowPtrNotEndingAtNnz() throws IOException {
        p.putInt(sparseIndex("s_csr", SPARSE_ROW_PTR, 4, 4), 4);
        expect(where(0, "s_csr") + ": sparse row_ptr ends at 4, expected nnz_blocks = 5");
    }

    @Test
    void nnzDisagreeingWithColumnIndices() throws IOException {
        p.putInt(p.field(p.tensor(0, "s_csr").sparse(), SPARSE_NNZ), 4);
        expect(where(0, "s_csr") + ": sparse col_idx has 20 bytes; 4 blocks need 16");
    }

    @Test
    void columnIndexOutOfRange() throws IOException {
        p.putInt(sparseIndex("s_csr", SPARSE_COL_IDX, 1, 4), 6);
        expect(where(0, "s_csr") + ": sparse col_idx[1] = 6 is not below the 6 block columns");
    }

    @Test
    void columnIndicesNotIncreasing() throws IOException {
        p.putInt(sparseIndex("s_csr", SPARSE_COL_IDX, 1, 4), 1);
        expect(where(0, "s_csr") + ": sparse col_idx[1] = 1 in block row 0 does not increase (previous 1)");
    }

    @Test
    void sparseValuePayloadOfTheWrongSize() throws IOException {
        long buf = p.tensor(0, "s_bcsr").buffer();
        p.putLong(p.buffer((int) buf) + 8, 17);
        expect(where(0, "s_bcsr") + ": sparse values have 17 bytes; 3 blocks of 2x3 INT8 need 18");
    }

    @Test
    void blocksNotTilingTheMatrix() throws IOException {
        p.putInt(p.field(p.tensor(0, "s_bcsr").sparse(), SPARSE_BLOCK_COLS), 4);
        expect(where(0, "s_bcsr") + ": sparse 2x4 blocks do not tile the 4x6 matrix of INT8[4,6]");
    }

    @Test
    void sparseIndexTypeNotAllowed() throws IOException {
        p.putByte(p.field(p.tensor(0, "s_bcsr").sparse(), SPARSE_INDEX_TYPE), 11);
        expect(where(0, "s_bcsr") + ": sparse index type INT64 is not one of");
    }

    @Test
    void unknownSparseFormat() throws IOException {
        p.putByte(p.field(p.tensor(0, "s_bcsr").sparse(), SPARSE_FORMAT), 7);
        expect(where(0, "s_bcsr") + ": unknown sparse format code 7");
    }

    @Test
    void sparseCodebookIndexPayloadOfTheWrongSize() throws IOException {
        long buf = p.tensor(0, "s_cb").buffer();
        p.putLong(p.buffer((int) buf) + 8, 1);
        expect(where(0, "s_cb") + ": sparse values have 1 bytes; 4 blocks of 1x1 4-bit codebook indices need 2");
    }

    // ---- codebook (cb: FLOAT32[3,5], 3 bits, one palette of 8) ----

    @Test
    void paletteOfTheWrongSize() throws IOException {
        p.putInt(p.vector(p.tensor(0, "cb").codebook(), CODEBOOK_PALETTE), 7);
        expect(where(0, "cb") + ": codebook palette has 7 entries; 3-bit indices on FLOAT32[3,5] need 8");
    }

    @Test
    void perAxisPaletteOfTheWrongSize() throws IOException {
        p.putInt(p.vector(p.tensor(0, "cb_axis").codebook(), CODEBOOK_PALETTE), 4);
        expect(where(0, "cb_axis") + ": codebook palette has 4 entries; 2-bit indices with one palette per slice"
                + " of axis 0 on FLOAT32[2,5] need 8");
    }

    @Test
    void codebookIndexPayloadOfTheWrongSize() throws IOException {
        long buf = p.tensor(0, "cb").buffer();
        p.putLong(p.buffer((int) buf) + 8, 5);
        expect(where(0, "cb") + ": buffer " + buf + " has 5 bytes; 15 3-bit codebook indices need 6");
    }

    @Test
    void codebookIndexWidthOutOfRange() throws IOException {
        p.putByte(p.field(p.tensor(0, "cb").codebook(), CODEBOOK_BITS), 9);
        expect(where(0, "cb") + ": codebook index_bits 9 is not in 1..8");
    }

    @Test
    void codebookAxisOutOfRange() throws IOException {
        p.putInt(p.field(p.tensor(0, "cb_axis").codebook(), CODEBOOK_AXIS), 2);
        expect(where(0, "cb_axis") + ": codebook axis 2 is out of range for FLOAT32[2,5]");
    }

    @Test
    void codebookOnAnIntegerTensor() throws IOException {
        p.putByte(p.field(p.tensor(0, "cb"), TENSOR_DTYPE), 5);
        expect(where(0, "cb") + ": codebook on a INT8 tensor");
    }
}
