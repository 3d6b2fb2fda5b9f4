package dev.axfleet.worker;

import dev.axfleet.broker.image.Images;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.axfleet.broker.BrokerAddress;
import dev.axfleet.broker.JobResult;
import dev.axfleet.broker.Outcome;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.nio.file.Path;
import java.util.Base64;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;

/**
 * The second image engine, chosen by configuration (runtime.kind=axllm-serve-images): a real worker keeping the
 * emulated {@code axllm serve} of an SD1.5-LCM repository as its upstream, image jobs over MQTT.
 */
class AxllmImageWorkerTest extends WorkerHarness {
    static final String MODEL = "sd15-axllm";

    @Override
    WorkerConfig config(BrokerAddress broker, Path dir) {
        return EmulatedWorkers.axllmImages(broker, MODEL, dir, EmulatedWorkers.FAST);
    }

    private JobResult image(String id, String task, String params) throws InterruptedException {
        return ask(id, task, params, false).result();
    }

    private static BufferedImage png(Images out) throws Exception {
        return ImageIO.read(new ByteArrayInputStream(Base64.getDecoder().decode(out.png().get(0))));
    }

    @Test
    void txt2imgAndImg2ImgRunOnTheUpstreamsVariantAndComeBackAtTheRequestedSize() throws Exception {
        JobResult a = image("ax-1", "txt2img", "{\"prompt\":\"a red fox\",\"seed\":7,\"width\":240,\"height\":240}");
        assertEquals(Outcome.DONE, a.outcome(), () -> String.valueOf(a.error()));
        Images out = (Images) a.output();
        assertEquals(240, png(out).getWidth());
        JsonObject info = JsonParser.parseString(out.info()).getAsJsonObject();
        assertEquals("lcm-lora-sdv1-5-512x512", info.get("sd_model_name").getAsString());
        assertEquals("axllm-serve-images", info.get("engine").getAsString());
        assertTrue(info.get("emulated").getAsBoolean());
        Images again = (Images) image("ax-2", "txt2img", "{\"prompt\":\"a red fox\",\"seed\":7,\"width\":240,\"height\":240}").output();
        assertArrayEquals(Base64.getDecoder().decode(out.png().get(0)), Base64.getDecoder().decode(again.png().get(0)), "the seed goes upstream");

        JobResult edit = image("ax-3", "img2img", "{\"prompt\":\"the same in snow\",\"width\":512,\"height\":512,\"denoising_strength\":0.4,"
                + "\"init_image\":\"" + out.png().get(0) + "\"}");
        assertEquals(Outcome.DONE, edit.outcome(), () -> String.valueOf(edit.error()));
        assertEquals(512, png((Images) edit.output()).getHeight());
        assertTrue(((Images) edit.output()).info().contains("denoising_strength 0.4 not passed on"));

        JobResult tags = image("ax-4", "interrogate", "{\"image\":\"" + out.png().get(0) + "\"}");
        assertEquals("task", tags.error().field(), "no CLIP behind axllm serve");
    }
}
