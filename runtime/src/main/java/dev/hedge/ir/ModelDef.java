package dev.hedge.ir;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What a .hedge file holds: the main graph and metadata (producer, source digest, conversion options,
 * compression report). Both the converter (writing) and the runtime (reading) work on this.
 */
public record ModelDef(Graph graph, Map<String, String> metadata) {

    /** Metadata keys with a fixed meaning. */
    public static final String META_PRODUCER = "producer";
    public static final String META_SOURCE_DIGEST = "source.sha256";
    public static final String META_SOURCE_NAME = "source.name";
    public static final String META_OPTIONS = "conversion.options";
    public static final String META_REPORT = "conversion.report";

    public ModelDef {
        metadata = Collections.unmodifiableMap(new LinkedHashMap<>(metadata));
    }

    public ModelDef withMetadata(String key, String value) {
        Map<String, String> m = new LinkedHashMap<>(metadata);
        m.put(key, value);
        return new ModelDef(graph, m);
    }

    public ModelDef withGraph(Graph g) {
        return new ModelDef(g, metadata);
    }
}
