package dev.hedge.server;

import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpRequest;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** A blocking façade over the Vert.x web client for tests: one call, one response. */
final class Http {

    record Resp(int status, MultiMap headers, Buffer body) {
        JsonObject json() {
            return body.toJsonObject();
        }

        JsonArray jsonArray() {
            return body.toJsonArray();
        }

        String text() {
            return body == null ? "" : body.toString();
        }

        String error() {
            return json().getString("error");
        }
    }

    private final WebClient client;
    private final int port;
    private String token;

    Http(Vertx vertx, int port) {
        this.client = WebClient.create(vertx, new WebClientOptions().setDefaultHost("127.0.0.1").setDefaultPort(port)
                .setKeepAlive(true), new PoolOptions().setHttp1MaxSize(32));
        this.port = port;
    }

    Http withToken(String t) {
        this.token = t;
        return this;
    }

    int port() {
        return port;
    }

    WebClient client() {
        return client;
    }

    Resp get(String path) {
        return send(HttpMethod.GET, path, Map.of(), null);
    }

    Resp post(String path, JsonObject body) {
        return send(HttpMethod.POST, path, Map.of("Content-Type", "application/json"),
                body == null ? null : body.toBuffer());
    }

    Resp post(String path, String body) {
        return send(HttpMethod.POST, path, Map.of("Content-Type", "application/json"), Buffer.buffer(body));
    }

    Resp send(HttpMethod method, String path, Map<String, String> headers, Buffer body) {
        HttpRequest<Buffer> req = client.request(method, path);
        headers.forEach(req::putHeader);
        if (token != null) {
            req.putHeader("Authorization", "Bearer " + token);
        }
        try {
            HttpResponse<Buffer> r = (body == null ? req.send() : req.sendBuffer(body))
                    .toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
            return new Resp(r.statusCode(), r.headers(), r.body() == null ? Buffer.buffer() : r.body());
        } catch (Exception e) {
            throw new AssertionError(method + " " + path + " failed: " + e, e);
        }
    }

    void close() {
        client.close();
    }
}
