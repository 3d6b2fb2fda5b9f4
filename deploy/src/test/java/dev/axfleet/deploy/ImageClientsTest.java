package dev.axfleet.deploy;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.models.images.ImageGenerateParams;
import com.openai.models.images.ImagesResponse;
import dev.axfleet.broker.testing.TestTools;
import dev.axfleet.config.Settings;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * The installations' image clients (../shared/clients.md §1-4) against the fleet as {@code axfleet up} starts it,
 * its image worker SD1.5-LCM in-process through the JNA binding on the emulated card: each client's exact call
 * shape gets what that client reads, plus AUTOMATIC1111's side routes and the official OpenAI SDK's images call.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ImageClientsTest {
    static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    static final String PICKER = "{\"prompt\": \"adult, face portrait photograph, Female, (elderly), [young adult], <lora:x:0.5>, 8k, realistic\","
            + " \"negative_prompt\": \"white background\", \"seed\": -1, \"steps\": 7, \"width\": 512, \"height\": 512, \"cfg_scale\": 1.5,"
            + " \"sampler_name\": \"DPM++ 2M Karras\", \"denoising_strength\": 0.5, \"n_iter\": 1, \"batch_size\": 1, \"mode\": \"%s\"%s}";
    static final String KIOSK = "{\"prompt\": \"a person who is not you\", \"negative_prompt\": \"blurry\", \"steps\": 5, \"cfg_scale\": 2,"
            + " \"sampler_name\": \"Euler a\", \"width\": 512, \"height\": 512, \"batch_size\": 1, \"n_iter\": 1, \"seed\": 888,"
            + " \"restore_faces\": false, \"tiling\": false, \"do_not_save_samples\": true, \"do_not_save_grid\": true}";

    Fleet fleet;
    String base;

    @BeforeAll
    void start(@TempDir Path home) throws Exception {
        TestTools.require("cc", "apt-get install gcc libc6-dev", Files.isExecutable(Path.of("/usr/bin/cc")));
        fleet = Fleet.start(FleetConfig.from(Settings.of(Map.of(
                "fleet.home", home.toString(),
                "fleet.emulate", "true",
                "fleet.monitor", "false",
                "fleet.models", "qwen3-0.6b=Qwen3-0.6B",
                "emulator.time_scale", "0.05",
                "broker.embedded_port", "0",
                "gateway.port", "0"))));
        base = "http://127.0.0.1:" + fleet.gatewayPort();
        TestFleets.awaitHealthy(base);
    }

    @AfterAll
    void stop() {
        fleet.close();
    }

    HttpResponse<String> get(String path) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create(base + path)).GET().build(), HttpResponse.BodyHandlers.ofString());
    }

    HttpResponse<String> post(String path, String body, String... headers) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path)).header("Content-Type", "application/json")
                .timeout(Duration.ofSeconds(30)).POST(HttpRequest.BodyPublishers.ofString(body));
        for (int i = 0; i < headers.length; i += 2) {
            b.header(headers[i], headers[i + 1]);
        }
        return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    static JsonObject json(HttpResponse<String> r) {
        assertEquals("application/json", r.headers().firstValue("Content-Type").orElse("").split(";")[0], r.body());
        assertEquals(r.body().getBytes(StandardCharsets.UTF_8).length, Long.parseLong(r.headers().firstValue("Content-Length").orElse("-1")),
                "a Content-Length, for HTTP/1.0 clients");
        return JsonParser.parseString(r.body()).getAsJsonObject();
    }

    static BufferedImage png(String b64) throws Exception {
        byte[] bytes = Base64.getDecoder().decode(b64);
        assertArrayEquals(new byte[] {(byte) 0x89, 'P', 'N', 'G'}, java.util.Arrays.copyOf(bytes, 4), "raw base64 of a PNG, no data: prefix");
        return ImageIO.read(new ByteArrayInputStream(bytes));
    }

    @Test
    void thePickerGetsItsImageFromGenerateAndItsImg2ImgWithBothInitFields() throws Exception {
        JsonObject txt = json(post("/generate", String.format(PICKER, "txt2img", "")));
        assertEquals("ok", txt.get("status").getAsString());
        BufferedImage image = png(txt.getAsJsonArray("images").get(0).getAsString());
        assertEquals(512, image.getWidth());
        assertEquals(txt.get("base64").getAsString(), txt.getAsJsonArray("images").get(0).getAsString());
        assertTrue(txt.get("seed").getAsLong() >= 0, "the seed used for -1");
        String camera = txt.get("base64").getAsString();
        JsonObject img = json(post("/generate", String.format(PICKER, "img2img", ", \"init_image\": \"" + camera + "\", \"init_images\": [\"" + camera + "\"]")));
        assertEquals("ok", img.get("status").getAsString(), img.toString());
        assertEquals(512, png(img.get("base64").getAsString()).getHeight());
    }

    @Test
    void theSdExplorerGets512ByDefaultItsTimesAndImg2ImgOfAnySize() throws Exception {
        JsonObject txt = json(post("/generate", "{\"mode\": \"txt2img\", \"prompt\": \"a lighthouse at dusk\", \"seed\": -1}"));
        assertEquals("ok", txt.get("status").getAsString());
        assertEquals(512, png(txt.get("base64").getAsString()).getWidth());
        assertTrue(txt.has("total_time_ms") && txt.has("text_time_ms") && txt.has("seed"), txt.keySet().toString());
        BufferedImage upload = new BufferedImage(300, 200, BufferedImage.TYPE_INT_RGB);
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        ImageIO.write(upload, "png", out);
        String init = Base64.getEncoder().encodeToString(out.toByteArray());
        for (String strength : new String[] {"0.25", "0.5", "0.75", "1.0"}) {
            JsonObject r = json(post("/generate", "{\"mode\": \"img2img\", \"prompt\": \"the same, in winter\", \"seed\": 12, \"init_image\": \""
                    + init + "\", \"denoising_strength\": " + strength + ", \"resize_mode\": 1}"));
            assertEquals("ok", r.get("status").getAsString(), r.toString());
        }
        HttpResponse<String> noMode = post("/generate", "{\"prompt\": \"x\"}");
        assertEquals(400, noMode.statusCode());
        assertEquals("error", json(noMode).get("status").getAsString());
        assertTrue(json(noMode).get("error").getAsString().contains("mode"));
        assertEquals(400, post("/generate", "{\"mode\": \"txt2img\"}").statusCode());
    }

    @Test
    void theKioskWithBasicAuthGetsTheSamePictureForTheSameBodyAndItsConnectionTest() throws Exception {
        String basic = "Basic " + Base64.getEncoder().encodeToString("kiosk:secret".getBytes(StandardCharsets.UTF_8));
        JsonObject a = json(post("/sdapi/v1/txt2img", KIOSK, "Authorization", basic));
        JsonObject b = json(post("/sdapi/v1/txt2img", KIOSK, "Authorization", basic));
        assertEquals(a.getAsJsonArray("images").get(0).getAsString(), b.getAsJsonArray("images").get(0).getAsString(), "seed 888, same body");
        png(a.getAsJsonArray("images").get(0).getAsString());
        JsonObject info = JsonParser.parseString(a.get("info").getAsString()).getAsJsonObject();
        assertEquals(888, info.get("seed").getAsLong());
        assertEquals("LCM", info.get("sampler_name").getAsString());
        assertTrue(info.get("warnings").toString().contains("Euler a"), info.toString());
        assertEquals(888, a.getAsJsonObject("parameters").get("seed").getAsInt(), "parameters echo the request");
        assertEquals(200, get("/sdapi/v1/options").statusCode());
    }

    @Test
    void everySizeClientsAskForComesBackAtThatSizeAndAbsurdOnesAre400() throws Exception {
        for (int[] s : new int[][] {{512, 576}, {480, 480}, {240, 240}}) {
            JsonObject r = json(post("/sdapi/v1/txt2img", "{\"prompt\": \"a button press\", \"sampler_name\": \"DPM++ 2M\", \"steps\": 5,"
                    + " \"cfg_scale\": 1.5, \"width\": " + s[0] + ", \"height\": " + s[1] + ", \"seed\": 1234567890}"));
            BufferedImage img = png(r.getAsJsonArray("images").get(0).getAsString());
            assertEquals(s[0], img.getWidth());
            assertEquals(s[1], img.getHeight());
        }
        for (String bad : new String[] {"\"width\": 0", "\"width\": 4096", "\"height\": \"tall\"", "\"seed\": \"lucky\""}) {
            HttpResponse<String> r = post("/sdapi/v1/txt2img", "{\"prompt\": \"x\", " + bad + "}");
            assertEquals(400, r.statusCode(), bad + ": " + r.body());
            assertTrue(json(r).has("detail"), r.body());
        }
        HttpResponse<String> garbage = post("/sdapi/v1/img2img", "{\"prompt\": \"x\", \"init_images\": [\"%%% not base64 %%%\"]}");
        assertEquals(400, garbage.statusCode());
        assertTrue(json(garbage).get("detail").getAsString().contains("init_images"), garbage.body());
        HttpResponse<String> notImage = post("/sdapi/v1/img2img", "{\"prompt\": \"x\", \"init_images\": [\""
                + Base64.getEncoder().encodeToString("plain text".getBytes(StandardCharsets.UTF_8)) + "\"]}");
        assertEquals(400, notImage.statusCode(), notImage.body());
        assertTrue(json(notImage).get("detail").getAsString().contains("init_image"), notImage.body());
        assertEquals(400, post("/sdapi/v1/txt2img", "[1, 2]").statusCode());
    }

    /** The python webuiapi client's whole default field set (webuiapi.WebUIApi.txt2img / img2img), unknown fields included. */
    @Test
    void theWebuiapiFieldSetsWorkForTxt2ImgAndImg2Img() throws Exception {
        String common = "\"styles\": [], \"seed\": -1, \"subseed\": -1, \"subseed_strength\": 0.0, \"seed_resize_from_h\": 0,"
                + " \"seed_resize_from_w\": 0, \"sampler_name\": \"Euler a\", \"batch_size\": 1, \"n_iter\": 1, \"steps\": 20,"
                + " \"cfg_scale\": 7.0, \"width\": 512, \"height\": 512, \"restore_faces\": false, \"tiling\": false,"
                + " \"do_not_save_samples\": false, \"do_not_save_grid\": false, \"negative_prompt\": \"\", \"eta\": 1.0, \"s_churn\": 0,"
                + " \"s_tmax\": 0, \"s_tmin\": 0, \"s_noise\": 1, \"override_settings\": {}, \"override_settings_restore_afterwards\": true,"
                + " \"script_args\": [], \"sampler_index\": \"Euler a\", \"script_name\": null, \"send_images\": true, \"save_images\": false,"
                + " \"alwayson_scripts\": {}";
        JsonObject txt = json(post("/sdapi/v1/txt2img", "{\"enable_hr\": false, \"denoising_strength\": 0.7, \"firstphase_width\": 0,"
                + " \"firstphase_height\": 0, \"hr_scale\": 2, \"hr_upscaler\": \"Latent\", \"hr_second_pass_steps\": 0, \"hr_resize_x\": 0,"
                + " \"hr_resize_y\": 0, \"prompt\": \"a cottage\", " + common + "}"));
        String image = txt.getAsJsonArray("images").get(0).getAsString();
        assertEquals(512, png(image).getWidth());
        JsonObject img = json(post("/sdapi/v1/img2img", "{\"init_images\": [\"" + image + "\"], \"resize_mode\": 0,"
                + " \"denoising_strength\": 0.75, \"image_cfg_scale\": 1.5, \"mask\": null, \"mask_blur\": 4, \"inpainting_fill\": 0,"
                + " \"inpaint_full_res\": true, \"inpaint_full_res_padding\": 0, \"inpainting_mask_invert\": 0,"
                + " \"initial_noise_multiplier\": 1, \"include_init_images\": false, \"prompt\": \"a cottage in snow\", " + common + "}"));
        assertEquals(512, png(img.getAsJsonArray("images").get(0).getAsString()).getHeight());
        JsonObject info = JsonParser.parseString(img.get("info").getAsString()).getAsJsonObject();
        assertEquals(3, info.get("steps").getAsInt(), "strength 0.75 runs three of the four steps");
    }

    @Test
    void theSideRoutesAnswerAsAutomatic1111() throws Exception {
        assertEquals("LCM", JsonParser.parseString(get("/sdapi/v1/samplers").body()).getAsJsonArray().get(0).getAsJsonObject().get("name").getAsString());
        assertTrue(get("/sdapi/v1/sd-models").body().contains("EMULATED"));
        JsonObject progress = json(get("/sdapi/v1/progress"));
        assertEquals(0.0, progress.get("progress").getAsDouble());
        assertEquals(200, post("/sdapi/v1/interrupt", "{}").statusCode());
    }

    @Test
    void thePickerAndTheExplorerInterrogateTheirImages() throws Exception {
        String camera = json(post("/generate", "{\"mode\": \"txt2img\", \"prompt\": \"a face\", \"seed\": 3}")).get("base64").getAsString();
        JsonObject structured = json(post("/sdapi/v1/interrogate/structured", "{\"image\": \"" + camera + "\", \"categories\": {"
                + "\"Sex/Gender\": [\"Male\", \"Female\", \"Non-binary\"], \"Age\": [\"Child\", \"Young adult\", \"Middle-aged\", \"Elderly\"],"
                + " \"Religion\": [\"Bahá'í\", \"Buddhist\", \"None\"], \"Socioeconomics\": [\"Working Class\", \"Middle Class\"]}}"));
        JsonObject results = structured.getAsJsonObject("results");
        assertEquals(List.of("Sex/Gender", "Age", "Religion", "Socioeconomics"), List.copyOf(results.keySet()));
        for (String c : results.keySet()) {
            double confidence = results.getAsJsonObject(c).get("confidence").getAsDouble();
            assertTrue(confidence > 0 && confidence <= 1, c + ": " + confidence);
        }
        assertTrue(List.of("Bahá'í", "Buddhist", "None").contains(results.getAsJsonObject("Religion").get("winner").getAsString()));
        JsonObject flat = json(post("/sdapi/v1/interrogate", "{\"image\": \"" + camera + "\"}"));
        assertFalse(flat.get("caption").getAsString().isEmpty());
        JsonObject best = flat.getAsJsonArray("interrogations").get(0).getAsJsonObject();
        // The service's rules (pi_axera_sd_generator.py): general_tags are the best 10 above 0.2, with no fallback.
        var general = structured.getAsJsonArray("general_tags");
        assertTrue(general.size() <= 10, general.toString());
        if (best.get("score").getAsDouble() > 0.2) {
            assertEquals(best.get("tag").getAsString(), general.get(0).getAsString(), general.toString());
        } else {
            assertEquals(0, general.size(), "nothing above 0.2, no fallback: " + general);
        }
        assertEquals(400, post("/sdapi/v1/interrogate", "{}").statusCode());
        HttpResponse<String> notImage = post("/sdapi/v1/interrogate", "{\"image\": \"" + Base64.getEncoder().encodeToString("text".getBytes(StandardCharsets.UTF_8)) + "\"}");
        assertEquals(400, notImage.statusCode(), notImage.body());
        assertTrue(json(notImage).get("detail").getAsString().contains("image"), notImage.body());
        assertEquals(400, post("/sdapi/v1/interrogate/structured", "{\"image\": \"" + camera + "\", \"categories\": {\"Age\": []}}").statusCode());
    }

    @Test
    void aChatJobAndAnImageJobSubmittedTogetherBothFinishOnTheSharedCard() throws Exception {
        var image = HTTP.sendAsync(HttpRequest.newBuilder(URI.create(base + "/sdapi/v1/txt2img")).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"prompt\": \"a fox\", \"width\": 128, \"height\": 128}")).build(),
                HttpResponse.BodyHandlers.ofString());
        var chat = HTTP.sendAsync(HttpRequest.newBuilder(URI.create(base + "/v1/chat/completions")).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"model\": \"qwen3-0.6b\", \"messages\": [{\"role\": \"user\", \"content\": \"hi\"}]}"))
                .build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, image.get(60, java.util.concurrent.TimeUnit.SECONDS).statusCode(), image.get().body());
        assertEquals(200, chat.get(60, java.util.concurrent.TimeUnit.SECONDS).statusCode(), chat.get().body());
        JsonObject health = json(get("/health"));
        assertTrue(health.toString().contains("sd15-lcm") && health.toString().contains("qwen3-0.6b"), health.toString());
    }

    @Test
    void theOpenAiSdkGeneratesAnImage() throws Exception {
        OpenAIClient openai = OpenAIOkHttpClient.builder().baseUrl(base + "/v1").apiKey("not-needed").build();
        ImagesResponse r = openai.images().generate(ImageGenerateParams.builder().prompt("a red fox")
                .size(ImageGenerateParams.Size._256X256).responseFormat(ImageGenerateParams.ResponseFormat.B64_JSON).build());
        BufferedImage img = png(r.data().orElseThrow().get(0).b64Json().orElseThrow());
        assertEquals(256, img.getWidth());
    }
}
