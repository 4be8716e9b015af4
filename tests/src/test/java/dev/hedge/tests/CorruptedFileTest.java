package dev.hedge.tests;

import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.hedge.converter.onnx.OnnxImporter;
import dev.hedge.format.HedgeReader;
import dev.hedge.format.HedgeWriter;
import dev.hedge.ir.ModelDef;
import dev.hedge.runtime.ModelFormatException;
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

        ModelDef def = OnnxImporter.importFile(onnx);
        Path valid = dir.resolve("valid.hedge");
        HedgeWriter.write(def, valid);
        HedgeReader.read(valid);
        byte[] bytes = Files.readAllBytes(valid);
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
