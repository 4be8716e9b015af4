package dev.hedge.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.hedge.runtime.InvalidInputException;
import dev.hedge.runtime.ModelFormatException;
import dev.hedge.runtime.UnsupportedModelException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** The pieces of the CLI that need no model. */
class CliUnitTest {

    @Test
    void exitCodes() {
        assertEquals(2, Errors.exitCode(new UnsupportedModelException("x")));
        assertEquals(2, Errors.exitCode(new ModelFormatException("x")));
        assertEquals(2, Errors.exitCode(new InvalidInputException("x")));
        assertEquals(2, Errors.exitCode(new NoSuchFileException("x")));
        assertEquals(2, Errors.exitCode(Errors.unwrap(new UncheckedIOException(new NoSuchFileException("f")))));
        assertEquals(1, Errors.exitCode(new IOException("disk full")));
        assertEquals(1, Errors.exitCode(new IllegalStateException("bug")));
        assertEquals(1, Errors.exitCode(new UnsupportedOperationException("not implemented yet")));
    }

    @Test
    void messagesAreOneLine() {
        assertEquals("no such file: a/b.onnx", Errors.message(new NoSuchFileException("a/b.onnx")));
        assertEquals("I/O error: disk full", Errors.message(new IOException("disk full")));
        assertEquals("IllegalStateException: bad", Errors.message(new IllegalStateException("bad")));
        assertEquals("java.lang.NullPointerException", Errors.message(new NullPointerException()));
        assertEquals("the model uses 2 node(s):; node 'a'; node 'b'",
                Errors.oneLine("the model uses 2 node(s):\n  node 'a'\r\n  node 'b'\n"));
    }

    @Test
    void fileNamesForTensorNames() {
        assertEquals("logits", ModelFiles.safeFileName("logits"));
        assertEquals("a.b-c_d", ModelFiles.safeFileName("a.b-c_d"));
        assertEquals("out_put_0", ModelFiles.safeFileName("out/put:0"));
        assertEquals("__", ModelFiles.safeFileName("é "));
        assertEquals(".._", ModelFiles.safeFileName("../"), "no separator survives, so no path escapes the directory");
    }

    @Test
    void defaultOutputName() {
        assertEquals(Path.of("dir/model.hedge"), ConvertCommand.defaultOutput(Path.of("dir/model.onnx")));
        assertEquals(Path.of("model.hedge"), ConvertCommand.defaultOutput(Path.of("model")));
    }

    @Test
    void nearestRankPercentiles() {
        long[] v = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
        assertEquals(5, DemoCommand.percentile(v, 0.5));
        assertEquals(9, DemoCommand.percentile(v, 0.9));
        assertEquals(7, DemoCommand.percentile(new long[] {7}, 0.9));
    }

    @Test
    void sizes() {
        assertEquals("512 bytes", ModelFiles.bytes(512));
        assertEquals("80,840 bytes (78.9 KiB)", ModelFiles.bytes(80_840));
        assertEquals("16,777,216 bytes (16.0 MiB)", ModelFiles.bytes(16L << 20));
    }

    @Test
    void shapes() {
        var cl = HedgeCli.newCommandLine();
        var m = ModelFiles.parseShapes(cl, java.util.Map.of("x", "1, 3,224,224", "s", ""));
        assertArrayEquals(new int[] {1, 3, 224, 224}, m.get("x"));
        assertArrayEquals(new int[0], m.get("s"));
    }
}
