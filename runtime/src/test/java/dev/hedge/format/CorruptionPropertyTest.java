package dev.hedge.format;

import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import dev.hedge.ir.Attr;
import dev.hedge.ir.Graph;
import dev.hedge.ir.ModelDef;
import dev.hedge.ir.Node;
import dev.hedge.runtime.ModelFormatException;
import dev.hedge.runtime.Tensor;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.statistics.Statistics;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;
import org.junit.jupiter.api.Test;

/**
 * A corrupted or truncated file either loads (and then its encoded constants decode) or is rejected with a
 * {@link ModelFormatException}: never another exception, a hang or an out-of-memory error.
 */
class CorruptionPropertyTest {

    private static final byte[] VALID = validFile();

    private static byte[] validFile() {
        try {
            Path dir = Files.createTempDirectory("hedge-corruption");
            Path f = dir.resolve("m.hedge");
            HedgeWriter.write(SampleModels.full(), f);
            byte[] b = Files.readAllBytes(f);
            Files.delete(f);
            Files.delete(dir);
            return b;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** True when the bytes load; false when they are rejected. Anything else fails the property. */
    static boolean loads(byte[] bytes) {
        ModelDef m;
        try {
            m = HedgeReader.decode(ByteBuffer.wrap(bytes));
        } catch (ModelFormatException e) {
            return false;
        }
        // a verified file must be fully usable: every encoded constant decodes
        densifyAll(m.graph());
        return true;
    }

    private static void densifyAll(Graph g) {
        for (Tensor t : g.initializers().values()) {
            Decoding.densify(t);
        }
        for (Node n : g.nodes()) {
            for (Attr a : n.attrs().values()) {
                if (a instanceof Attr.TensorValue tv) {
                    Decoding.densify(tv.value());
                } else if (a instanceof Attr.GraphValue gv) {
                    densifyAll(gv.value());
                }
            }
        }
    }

    @Property(tries = 3000)
    void flippedBytesLoadOrAreRejected(@ForAll @Size(min = 1, max = 6) List<@IntRange(min = 0) Integer> positions,
            @ForAll @IntRange(min = 1, max = 255) int mask) {
        byte[] b = VALID.clone();
        for (int pos : positions) {
            b[pos % b.length] ^= (byte) mask;
        }
        Statistics.collect(loads(b) ? "still loadable" : "rejected");
    }

    @Property(tries = 500)
    void truncatedFilesLoadOrAreRejected(@ForAll @IntRange(min = 0) int cut) {
        byte[] b = java.util.Arrays.copyOf(VALID, cut % VALID.length);
        Statistics.collect(loads(b) ? "still loadable" : "rejected");
    }

    @Property(tries = 1000)
    void overwrittenWordsLoadOrAreRejected(@ForAll @IntRange(min = 0) int pos, @ForAll int value) {
        // whole 32-bit words hit offsets, lengths and indices more often than single bit flips
        byte[] b = VALID.clone();
        ByteBuffer.wrap(b).order(java.nio.ByteOrder.LITTLE_ENDIAN).putInt((pos % (b.length / 4)) * 4, value);
        Statistics.collect(loads(b) ? "still loadable" : "rejected");
    }

    @Test
    void everySingleByteOfTheFileFlipped() {
        assertTimeoutPreemptively(Duration.ofMinutes(2), () -> {
            for (int mask : new int[] {0x01, 0xff}) {
                for (int pos = 0; pos < VALID.length; pos++) {
                    byte[] b = VALID.clone();
                    b[pos] ^= (byte) mask;
                    loads(b);
                }
            }
        });
    }
}
