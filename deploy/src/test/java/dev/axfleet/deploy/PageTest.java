package dev.axfleet.deploy;

import static dev.axfleet.deploy.TestFleets.json;
import static dev.axfleet.deploy.TestFleets.node;
import static dev.axfleet.deploy.TestFleets.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import dev.axfleet.broker.testing.TestBroker;
import dev.axfleet.broker.testing.TestTools;
import dev.axfleet.config.Settings;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The page at {@code /} in a real browser (Debian's headless Chromium, driven by playwright-core from
 * {@code src/test/node/page-browser.mjs}) against the whole fleet as {@code axfleet up} starts it, emulated, with the
 * monitor on its emulated card and an API key set: the page asks for the key once, shows the card's temperature
 * and chart, the models and their workers' phases, streams a chat typed in the playground, shows an image, plays speech and transcribes its WAV, lists the
 * jobs, fits a phone; a sketch on localhost may call the gateway and one elsewhere may not. The screenshots are kept
 * in {@code target/page/}.
 */
class PageTest {
    static final String KEY = "sk-axfleet-page-0123456789";
    static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    static final Path SHOTS = Path.of("target/page").toAbsolutePath();
    @TempDir
    static Path dir;
    static TestBroker broker;
    static Fleet fleet;
    static String base;

    @BeforeAll
    static void start() throws Exception {
        broker = TestBroker.embedded(dir.resolve("broker"));
        Path key = dir.resolve("api-key");
        Files.writeString(key, KEY);
        Files.setPosixFilePermissions(key, PosixFilePermissions.fromString("rw-------"));
        fleet = Fleet.start(FleetConfig.from(Settings.of(Map.of(
                "fleet.home", dir.resolve("home").toString(),
                "fleet.emulate", "true",
                "emulator.time_scale", "0.05",
                "monitor.interval", "1s",
                "broker.url", "mqtt://127.0.0.1:" + broker.address().port(),
                "gateway.api_key_file", key.toString(),
                "gateway.port", "0"))));
        base = "http://127.0.0.1:" + fleet.gatewayPort();
        TestFleets.awaitHealthy(base);
    }

    @AfterAll
    static void stop() {
        if (fleet != null) {
            fleet.close();
        }
        if (broker != null) {
            broker.close();
        }
    }

    static JsonObject health() throws Exception {
        return json(HTTP.send(HttpRequest.newBuilder(URI.create(base + "/health")).build(), HttpResponse.BodyHandlers.ofString()).body());
    }

    @Test
    void thePageInHeadlessChromium() throws Exception {
        List<String> node = node();
        Path chromium = Path.of("/usr/bin/chromium");
        TestTools.require("chromium", "apt-get install chromium", Files.isExecutable(chromium));
        JsonObject o = json(run(node, "page-browser.mjs", base, SHOTS.toString(), KEY));
        System.out.println("page-browser.mjs saw: " + o);

        assertTrue(o.get("askedForKey").getAsBoolean(), "an API key is set: the page asks for it");
        assertEquals(KEY, o.get("keptKey").getAsString(), "and keeps it in the browser");
        assertFalse(o.get("askedAgainAfterReload").getAsBoolean(), "once");

        // The emulated card, as the monitor published it and /health shows it.
        JsonObject cards = health().getAsJsonObject("cards");
        assertEquals(1, cards.size(), cards.toString());
        String card = cards.keySet().iterator().next();
        assertEquals(card, o.get("card").getAsString());
        double shown = Double.parseDouble(o.get("temperature").getAsString().replace("°C", "").trim());
        double published = cards.getAsJsonObject(card).get("temperature_c").getAsDouble();
        assertTrue(Math.abs(shown - published) < 15 && shown > 20 && shown < 100,
                "the page shows the emulated card's temperature: " + shown + " °C, /health " + published + " °C");
        assertTrue(o.get("emulatedBanner").getAsBoolean(), "the page says it is emulated");
        assertTrue(o.get("chartPoints").getAsInt() >= 1, o.toString());

        List<String> models = new ArrayList<>();
        for (JsonElement m : o.getAsJsonArray("models")) {
            models.add(m.getAsJsonObject().get("model").getAsString());
            assertTrue(m.getAsJsonObject().getAsJsonArray("phases").toString().contains("ready"), "each worker's phase: " + m);
        }
        assertEquals(List.of("internvl3-1b", "melotts-en-default", "qwen3-0.6b", "sd15-lcm", "whisper-tiny"), models, "the models `axfleet up` runs by default");

        assertTrue(o.get("chatStatus").getAsString().startsWith("done"), o.toString());
        assertFalse(o.get("chatText").getAsString().isBlank(), "an answer");
        assertTrue(o.get("chatContentType").getAsString().startsWith("text/event-stream"), o.toString());
        assertTrue(o.get("chatPieces").getAsInt() > 1, "the answer came in pieces, as streamed: " + o.get("chatPieces"));
        assertEquals(512, o.getAsJsonObject("image").get("width").getAsInt(), "the image, at its asked size");
        assertEquals(512, o.getAsJsonObject("image").get("height").getAsInt());

        assertTrue(o.get("speechSeconds").getAsDouble() > 0.5, "the speech plays in the page: " + o.get("speechSeconds") + " s");
        assertTrue(o.get("transcriptionStatus").getAsString().startsWith("done"), o.toString());
        assertTrue(o.get("transcript").getAsString().contains("emulated"), "the speech's WAV, transcribed: " + o.get("transcript"));

        JsonArray jobs = o.getAsJsonArray("jobs");
        String listed = jobs.toString();
        // The playground's chat panel asks the first chat model it lists (the vision model is one too).
        assertTrue((listed.contains("qwen3-0.6b") || listed.contains("internvl3-1b")) && listed.contains("sd15-lcm") && listed.contains("done"),
                "the last jobs: a chat job and the image: " + listed);

        assertTrue(o.get("phoneOverflow").getAsInt() <= 0, "nothing wider than a phone's screen: " + o.get("phoneOverflow"));
        assertTrue(Files.size(SHOTS.resolve("page.png")) > 10_000 && Files.size(SHOTS.resolve("page-phone.png")) > 10_000);

        JsonObject local = o.getAsJsonObject("fromLocalhost");
        assertEquals(200, local.has("status") ? local.get("status").getAsInt() : -1, "a sketch on localhost calls the gateway: " + local);
        assertTrue(o.getAsJsonObject("fromElsewhere").has("failed"), "one elsewhere is refused: " + o.get("fromElsewhere"));
        // The browser hides preflights from the page; the gateway's own request counts show them.
        String metrics = HTTP.send(HttpRequest.newBuilder(URI.create(base + "/metrics")).build(), HttpResponse.BodyHandlers.ofString()).body();
        assertTrue(metrics.contains("axfleet_gateway_requests_total{method=\"OPTIONS\",route=\"/v1/chat/completions\",status=\"204\"} 1"),
                "the sketch on localhost was let in by the gateway's answer to its preflight");
        assertTrue(metrics.contains("axfleet_gateway_requests_total{method=\"OPTIONS\",route=\"/v1/chat/completions\",status=\"403\"} 1"),
                "the one elsewhere was refused by the gateway's 403, not by chance: "
                        + metrics.lines().filter(l -> l.contains("OPTIONS")).toList());
        assertEquals(0, o.getAsJsonArray("pageErrors").size(), o.get("pageErrors").toString());
    }
}
