package dev.axfleet.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.axfleet.config.Settings;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code fleet.image_engine=axllm-serve}: the same image routes, served by ax-llm's image server as an upstream. */
class ImageEngineChoiceTest {
    static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    @Test
    void theImageRoutesRunOnAxllmServeWhenConfiguredSo(@TempDir Path home) throws Exception {
        try (Fleet fleet = Fleet.start(FleetConfig.from(Settings.of(Map.of(
                "fleet.home", home.toString(),
                "fleet.emulate", "true",
                "fleet.monitor", "false",
                "fleet.models", "qwen3-0.6b=Qwen3-0.6B",
                "fleet.image_engine", "axllm-serve",
                "emulator.time_scale", "0.02",
                "broker.embedded_port", "0",
                "gateway.port", "0"))))) {
            String base = "http://127.0.0.1:" + fleet.gatewayPort();
            TestFleets.awaitHealthy(base);
            HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(base + "/generate")).header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString("{\"mode\":\"txt2img\",\"prompt\":\"a lighthouse\",\"seed\":5}")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(200, r.statusCode(), r.body());
            JsonObject o = JsonParser.parseString(r.body()).getAsJsonObject();
            assertEquals("ok", o.get("status").getAsString());
            JsonObject info = JsonParser.parseString(o.get("info").getAsString()).getAsJsonObject();
            assertEquals("axllm-serve-images", info.get("engine").getAsString());
        }
    }
}
