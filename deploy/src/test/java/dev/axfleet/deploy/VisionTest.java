package dev.axfleet.deploy;

import static dev.axfleet.deploy.TestFleets.json;
import static dev.axfleet.deploy.TestFleets.node;
import static dev.axfleet.deploy.TestFleets.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.hivemq.client.mqtt.mqtt5.message.publish.Mqtt5Publish;
import dev.axfleet.broker.ErrorCode;
import dev.axfleet.broker.JobResult;
import dev.axfleet.broker.Outcome;
import dev.axfleet.broker.Topics;
import dev.axfleet.broker.testing.TestBroker;
import dev.axfleet.broker.testing.TestMqttClient;
import dev.axfleet.config.Settings;
import dev.axfleet.deploy.models.ModelCatalog;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Chat that sees, through the whole fleet as {@code axfleet up} starts it by default (a text and a vision model,
 * emulated): the official openai and ollama JavaScript clients send a photo, a device sends one over MQTT, and what
 * cannot be seen is refused in each facade's shape.
 */
class VisionTest {
    static final String VLM = "internvl3-1b";
    static final String TEXT = "qwen3-0.6b";
    @TempDir
    static Path dir;
    static EmulatedFleet running;
    static TestBroker broker;
    static String base;

    @BeforeAll
    static void start() throws Exception {
        running = EmulatedFleet.start(dir, Map.of(
                "fleet.image_model", ""));
        broker = running.broker;
        base = running.base;
    }

    @AfterAll
    static void stop() {
        if (running != null) {
            running.close();
        }
    }

    /** A 1200 × 900 photo-sized PNG, orange: the emulated encoder reports the size it was given and the mean colour. */
    static byte[] photo() throws Exception {
        BufferedImage img = new BufferedImage(1200, 900, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < 900; y++) {
            for (int x = 0; x < 1200; x++) {
                img.setRGB(x, y, 0xE07020);
            }
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ImageIO.write(img, "png", out);
        return out.toByteArray();
    }

    @Test
    void theDefaultSetHasChatVisionTranscriptionSpeechAndImagesAndFitsTheCardTogether() {
        FleetConfig defaults = FleetConfig.from(Settings.of(Map.of()));
        assertEquals(java.util.List.of(TEXT, VLM, "whisper-tiny", "melotts-en-default", "sd15-lcm"), defaults.models().stream().map(FleetConfig.Model::id).toList());
        ModelCatalog catalog = ModelCatalog.builtIn();
        int used = defaults.models().stream().mapToInt(m -> catalog.find(m.id()).orElseThrow().cmmMib()).sum();
        assertTrue(used + 128 <= ModelCatalog.CARD_CMM_MIB, "the default set takes " + used + " MiB of the card's " + ModelCatalog.CARD_CMM_MIB);
    }

    @Test
    void theOfficialJavaScriptClientsSendAPhotoAndGetTheirRefusalsInTheirShapes() throws Exception {
        Path image = Files.write(dir.resolve("photo.png"), photo());
        Path text = Files.writeString(dir.resolve("notes.txt"), "this is a shopping list, not a picture");
        JsonObject o = json(run(node(), "vision-clients.mjs", base, VLM, TEXT, image.toString(), text.toString()));
        // The worker scales 1200 × 900 to just cover InternVL3-1B's 448 × 448 encoder before the runtime sees it.
        for (String answer : new String[] {"described", "streamed", "ollamaChat", "ollamaGenerate"}) {
            String said = o.get(answer).getAsString();
            assertTrue(said.startsWith("(emulated InternVL3-1B)"), answer + ": " + said);
            assertTrue(said.contains("I was given 1 image: 597x448 mean #e07020"), answer + ": " + said);
        }
        assertEquals(o.get("described").getAsString(), o.get("streamed").getAsString());
        refused(o, "textModel", 400, "takes no images");
        refused(o, "notAnImage", 400, "not an image");
        refused(o, "fifty", 400, "at most 8");
        refused(o, "huge", 413, "gateway.max_image_body_bytes");
        refused(o, "localPath", 400, "data: URL");
        refused(o, "fileUrl", 400, "paths and other schemes are refused");
        refused(o, "httpUrl", 400, "gateway.fetch_image_urls is off");
        refused(o, "ollamaNotImage", 400, "not an image");
        refused(o, "ollamaTextModel", 400, "takes no images");
        assertTrue(o.getAsJsonArray("vlmCapabilities").toString().contains("\"vision\""), o.toString());
        assertTrue(!o.getAsJsonArray("textCapabilities").toString().contains("vision"), o.toString());
        assertTrue(o.getAsJsonArray("models").toString().contains(VLM), o.toString());
    }

    static void refused(JsonObject o, String what, int status, String says) {
        JsonObject r = o.getAsJsonObject(what);
        assertEquals(status, r.get("status").getAsInt(), what + ": " + r);
        assertTrue(r.get("message").getAsString().contains(says), what + ": " + r);
    }

    @Test
    void aDeviceSendsAPhotoOverMqttAndABrokenOneIsAnsweredWithTheReason() throws Exception {
        try (TestMqttClient device = TestMqttClient.connect(broker.address(), "camera-3")) {
            String b64 = Base64.getEncoder().encodeToString(photo());
            BlockingQueue<Mqtt5Publish> reply = device.subscribe(Topics.reply("camera-3", "c1"));
            device.publish(Topics.jobs(VLM), "{\"id\":\"c1\",\"reply_to\":\"" + Topics.reply("camera-3", "c1") + "\",\"params\":{\"messages\":"
                    + "[{\"role\":\"user\",\"content\":\"Who is at the door?\",\"images\":[\"" + b64 + "\"]}],\"max_tokens\":30}}");
            JobResult r = TestMqttClient.await(reply, Duration.ofSeconds(60)).result();
            assertEquals(Outcome.DONE, r.outcome(), String.valueOf(r.error()));
            assertTrue(r.chat().text().contains("597x448"), r.chat().text());

            BlockingQueue<Mqtt5Publish> broken = device.subscribe(Topics.reply("camera-3", "c2"));
            String notImage = Base64.getEncoder().encodeToString("GIF87a but then nothing".getBytes(StandardCharsets.US_ASCII));
            device.publish(Topics.jobs(VLM), "{\"id\":\"c2\",\"reply_to\":\"" + Topics.reply("camera-3", "c2") + "\",\"params\":{\"messages\":"
                    + "[{\"role\":\"user\",\"content\":\"?\",\"images\":[\"" + notImage + "\"]}]}}");
            JobResult e = TestMqttClient.await(broken, Duration.ofSeconds(60)).result();
            assertEquals(Outcome.ERROR, e.outcome());
            assertEquals(ErrorCode.INVALID_JOB, e.error().code(), e.error().toString());
            assertTrue(e.error().message().contains("image 1"), e.error().message());
        }
    }
}
