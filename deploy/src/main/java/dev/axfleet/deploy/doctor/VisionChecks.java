package dev.axfleet.deploy.doctor;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.axfleet.broker.Capability;
import dev.axfleet.broker.chat.ChatMessage;
import dev.axfleet.broker.chat.ChatParams;
import dev.axfleet.broker.chat.Part;
import dev.axfleet.deploy.doctor.Check.Need;
import dev.axfleet.deploy.models.ModelCatalog;
import dev.axfleet.worker.runtime.AxllmServeRuntime;
import dev.axfleet.worker.runtime.ChatOutcome;
import dev.axfleet.worker.runtime.Generation;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.imageio.ImageIO;

/**
 * A vision model under {@code axllm serve} (docs/hardware.md U28, F40): its folder's config.json as the runtime reads it,
 * then pictures described through the worker's adapter ({@link AxllmServeRuntime}, which makes each image what the encoder
 * needs with {@code VisionInput} and sends it as a PNG data URL), timed, and a media path on the wire (A17).
 */
final class VisionChecks {
    static final String PROMPT = "Describe the picture in one sentence, naming its colour.";
    /** The runtime's load line, {@code init post axmodel ok,remain_cmm(5764 MB)} (M5 docs internvl3). */
    private static final Pattern REMAIN = Pattern.compile("remain_cmm\\((\\d+)\\s*MB\\)");
    private static final Pattern START_LINES = Pattern.compile("(?i).*(remain_cmm|max_token_len|image_encoder|vlm|vision).*");

    private VisionChecks() {
    }

    static List<Check> all() {
        return List.of(Check.of("U28", "a vision model under axllm serve", Duration.ofMinutes(8), Set.of(Need.CARD_ALONE),
                List.of("F40", "A15", "A16", "A17"), VisionChecks::vision));
    }

    /** One answer to a picture (or none), timed as the worker sees it. */
    record Shot(String text, long firstMs, int tokens, double tokensPerSecond) {
        String figures() {
            return "first token " + firstMs + " ms, " + tokens + " tokens"
                    + (Double.isNaN(tokensPerSecond) ? "" : String.format(Locale.ROOT, " at %.2f tok/s", tokensPerSecond));
        }
    }

    static Verdict vision(Lab lab) throws Exception {
        Path dir = lab.target().visionModelDir();
        JsonObject config;
        try {
            JsonElement e = JsonParser.parseString(Files.readString(dir.resolve("config.json")));
            if (!e.isJsonObject()) {
                throw new IllegalStateException("not a JSON object");
            }
            config = e.getAsJsonObject();
        } catch (IOException | RuntimeException e) {
            return Verdict.differs(dir.resolve("config.json") + " cannot be read (" + e.getMessage() + "): axllm serve needs one (F1) with the "
                    + "keys of F40; write it, naming the repository's image encoder axmodel");
        }
        String vlm = string(config, "vlm_type", string(config, "VLM_TYPE", null));
        String encoder = string(config, "filename_image_encoder_axmodel", null);
        String size = config.has("vision_width") || config.has("vision_height")
                ? string(config, "vision_width", "448") + " x " + string(config, "vision_height", "448")
                : "not set (448, or the encoder's input)";
        String keys = "vlm_type " + vlm + ", filename_image_encoder_axmodel " + encoder
                + (encoder == null ? "" : Files.isRegularFile(dir.resolve(encoder)) ? " (in the folder)" : " (not in the folder)")
                + ", vision size " + size + ", vision_patch_size " + string(config, "vision_patch_size", "not set")
                + ", tokenizer_type " + string(config, "tokenizer_type", "not set") + " (A16 assumes Qwen2_5 for InternVL3-1B)";
        lab.note(lab.target().visionModel() + "'s config.json: " + keys);
        if (vlm == null || encoder == null) {
            return Verdict.differs("the folder's config.json has no " + (vlm == null ? "vlm_type" : "filename_image_encoder_axmodel")
                    + ": axllm serve loads it as a text model and the worker takes no images for it; write the keys (F40), naming the "
                    + "repository's encoder axmodel, and note them in docs/hardware.md U28; " + keys);
        }
        List<String> off = new ArrayList<>();
        AxllmServeRuntime r = lab.vision();
        long t0 = System.nanoTime();
        r.start(lab.loadTimeout());
        long loadMs = (System.nanoTime() - t0) / 1_000_000;
        String log = r.recentOutput();
        lab.output("the runtime's start-up lines on vision, CMM and context", String.join("\n",
                log.lines().filter(l -> START_LINES.matcher(l).matches()).toList()));
        Matcher remain = REMAIN.matcher(log);
        // The card's CMM less what is left is the model's own, since nothing else is loaded (the catalog's cmm_mib).
        String remainCmm = remain.find() ? remain.group(1) + " MB (about " + (ModelCatalog.CARD_CMM_MIB - Integer.parseInt(remain.group(1)))
                + " MiB for the model)" : "no remain_cmm line";
        if (!r.capabilities().contains(Capability.VISION)) {
            off.add("the worker's adapter does not take " + lab.target().visionModel() + " for a vision model (it reads vlm_type)");
        }

        Shot red = ask(lab, r, image(0xC82828), PROMPT);
        Shot blue = ask(lab, r, image(0x2846C8), PROMPT);
        Shot none = ask(lab, r, null, PROMPT);
        if (red.text().isBlank()) {
            off.add("no description of the picture (an empty answer)");
        } else if (red.text().equals(blue.text())) {
            off.add("the same answer for a red and a blue picture (greedy): the model does not see the images (\"" + oneLine(red.text(), 100)
                    + "\")");
        }
        boolean named = red.text().toLowerCase(Locale.ROOT).contains("red") && blue.text().toLowerCase(Locale.ROOT).contains("blue");

        // A17: a path in a media part (axfleet never sends one; the runtime reads it as a file on the Pi).
        JsonObject path = missingPath(AxllmChecks.model(r), true);
        Sse.Reply streamed = Sse.post(r.base().getPort(), "/v1/chat/completions", path, Duration.ofSeconds(60), 0);
        Sse.Reply plain = Sse.post(r.base().getPort(), "/v1/chat/completions", missingPath(AxllmChecks.model(r), false), Duration.ofSeconds(60), 0);
        String error = streamed.data().stream().filter(d -> d.has("error")).map(d -> d.get("error").toString()).findFirst().orElse(null);
        String pathSeen = "a missing media path, streamed: HTTP " + streamed.status() + " " + (error != null ? "error " + oneLine(error, 160)
                : oneLine(String.valueOf(streamed.contents()), 120)) + "; not streamed: HTTP " + plain.status() + " " + oneLine(plain.body(), 160);
        lab.note(pathSeen);
        if (error == null && streamed.status() < 400) {
            off.add("a missing media path was answered, not refused (A17 assumes \"Failed to parse chat messages.\"): " + pathSeen);
        }
        if (!r.healthy()) {
            off.add("the runtime no longer answers /health after the missing path");
        }

        String figures = "load " + loadMs + " ms, remain_cmm " + remainCmm + ", max_token_len " + r.contextTokens()
                + "; red picture: " + red.figures() + "; blue: " + blue.figures() + "; no picture: " + none.figures()
                + "; a picture adds about " + (Math.min(red.firstMs(), blue.firstMs()) - none.firstMs()) + " ms before the first token (the "
                + "worker's scaling, the encoder and its image tokens; A15)"
                + "; the colours named: " + (named ? "yes" : "no") + "; " + pathSeen + "; " + keys;
        return off.isEmpty() ? Verdict.verified("pictures described through the worker's adapter (PNG data URLs), a different answer for each: \""
                + oneLine(red.text(), 100) + "\"; " + figures) : Verdict.differs(String.join("; ", off) + "; " + figures);
    }

