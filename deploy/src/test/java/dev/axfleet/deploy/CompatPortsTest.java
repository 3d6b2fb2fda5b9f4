package dev.axfleet.deploy;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.axfleet.broker.testing.TestTools;
import dev.axfleet.config.Settings;
import dev.axfleet.emulator.card.EmulatedCard;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code AXFLEET_COMPAT_PORTS=1 axfleet up}: the installations' clients (../shared/clients.md) on the ports they default
 * to, each call in its own shape, with no credentials configured — the picker on 5000, the kiosk (Basic auth, retries)
 * on 7860, the Pico's RGB565 on 7860, the coyote on 11434 and 8000 with its conversation kept on the server.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class CompatPortsTest {
    static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    static final String PERSONA = "You are Wile, a coyote of the high desert who speaks in short sentences.";
    static final String KIOSK = "{\"prompt\": \"a person who is not you\", \"negative_prompt\": \"blurry\", \"steps\": 5, \"cfg_scale\": 2,"
            + " \"sampler_name\": \"Euler a\", \"width\": 512, \"height\": 512, \"batch_size\": 1, \"n_iter\": 1, \"seed\": %d,"
            + " \"restore_faces\": false, \"tiling\": false, \"do_not_save_samples\": true, \"do_not_save_grid\": true}";
    static final String PICO = "{\"prompt\": \"a person\", \"sampler_name\": \"DPM++ 2M\", \"steps\": 5, \"cfg_scale\": 1.5,"
            + " \"width\": 240, \"height\": 240, \"seed\": 1234567}";

    Path home;
    Fleet fleet;
    String base;

    @BeforeAll
    void start(@TempDir Path dir) throws Exception {
        TestTools.require("cc", "apt-get install gcc libc6-dev", Files.isExecutable(Path.of("/usr/bin/cc")));
        home = dir;
        startFleet();
    }

    private void startFleet() throws Exception {
        fleet = Fleet.start(FleetConfig.from(Settings.of(Map.of(
                "fleet.home", home.toString(),
                "fleet.emulate", "true",
                "fleet.monitor", "false",
                "fleet.models", "qwen3-1.7b=Qwen3-1.7B",
                "emulator.time_scale", "0.01",
                "broker.embedded_port", "0",
                "gateway.port", "0",
                "gateway.compat_ports", "true"))));
        base = "http://127.0.0.1:" + fleet.gatewayPort();
        TestFleets.awaitHealthy(base);
    }

    @AfterAll
    void stop() {
        fleet.close();
    }

    static HttpResponse<String> get(int port, String path) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).timeout(Duration.ofSeconds(30)).GET().build(),
                HttpResponse.BodyHandlers.ofString());
    }

    static HttpResponse<byte[]> post(int port, String path, String body, String... headers) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).header("Content-Type", "application/json")
                .timeout(Duration.ofSeconds(30)).POST(HttpRequest.BodyPublishers.ofString(body));
        if (headers.length > 0) {
            b.headers(headers);
        }
        return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
    }

    static JsonObject json(HttpResponse<byte[]> r) {
        assertEquals(200, r.statusCode(), () -> new String(r.body(), StandardCharsets.UTF_8));
        return JsonParser.parseString(new String(r.body(), StandardCharsets.UTF_8)).getAsJsonObject();
    }

    JsonObject emulatorStats() throws Exception {
        return JsonParser.parseString(get(Fleet.EMULATED_RUNTIME_PORTS.get("qwen3-1.7b"), "/_emulator/stats").body()).getAsJsonObject();
    }

    /** Engine runs of the emulated card: the image worker's engines run in its process through the card's library. */
    long engineRuns() {
        return EmulatedCard.open(home.resolve("emulated-card")).engineRuns();
    }

    @Test
    @Order(1)
    void everyClassicPortServesWhatItsOldServerServed() throws Exception {
        JsonObject ports = JsonParser.parseString(get(fleet.gatewayPort(), "/health").body()).getAsJsonObject().getAsJsonObject("ports");
        for (String p : List.of("11434", "5000", "7860", "8000")) {
            assertEquals("listening", ports.get(p).getAsString(), () -> "port " + p + ": " + ports);
        }
        assertEquals("Ollama is running", get(11434, "/").body());
        assertTrue(get(11434, "/api/tags").body().contains("\"name\":\"qwen3-ax650:latest\""), "the coyote's model name is listed");
        assertTrue(get(11434, "/v1/models").body().contains("\"id\":\"qwen3-ax650\""));
        assertEquals(200, get(7860, "/sdapi/v1/options").statusCode());
        assertEquals("{\"response\":\"\",\"done\":true}", get(8000, "/api/generate_provider").body());
        assertEquals(404, get(11434, "/api/generate_provider").statusCode(), "each port serves its old server's routes");
    }

    @Test
    @Order(2)
    void theCoyoteSetsItsPersonaOn8000AndTalksOn11434WithOnlyTheLatestText() throws Exception {
        assertEquals("{\"status\":\"ok\"}", get(8000, "/api/stop").body(), "a stop when idle is harmless");
        assertEquals("{\"status\":\"ok\"}", new String(post(8000, "/api/reset", "{\"system_prompt\": \"" + PERSONA + "\"}").body(), StandardCharsets.UTF_8));
        List<String> prompts = List.of("Who are you?", "What do you eat?", "Sing me something.");
        List<String> answers = new ArrayList<>();
        for (String p : prompts) {
            JsonObject r = json(post(11434, "/api/generate", "{\"model\": \"qwen3-ax650\", \"prompt\": \"" + p + "\", \"stream\": false}"));
            String answer = r.get("response").getAsString();
            assertFalse(answer.isBlank());
            assertFalse(answer.contains("think>") || r.has("thinking"), "no thinking text in a spoken answer: " + r);
            answers.add(answer);
        }
        var seen = emulatorStats().getAsJsonArray("prompts");
        String last = seen.get(seen.size() - 1).getAsString();
        int at = last.indexOf(PERSONA);
        assertTrue(at >= 0, "the runtime received the persona: " + last);
        for (int i = 0; i < prompts.size(); i++) {
            int p = last.indexOf(prompts.get(i), at);
            assertTrue(p > at, "turn " + (i + 1) + " in order: " + last);
            at = p;
            if (i < answers.size() - 1) {
                int a = last.indexOf(answers.get(i), at);
                assertTrue(a > at, "answer " + (i + 1) + " in order: " + last);
                at = a;
            }
        }

        // The legacy runtime's own way on 8000: generate, then poll until done; it goes on with the same conversation.
        assertEquals("{\"status\":\"ok\"}", new String(post(8000, "/api/generate", "{\"prompt\": \"And the moon?\", \"temperature\": 0.7, \"top-k\": 20}").body(),
                StandardCharsets.UTF_8));
        StringBuilder polled = new StringBuilder();
        JsonObject poll = null;
        for (int i = 0; i < 300 && (poll == null || !poll.get("done").getAsBoolean()); i++) {
            poll = JsonParser.parseString(get(8000, "/api/generate_provider").body()).getAsJsonObject();
            polled.append(poll.get("response").getAsString());
            Thread.sleep(20);
        }
        assertTrue(poll.get("done").getAsBoolean() && !polled.isEmpty(), "polled: " + polled);
        String turn4 = emulatorStats().getAsJsonArray("prompts").get(emulatorStats().getAsJsonArray("prompts").size() - 1).getAsString();
        assertTrue(turn4.contains(answers.get(2)) && turn4.indexOf("And the moon?") > turn4.indexOf(answers.get(2)), turn4);
    }

    @Test
    @Order(3)
    void theCoyotesOllamaChatSaysNoThinkingUnlessAskedAndThenApart() throws Exception {
        String body = "{\"model\": \"qwen3-ax650\", \"think\": %s, \"keep_alive\": -1, \"stream\": false, \"options\": {\"temperature\": 0.99,"
                + " \"top_k\": 85, \"top_p\": 0.9, \"repeat_last_n\": 64, \"repeat_penalty\": 1.5, \"num_predict\": 100, \"stop\": [\"#\", \"[\"]},"
                + " \"messages\": [{\"role\": \"system\", \"content\": \"" + PERSONA + "\"}, {\"role\": \"user\", \"content\": \"Howl for me.\"}]}";
        JsonObject plain = json(post(11434, "/api/chat", String.format(body, "false")));
        String content = plain.getAsJsonObject("message").get("content").getAsString();
        assertTrue(content.startsWith("(emulated"), content);
        assertFalse(content.contains("think>") || plain.getAsJsonObject("message").has("thinking"), plain.toString());
        JsonObject thought = json(post(11434, "/api/chat", String.format(body, "true")));
        assertTrue(thought.getAsJsonObject("message").get("thinking").getAsString().startsWith("Okay, the visitor asks"), thought.toString());
        assertTrue(thought.getAsJsonObject("message").get("content").getAsString().startsWith("(emulated"), thought.toString());
        JsonObject openAi = json(post(11434, "/v1/chat/completions", "{\"model\": \"qwen3-ax650\", \"reasoning_effort\": \"low\","
                + " \"messages\": [{\"role\": \"user\", \"content\": \"Howl.\"}]}"));
        JsonObject message = openAi.getAsJsonArray("choices").get(0).getAsJsonObject().getAsJsonObject("message");
        assertTrue(message.get("reasoning_content").getAsString().startsWith("Okay,") && !message.get("content").getAsString().contains("think>"), message.toString());
    }

    @Test
    @Order(4)
    void thePickerOn5000AndTheKioskWithBasicAuthOn7860() throws Exception {
        JsonObject picker = json(post(5000, "/generate", "{\"prompt\": \"adult, face portrait photograph, (elderly)\", \"seed\": -1, \"steps\": 7,"
                + " \"width\": 512, \"height\": 512, \"cfg_scale\": 1.5, \"sampler_name\": \"DPM++ 2M Karras\", \"mode\": \"txt2img\"}"));
        assertEquals("ok", picker.get("status").getAsString());
        assertTrue(Base64.getDecoder().decode(picker.get("base64").getAsString()).length > 1000);
        String basic = "Basic " + Base64.getEncoder().encodeToString("kiosk:secret".getBytes(StandardCharsets.UTF_8));
        JsonObject kiosk = json(post(7860, "/sdapi/v1/txt2img", String.format(KIOSK, 888), "Authorization", basic));
        byte[] png = Base64.getDecoder().decode(kiosk.getAsJsonArray("images").get(0).getAsString());
        assertArrayEquals(new byte[] {(byte) 0x89, 'P', 'N', 'G'}, java.util.Arrays.copyOf(png, 4));
    }

    @Test
    @Order(5)
    void theKiosksRetriesCostOneGenerationAndAllCarryTheSamePicture() throws Exception {
        String basic = "Basic " + Base64.getEncoder().encodeToString("kiosk:secret".getBytes(StandardCharsets.UTF_8));
        long start = engineRuns();
        json(post(7860, "/sdapi/v1/txt2img", String.format(KIOSK, 4241), "Authorization", basic));
        long onePicture = engineRuns() - start;
        assertTrue(onePicture >= 3, "a picture runs the text encoder, the UNet and the VAE decoder: " + onePicture);
        long before = engineRuns();
        List<CompletableFuture<HttpResponse<byte[]>>> attempts = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            attempts.add(CompletableFuture.supplyAsync(() -> {
                try {
                    return post(7860, "/sdapi/v1/txt2img", String.format(KIOSK, 4242), "Authorization", basic);
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            }));
        }
        List<String> pictures = new ArrayList<>();
        for (CompletableFuture<HttpResponse<byte[]>> a : attempts) {
            pictures.add(json(a.get()).getAsJsonArray("images").get(0).getAsString());
        }
        // A retry after the answer, within gateway.image_reuse: answered again, not generated again.
        pictures.add(json(post(7860, "/sdapi/v1/txt2img", String.format(KIOSK, 4242), "Authorization", basic)).getAsJsonArray("images").get(0).getAsString());
        assertEquals(1, pictures.stream().distinct().count(), "every answer carries the same picture");
        assertEquals(onePicture, engineRuns() - before, "four identical requests, one picture's engine runs on the card");
    }

    @Test
    @Order(6)
    void thePicoGetsRgb565BigEndianMatchingThePngAndHttp10Works() throws Exception {
        HttpResponse<byte[]> raw = post(7860, "/sdapi/v1/txt2img", PICO, "Accept", "application/octet-stream", "X-API-Key", "pico-key",
                "Authorization", "Basic " + Base64.getEncoder().encodeToString("pico:pw".getBytes(StandardCharsets.UTF_8)));
        assertEquals(200, raw.statusCode());
        assertEquals(115_200, raw.body().length);
        assertEquals("240", raw.headers().firstValue("X-Image-Width").orElse(""));
        assertEquals("240", raw.headers().firstValue("X-Image-Height").orElse(""));
        assertEquals("rgb565be", raw.headers().firstValue("X-Image-Format").orElse(""));
        assertEquals("115200", raw.headers().firstValue("Content-Length").orElse(""));
        String png = json(post(7860, "/sdapi/v1/txt2img", PICO)).getAsJsonArray("images").get(0).getAsString();
        BufferedImage img = ImageIO.read(new ByteArrayInputStream(Base64.getDecoder().decode(png)));
        for (int[] xy : new int[][] {{0, 0}, {239, 0}, {120, 120}, {17, 203}, {239, 239}}) {
            int p = img.getRGB(xy[0], xy[1]);
            int i = 2 * (xy[1] * 240 + xy[0]);
            int v = (raw.body()[i] & 0xff) << 8 | (raw.body()[i + 1] & 0xff);
            assertEquals(((p >> 16) & 0xff) >> 3, v >> 11, "red at " + xy[0] + "," + xy[1]);
            assertEquals(((p >> 8) & 0xff) >> 2, (v >> 5) & 0x3f, "green");
            assertEquals((p & 0xff) >> 3, v & 0x1f, "blue");
        }
        // An HTTP/1.0 client (older MicroPython) reads the whole reply by its Content-Length, never chunked.
        try (Socket s = new Socket("127.0.0.1", 7860)) {
            s.setSoTimeout(30_000);
            byte[] body = PICO.getBytes(StandardCharsets.UTF_8);
            OutputStream out = s.getOutputStream();
            out.write(("POST /sdapi/v1/txt2img?format=rgb565 HTTP/1.0\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: "
                    + body.length + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            out.write(body);
            out.flush();
            InputStream in = s.getInputStream();
            byte[] all = in.readNBytes(200_000);
            String head = new String(all, 0, Math.min(all.length, 600), StandardCharsets.ISO_8859_1);
            assertTrue(head.startsWith("HTTP/1.") && head.contains(" 200 "), head);
            assertTrue(head.toLowerCase().contains("content-length: 115200") && !head.toLowerCase().contains("chunked"), head);
            int bodyAt = head.indexOf("\r\n\r\n") + 4;
            assertEquals(115_200, all.length - bodyAt);
        }
    }

    @Test
    @Order(7)
    void aThreeHundredTurnConversationKeepsAnsweringAndSurvivesARestart() throws Exception {
        post(8000, "/api/reset", "{\"system_prompt\": \"" + PERSONA + "\"}");
        String lastPrompt = null;
        for (int i = 1; i <= 300; i++) {
            lastPrompt = "Turn " + i + ": tell me about the desert at night, please, in a few words.";
            JsonObject r = json(post(11434, "/api/generate", "{\"model\": \"qwen3-ax650\", \"prompt\": \"" + lastPrompt + "\", \"stream\": false}"));
            assertFalse(r.get("response").getAsString().isBlank(), "turn " + i);
        }
        String seen = lastSeen();
        assertTrue(seen.startsWith("<|im_start|>system\n" + PERSONA), "the persona is kept when old turns go: " + seen.substring(0, 200));
        assertFalse(seen.contains("Turn 1:"), "the oldest turns were dropped to fit the context");
        assertTrue(seen.contains("Turn 299:"), "the recent ones are there");

        fleet.close();
        startFleet();
        JsonObject after = json(post(11434, "/api/generate", "{\"model\": \"qwen3-ax650\", \"prompt\": \"Still there?\", \"stream\": false}"));
        assertFalse(after.get("response").getAsString().isBlank());
        String resumed = lastSeen();
        assertTrue(resumed.startsWith("<|im_start|>system\n" + PERSONA) && resumed.contains(lastPrompt) && resumed.indexOf("Still there?") > resumed.indexOf(lastPrompt),
                "the conversation came back from disk: " + resumed);
    }

    String lastSeen() throws Exception {
        var prompts = emulatorStats().getAsJsonArray("prompts");
        return prompts.get(prompts.size() - 1).getAsString();
    }
}
