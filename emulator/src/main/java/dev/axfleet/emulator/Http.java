package dev.axfleet.emulator;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.Executors;

/** The little HTTP the emulated runtimes need, on the JDK's built-in server. */
final class Http {
    private Http() {
    }

    static HttpServer server(String host, int port, Map<String, HttpHandler> routes) throws IOException {
        // Without TCP_NODELAY the JDK server's separate header and body writes meet the client's delayed ACK:
        // 40 ms per answer that no real runtime is known to add.
        System.setProperty("sun.net.httpserver.nodelay", "true");
        HttpServer server = HttpServer.create(new InetSocketAddress(host, port), 64);
        routes.forEach(server::createContext);
        server.setExecutor(Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r, "emulator-http");
            t.setDaemon(true);
            return t;
        }));
        return server;
    }

    static String body(HttpExchange ex) throws IOException {
        return new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
    }

    /** The body as a JSON object, or null when it is not one. */
    static JsonObject jsonBody(String body) {
        try {
            JsonElement e = JsonParser.parseString(body);
            return e.isJsonObject() ? e.getAsJsonObject() : null;
        } catch (RuntimeException e) {
            return null;
        }
    }

    static void send(HttpExchange ex, int status, String contentType, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().set("Content-Type", contentType);
        ex.sendResponseHeaders(status, bytes.length == 0 ? -1 : bytes.length);
        try (OutputStream out = ex.getResponseBody()) {
            out.write(bytes);
        }
    }

    static void json(HttpExchange ex, int status, JsonElement body) throws IOException {
        send(ex, status, "application/json", body.toString());
    }

    /** A route that answers only {@code method}, as the runtimes' routers do (others get 404). */
    static HttpHandler only(String method, HttpHandler h) {
        return ex -> {
            try {
                if (ex.getRequestMethod().equalsIgnoreCase("OPTIONS")) {
                    ex.getResponseHeaders().set("Access-Control-Allow-Origin", "*");
                    ex.getResponseHeaders().set("Access-Control-Allow-Methods", "GET, POST, OPTIONS");
                    send(ex, 200, "text/plain", "");
                } else if (!ex.getRequestMethod().equalsIgnoreCase(method)) {
                    send(ex, 404, "text/plain", "");
                } else {
                    h.handle(ex);
                }
            } finally {
                ex.close();
            }
        };
    }
}
