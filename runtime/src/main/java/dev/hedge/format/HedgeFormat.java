package dev.hedge.format;

/** Constants of the .hedge file format (see docs/format.md). */
public final class HedgeFormat {

    /** Major version: a reader rejects files of any other major version. */
    public static final int MAJOR = 1;
    /** Minor version written; readers accept any minor of their major (minors only append). */
    public static final int MINOR = 2;
    /** FlatBuffers file identifier, bytes 4..7 of the file. */
    public static final String IDENTIFIER = "HEDG";
    /** Every constant payload starts at a file offset that is a multiple of this. */
    public static final int ALIGNMENT = 64;
    /** Deepest If/Loop nesting a file may have. */
    public static final int MAX_GRAPH_DEPTH = 64;

    private HedgeFormat() {
    }

    static long align(long offset) {
        return (offset + ALIGNMENT - 1) & -(long) ALIGNMENT;
    }
}
