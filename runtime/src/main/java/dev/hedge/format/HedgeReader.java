package dev.hedge.format;

import dev.hedge.ir.ModelDef;
import java.io.IOException;
import java.nio.file.Path;

/** Reads .hedge files: memory-maps, verifies, and decodes them into a {@link ModelDef}. */
public final class HedgeReader {

    private HedgeReader() {
    }

    /** A model and the size of the file it came from. */
    public record Loaded(ModelDef model, long fileBytes) {
    }

    public static Loaded read(Path path) throws IOException {
        throw new UnsupportedOperationException("not implemented yet");
    }
}
