package dev.hedge.runtime;

/** Base of every error Hedge reports on purpose; messages name the node, tensor or field at fault. */
public class HedgeException extends RuntimeException {

    public HedgeException(String message) {
        super(message);
    }

    public HedgeException(String message, Throwable cause) {
        super(message, cause);
    }
}
