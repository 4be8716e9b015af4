package dev.hedge.server;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

/**
 * The container health check: exits 0 when the URL (default: the local readiness probe) answers 200, 1
 * otherwise. A JVM class rather than curl, so the runtime image needs nothing besides the JRE.
 */
public final class HealthCheck {

    private HealthCheck() {
    }

    public static void main(String[] args) {
        System.exit(check(args.length > 0 ? args[0] : "http://127.0.0.1:8080/v2/health/ready"));
    }

    /** 0 when {@code url} answers 200 within a few seconds, else 1 (the reason on stderr). */
    static int check(String url) {
        try {
            HttpClient c = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(3)).build();
            HttpResponse<Void> r = c.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(3))
                    .GET().build(), HttpResponse.BodyHandlers.discarding());
            if (r.statusCode() != 200) {
                System.err.println(url + ": " + r.statusCode());
            }
            return r.statusCode() == 200 ? 0 : 1;
        } catch (Exception e) {
            System.err.println(url + ": " + e);
            return 1;
        }
    }
}
