package dev.axfleet.worker;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

/** The emulator's own control routes (/_emulator/...), which no real runtime has. */
final class EmulatorControl {
    private static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    private EmulatorControl() {
    }

    static void fault(int port, String mode, int afterTokens) throws IOException, InterruptedException {
        fault(port, mode, afterTokens, 1);
    }

    /** The fault for the next {@code times} requests. */
    static void fault(int port, String mode, int afterTokens, int times) throws IOException, InterruptedException {
        JsonObject f = new JsonObject();
        f.addProperty("mode", mode);
        f.addProperty("after_tokens", afterTokens);
        f.addProperty("times", times);
        HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/_emulator/fault"))
                .timeout(Duration.ofSeconds(5)).POST(HttpRequest.BodyPublishers.ofString(f.toString())).build(),
                HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() != 200) {
            throw new IllegalStateException("fault not set: " + r.body());
        }
    }

    static JsonObject stats(int port) throws IOException, InterruptedException {
        HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/_emulator/stats"))
                .timeout(Duration.ofSeconds(5)).GET().build(), HttpResponse.BodyHandlers.ofString());
        return JsonParser.parseString(r.body()).getAsJsonObject();
    }
}
