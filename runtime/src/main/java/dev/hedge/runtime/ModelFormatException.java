package dev.hedge.runtime;

/** A model file is malformed, truncated, corrupted, or of an unsupported format version. */
public class ModelFormatException extends HedgeException {

    public ModelFormatException(String message) {
        super(message);
    }

    public ModelFormatException(String message, Throwable cause) {
        super(message, cause);
    }
}
