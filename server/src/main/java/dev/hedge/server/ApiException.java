package dev.hedge.server;

/**
 * An error answered to the client as {@code {"error": message}} with an HTTP status; {@code reason} is the
 * label of the failure counter (a fixed vocabulary, never client text, so metric cardinality stays bounded).
 */
public final class ApiException extends RuntimeException {

    private final int status;
    private final String reason;

    public ApiException(int status, String reason, String message) {
        super(message, null, false, false);
        this.status = status;
        this.reason = reason;
    }

    public static ApiException badRequest(String message) {
        return new ApiException(400, "bad_request", message);
    }

    public static ApiException notFound(String message) {
        return new ApiException(404, "not_found", message);
    }

    public static ApiException unavailable(String message) {
        return new ApiException(503, "unavailable", message);
    }

    public int status() {
        return status;
    }

    public String reason() {
        return reason;
    }
}
