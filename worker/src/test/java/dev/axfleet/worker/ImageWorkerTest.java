package dev.axfleet.worker;

import dev.axfleet.broker.image.Images;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import com.hivemq.client.mqtt.mqtt5.message.publish.Mqtt5Publish;
import dev.axfleet.broker.BrokerAddress;
import dev.axfleet.broker.JobResult;
import dev.axfleet.broker.JobStatus;
import dev.axfleet.broker.Outcome;
import dev.axfleet.broker.Topics;
import dev.axfleet.broker.WireCodec;
import dev.axfleet.broker.testing.TestMqttClient;
import dev.axfleet.broker.testing.TestTools;
import dev.axfleet.emulator.card.EmulatedCard;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;

/**
 * A real worker holding SD1.5-LCM in its own process through the JNA binding, on an emulated card, driven by
 * image jobs over MQTT: sizes, seeds, progress, img2img, cancellation at a step boundary, a card failure mid-image.
 */
class ImageWorkerTest extends WorkerHarness {
    static final String MODEL = "sd15-lcm";

    @Override
    WorkerConfig config(BrokerAddress broker, Path dir) {
        TestTools.require("cc", "apt-get install gcc libc6-dev", Files.isExecutable(Path.of("/usr/bin/cc")));
        return EmulatedWorkers.sd15(broker, MODEL, dir, 0.1);
    }

    private JobResult image(String id, String task, String params) throws InterruptedException {
        return ask(id, task, params, false).result();
    }

    private static BufferedImage png(String b64) throws Exception {
        return ImageIO.read(new ByteArrayInputStream(Base64.getDecoder().decode(b64)));
    }

    @Test
    void txt2imgAnswersAPngOfEachRequestedSizeAndSaysWhatRan() throws Exception {
        int[][] sizes = {{512, 512}, {512, 576}, {480, 480}, {240, 240}};
        for (int[] s : sizes) {
            JobResult r = image("size-" + s[0] + "x" + s[1], "txt2img", "{\"prompt\":\"a red fox\",\"seed\":-1,\"width\":" + s[0]
                    + ",\"height\":" + s[1] + ",\"steps\":7,\"cfg_scale\":1.5,\"sampler_name\":\"DPM++ 2M Karras\"}");
            assertEquals(Outcome.DONE, r.outcome(), () -> String.valueOf(r.error()));
            Images out = (Images) r.output();
            BufferedImage img = png(out.png().get(0));
            assertEquals(s[0], img.getWidth());
            assertEquals(s[1], img.getHeight());
            JsonObject info = JsonParser.parseString(out.info()).getAsJsonObject();
            assertEquals(out.seed(), info.get("seed").getAsLong(), "the seed picked for -1 is returned");
            assertEquals(4, info.get("steps").getAsInt());
            assertEquals("LCM", info.get("sampler_name").getAsString());
            assertTrue(info.get("emulated").getAsBoolean());
            String warnings = info.get("warnings").toString();
            assertTrue(warnings.contains("steps 7") && warnings.contains("cfg_scale 1.5") && warnings.contains("DPM++ 2M Karras"), warnings);
        }
    }

    @Test
    void theSameSeedAndBodyGiveTheSameBytesAndProgressIsPublished() throws Exception {
        BlockingQueue<Mqtt5Publish> status = device.subscribe(Topics.status(MODEL, "seed-a"));
        String body = "{\"prompt\":\"a lighthouse\",\"seed\":4294967295,\"width\":256,\"height\":256}";
        Images a = (Images) image("seed-a", "txt2img", body).output();
        Images b = (Images) image("seed-b", "txt2img", body).output();
        assertEquals(4294967295L, a.seed(), "a 32-bit seed is kept");
        assertArrayEquals(Base64.getDecoder().decode(a.png().get(0)), Base64.getDecoder().decode(b.png().get(0)));
        List<String> steps = new ArrayList<>();
        for (Mqtt5Publish p = status.poll(2, TimeUnit.SECONDS); p != null; p = status.poll(300, TimeUnit.MILLISECONDS)) {
            JobStatus s = WireCodec.decodeStatus(p.getPayloadAsBytes());
            if (s.step() != null) {
                steps.add(s.step() + "/" + s.steps());
            }
        }
        assertEquals(List.of("1/4", "2/4", "3/4", "4/4"), steps);
        Images other = (Images) image("seed-c", "txt2img", body.replace("4294967295", "31")).output();
        assertFalse(other.png().get(0).equals(a.png().get(0)), "another seed, another image");
    }

