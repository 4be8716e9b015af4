package dev.hedge.format;

import dev.hedge.ir.ModelDef;
import java.io.IOException;
import java.nio.file.Path;

/** Writes a {@link ModelDef} as a .hedge file (atomically: temp file, then rename). */
public final class HedgeWriter {

    private HedgeWriter() {
    }

    /** Writes the model; returns the file size in bytes. */
    public static long write(ModelDef model, Path path) throws IOException {
        throw new UnsupportedOperationException("not implemented yet");
    }
}