    /** {@code image}: a picture's bytes, or null for the text alone; greedy, thinking off. */
    private static Shot ask(Lab lab, AxllmServeRuntime r, byte[] image, String prompt) throws Exception {
        List<Part> parts = new ArrayList<>(List.of(new Part.Text(prompt)));
        if (image != null) {
            parts.add(new Part.Image(image));
        }
        ChatParams p = new ChatParams(List.of(new ChatMessage(ChatMessage.USER, parts, List.of(), null)), 0.0, null, null, 48, List.of(), null,
                null, null, null, false);
        AtomicLong last = new AtomicLong();
        Generation g = new Generation(List.of(), 48, x -> last.set(System.nanoTime()), () -> false);
        long t0 = System.nanoTime();
        ChatOutcome o = r.chat(p, g);
        long first = g.firstTextNanos() == 0 ? -1 : (g.firstTextNanos() - t0) / 1_000_000;
        double span = (last.get() - g.firstTextNanos()) / 1e9;
        double rate = g.tokens() > 1 && span > 0.001 ? (g.tokens() - 1) / span : Double.NaN;
        Shot shot = new Shot(o.text(), first, g.tokens(), rate);
        lab.note((image == null ? "no picture" : "a picture of " + image.length + " bytes (JPEG)") + ": " + shot.figures() + ": "
                + oneLine(o.text(), 300));
        return shot;
    }

    /** A 640 × 480 JPEG of one colour, as a camera would send it (the adapter scales it for the encoder and sends a PNG). */
    static byte[] image(int rgb) throws IOException {
        BufferedImage img = new BufferedImage(640, 480, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < img.getHeight(); y++) {
            for (int x = 0; x < img.getWidth(); x++) {
                img.setRGB(x, y, rgb);
            }
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ImageIO.write(img, "jpg", out);
        return out.toByteArray();
    }

    /** hardware.md U28's request with {@code "/no/such.png"} for the image's URL. */
    private static JsonObject missingPath(String model, boolean stream) {
        JsonObject url = new JsonObject();
        url.addProperty("url", "/no/such.png");
        JsonObject part = new JsonObject();
        part.addProperty("type", "image_url");
        part.add("image_url", url);
        JsonArray content = new JsonArray();
        content.add(part);
        JsonObject m = new JsonObject();
        m.addProperty("role", "user");
        m.add("content", content);
        JsonArray messages = new JsonArray();
        messages.add(m);
        JsonObject o = new JsonObject();
        o.addProperty("model", model);
        o.addProperty("stream", stream);
        o.addProperty("max_tokens", 16);
        o.add("messages", messages);
        return o;
    }

    private static String string(JsonObject o, String key, String fallback) {
        JsonElement e = o.get(key);
        return e == null || e.isJsonNull() ? fallback : e.isJsonPrimitive() ? e.getAsString() : e.toString();
    }

    private static String oneLine(String text, int max) {
        return ToolChecks.oneLine(text, max);
    }
}