    @Test
    void img2imgTakesAnyInputSizeAndBadImagesAreRefusedNamingTheField() throws Exception {
        Images source = (Images) image("src", "txt2img", "{\"prompt\":\"a barn\",\"seed\":5,\"width\":300,\"height\":200}").output();
        for (int mode = 0; mode <= 2; mode++) {
            JobResult r = image("i2i-" + mode, "img2img", "{\"prompt\":\"a barn in snow\",\"seed\":5,\"width\":512,\"height\":512,"
                    + "\"denoising_strength\":0.4,\"resize_mode\":" + mode + ",\"init_image\":\"" + source.png().get(0) + "\"}");
            assertEquals(Outcome.DONE, r.outcome(), () -> String.valueOf(r.error()));
            assertEquals(2, JsonParser.parseString(((Images) r.output()).info()).getAsJsonObject().get("steps").getAsInt(),
                    "strength 0.4 runs two steps");
        }
        JobResult bad = image("i2i-bad", "img2img", "{\"prompt\":\"x\",\"init_image\":\"" + Base64.getEncoder().encodeToString("not an image".getBytes())
                + "\"}");
        assertEquals(Outcome.ERROR, bad.outcome());
        assertEquals("params.init_image", bad.error().field());
        JobResult tags = image("no-clip", "interrogate", "{\"image\":\"" + source.png().get(0) + "\"}");
        assertEquals("task", tags.error().field(), "no CLIP models in this model folder");
        assertTrue(tags.error().message().contains("CLIP"), tags.error().message());
        JobResult chat = image("chat-to-sd", "chat", "{\"prompt\":\"hello\"}");
        assertEquals("task", chat.error().field());
        assertTrue(chat.error().message().contains("image model"), chat.error().message());
    }

    @Test
    void aCancelStopsAnImageAtAStepBoundaryAndACardFailureMidImageFailsOnlyThatJob() throws Exception {
        BlockingQueue<Mqtt5Publish> status = device.subscribe(Topics.status(MODEL, "cancel-me"));
        String reply = Topics.reply("device", "cancel-me");
        BlockingQueue<Mqtt5Publish> inbox = device.subscribe(reply);
        device.publish(Topics.jobs(MODEL), "{\"id\":\"cancel-me\",\"task\":\"txt2img\",\"reply_to\":\"" + reply + "\",\"params\":{\"prompt\":\"slow\"}}");
        for (Mqtt5Publish p = status.poll(10, TimeUnit.SECONDS); p != null; p = status.poll(10, TimeUnit.SECONDS)) {
            if (WireCodec.decodeStatus(p.getPayloadAsBytes()).step() != null) {
                break;
            }
        }
        device.publish(Topics.cancel(MODEL), new String(WireCodec.encodeCancel("cancel-me")));
        JobResult cancelled = TestMqttClient.await(inbox, WAIT).result();
        assertEquals(Outcome.CANCELLED, cancelled.outcome());
        assertTrue(cancelled.error().message().contains("steps"), cancelled.error().message());

        EmulatedCard card = EmulatedCard.open(config.stateDir().getParent().resolve("card"));
        card.failExecutions(true);
        JobResult failed = image("card-fails", "txt2img", "{\"prompt\":\"x\"}");
        card.failExecutions(false);
        assertEquals(Outcome.ERROR, failed.outcome());
        assertTrue(failed.error().message().contains("execute failed"), failed.error().message());
        JobResult next = image("after-failure", "txt2img", "{\"prompt\":\"x\",\"width\":64,\"height\":64}");
        assertEquals(Outcome.DONE, next.outcome(), () -> String.valueOf(next.error()));
        assertNotNull(png(((Images) next.output()).png().get(0)));
    }
}
