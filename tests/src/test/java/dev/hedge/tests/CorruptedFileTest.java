package dev.hedge.tests;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnx.proto.OnnxMl.TypeProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import dev.hedge.converter.onnx.OnnxImporter;
import dev.hedge.format.HedgeReader;
import dev.hedge.format.HedgeWriter;
import dev.hedge.ir.ModelDef;
import dev.hedge.runtime.ModelFormatException;
import dev.hedge.runtime.UnsupportedModelException;
import dev.hedge.schema.fb.Model;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Real .hedge files (converted from the shared ONNX models) truncated and with flipped bytes: every load
 * either succeeds or throws {@link ModelFormatException}; no other exception, no out-of-memory, no hang.
 */
class CorruptedFileTest {

    private static final int TRUNCATIONS = 200;
    private static final int RANDOM_FLIPS = 1000;
    private static final int HEADER_FLIPS = 256;
    private static final Duration PER_LOAD = Duration.ofSeconds(20);

    @TempDir
    Path dir;

    private static Path shared() {
        String s = System.getProperty("hedge.shared");
        return s == null ? null : Path.of(s);
    }

    @ParameterizedTest
    @ValueSource(strings = {"digits-mlp/model.onnx", "silero-vad/silero_vad_v5.onnx"})
    void corruptedFilesLoadOrAreRejected(String model) throws IOException {
        Path shared = shared();
        Path onnx = shared == null ? null : shared.resolve("models").resolve(model);
        assumeTrue(onnx != null && Files.isRegularFile(onnx), "skipping: " + (onnx == null
                ? "system property hedge.shared is not set" : onnx + " not found")
                + " (run with -Dhedge.shared=/path/to/shared)");

        ModelDef def = importModel(onnx);
        Path valid = dir.resolve("valid.hedge");
        HedgeWriter.write(def, valid);
        byte[] bytes = Files.readAllBytes(valid);
        // the uncorrupted file loads, and writing what it loads gives the same bytes
        Path again = dir.resolve("again.hedge");
        HedgeWriter.write(HedgeReader.read(valid).model(), again);
        assertArrayEquals(bytes, Files.readAllBytes(again), model + ": read-write round trip changed the file");
        int flatEnd = flatBufferEnd(bytes);
        Random rnd = new Random(model.hashCode());

        int[] truncated = new int[2];
        for (int i = 0; i < TRUNCATIONS; i++) {
            // half inside the FlatBuffer (where the structure is), half anywhere
            int cut = i < TRUNCATIONS / 2 ? rnd.nextInt(flatEnd) : rnd.nextInt(bytes.length);
            Path f = dir.resolve("truncated.hedge");
            Files.write(f, Arrays.copyOf(bytes, cut));
            truncated[load(f, "truncated to " + cut + " bytes") ? 1 : 0]++;
        }

        int[] flipped = new int[2];
        Path f = dir.resolve("flipped.hedge");
        Files.write(f, bytes);
        try (RandomAccessFile raf = new RandomAccessFile(f.toFile(), "rw")) {
            for (int i = 0; i < HEADER_FLIPS + RANDOM_FLIPS; i++) {
                int pos = i < HEADER_FLIPS ? i
                        : i < HEADER_FLIPS + RANDOM_FLIPS / 2 ? rnd.nextInt(flatEnd) : rnd.nextInt(bytes.length);
                int mask = 1 + rnd.nextInt(255);
                raf.seek(pos);
                raf.write(bytes[pos] ^ mask);
                flipped[load(f, "byte " + pos + " xor 0x" + Integer.toHexString(mask)) ? 1 : 0]++;
                raf.seek(pos);
                raf.write(bytes[pos]);
            }
        }
        System.out.printf("%s (%d bytes, FlatBuffer %d): %d truncations: %d rejected / %d still loadable; "
                + "%d byte flips: %d rejected / %d still loadable%n", model, bytes.length, flatEnd, TRUNCATIONS,
                truncated[0], truncated[1], HEADER_FLIPS + RANDOM_FLIPS, flipped[0], flipped[1]);
    }

    /**
     * Imports with the real importer. Where it refuses a model only because subgraph outputs carry no type
     * (silero-vad's nested If branches do), those outputs are declared FLOAT tensors of unknown rank and
     * the model is imported again: the file's structure, not the types, is what this test exercises.
     */
    private static ModelDef importModel(Path onnx) throws IOException {
        try {
            return OnnxImporter.importFile(onnx);
        } catch (UnsupportedModelException e) {
            if (!e.getMessage().contains("is not a tensor (VALUE_NOT_SET)")) {
                throw e;
            }
            System.out.println(onnx.getFileName() + ": the importer refuses untyped subgraph outputs;"
                    + " typing them FLOAT for this test");
            ModelProto.Builder m = ModelProto.parseFrom(Files.readAllBytes(onnx)).toBuilder();
            typeSubgraphOutputs(m.getGraphBuilder(), false);
            return OnnxImporter.importModel(m.build(), onnx.toAbsolutePath().getParent());
        }
    }

    private static void typeSubgraphOutputs(GraphProto.Builder g, boolean subgraph) {
        if (subgraph) {
            for (ValueInfoProto.Builder v : g.getOutputBuilderList()) {
                if (!v.hasType() || !v.getType().hasTensorType()) {
                    v.setType(TypeProto.newBuilder().setTensorType(
                            TypeProto.Tensor.newBuilder().setElemType(TensorProto.DataType.FLOAT_VALUE)));
                }
            }
        }
        for (NodeProto.Builder n : g.getNodeBuilderList()) {
            for (AttributeProto.Builder a : n.getAttributeBuilderList()) {
                if (a.hasG()) {
                    typeSubgraphOutputs(a.getGBuilder(), true);
                }
            }
        }
    }

    /** Whether the file loads; a ModelFormatException means rejected, anything else fails the test. */
    private static boolean load(Path f, String what) {
        return assertTimeoutPreemptively(PER_LOAD, () -> {
            try {
                HedgeReader.read(f);
                return true;
            } catch (ModelFormatException e) {
                return false;
            } catch (Throwable t) {
                return fail(what + ": " + t, t);
            }
        }, what + ": load did not finish");
    }

    /** Where the data section starts (the FlatBuffer lies before it). */
    private static int flatBufferEnd(byte[] bytes) {
        Model m = Model.getRootAsModel(ByteBuffer.wrap(bytes));
        long end = bytes.length;
        for (int i = 1; i < m.buffersLength(); i++) {
            end = Math.min(end, m.buffers(i).offset());
        }
        return (int) end;
    }
}
