package dev.hedge.converter;

import dev.hedge.ir.ModelDef;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * The conversion pipeline behind {@code hedge convert}: import, clean-up passes, (later) compression.
 * Writing the result is {@link dev.hedge.format.HedgeWriter}'s job.
 */
public final class Converter {

    private Converter() {
    }

    /**
     * @param optimize run the graph clean-up passes (folding, fusion, elimination)
     * @param inputShapes concrete shapes for dynamic inputs, used by shape inference (may be empty)
     */
    public record Options(boolean optimize, Map<String, int[]> inputShapes) {
        public static Options defaults() {
            return new Options(true, Map.of());
        }
    }

    /** What one pass did: node counts before and after, and a short note. */
    public record PassReport(String pass, int nodesBefore, int nodesAfter, String note) {
    }

    public record Result(ModelDef model, List<PassReport> passes, int nodesBefore, int nodesAfter) {
    }

    public static Result convert(Path onnx, Options options) throws IOException {
        throw new UnsupportedOperationException("not implemented yet");
    }
}
