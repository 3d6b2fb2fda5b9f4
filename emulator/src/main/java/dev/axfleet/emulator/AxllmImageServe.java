package dev.axfleet.emulator;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.locks.ReentrantLock;
import javax.imageio.ImageIO;

/**
 * Stands in for {@code axllm serve <lcm-lora-sdv1-5 dir>}, the image side of ax-llm (AXERA-TECH/ax-llm
 * docs/sd15_axllm_implementation.md; ../shared/axera.md §4.6): {@code config.json} lists {@code image_variants}
 * ({@code id, dir, size, supports_img2img}); {@code GET /v1/models} lists their ids; {@code POST
 * /v1/images/generations} takes {@code {model, prompt, size, n, response_format: "b64_json", seed}};
 * {@code POST /v1/images/edits} takes multipart {@code model, prompt, size, response_format, image}; answers
 * {@code {created, data: [{b64_json}]}}; errors {@code {"error": {code: "image_request_error", message, type}}}.
 * One image at a time, at the card's measured pace (UNet 4 × 434 ms, VAE 914 ms; img2img 2 steps). The pictures
 * are drawn from the prompt and seed, not generated: it says it is an emulator in its log and in /v1/models.
 */
final class AxllmImageServe {
    private final Map<String, JsonObject> variants = new LinkedHashMap<>();
    private final TimeScale time;
    private final ReentrantLock card = new ReentrantLock(true);

    AxllmImageServe(JsonArray imageVariants, TimeScale time) {
        imageVariants.forEach(v -> variants.put(v.getAsJsonObject().get("id").getAsString(), v.getAsJsonObject()));
        this.time = time;
    }

    void run(int port) throws IOException {
        AxllmServe.say("EMULATOR: axfleet's stand-in for axllm serve (image variants), not the AX650 card (time scale " + time.scale() + ")");
        variants.keySet().forEach(id -> AxllmServe.say("[I] image variant " + id + " registered"));
        Map<String, HttpHandler> routes = new HashMap<>();
        routes.put("/health", Http.only("GET", ex -> {
            JsonObject o = new JsonObject();
            o.addProperty("status", "healthy");
            o.addProperty("emulated", true);
            Http.json(ex, 200, o);
        }));
        routes.put("/v1/models", Http.only("GET", this::models));
        routes.put("/v1/images/generations", Http.only("POST", this::generations));
        routes.put("/v1/images/edits", Http.only("POST", this::edits));
        Http.server("127.0.0.1", port, routes).start();
        AxllmServe.say("OpenAI API Server starting on http://127.0.0.1:" + port);
    }

    private void models(HttpExchange ex) throws IOException {
        JsonArray data = new JsonArray();
        variants.keySet().forEach(id -> {
            JsonObject m = new JsonObject();
            m.addProperty("id", id);
            m.addProperty("object", "model");
            m.addProperty("owned_by", "axfleet emulator (not the card)");
            data.add(m);
        });
        JsonObject o = new JsonObject();
        o.addProperty("object", "list");
        o.add("data", data);
        Http.json(ex, 200, o);
    }

    private void generations(HttpExchange ex) throws IOException {
        JsonObject body = Http.jsonBody(Http.body(ex));
        if (body == null || !body.has("prompt")) {
            error(ex, 400, "prompt is required");
            return;
        }
        answer(ex, string(body, "model"), string(body, "prompt"), string(body, "size"), body.has("seed") ? body.get("seed").getAsLong() : 0,
                null);
    }

    private void edits(HttpExchange ex) throws IOException {
        String type = ex.getRequestHeaders().getFirst("Content-Type");
        Map<String, byte[]> parts = Multipart.parse(type, ex.getRequestBody().readAllBytes());
        if (parts == null || !parts.containsKey("image") || !parts.containsKey("prompt")) {
            error(ex, 400, "multipart image and prompt are required");
            return;
        }
        String model = text(parts.get("model"));
        JsonObject v = variants.get(model);
        if (v != null && !v.get("supports_img2img").getAsBoolean()) {
            error(ex, 400, "img2img is not supported for this model variant");
            return;
        }
        BufferedImage init = ImageIO.read(new ByteArrayInputStream(parts.get("image")));
        if (init == null) {
            error(ex, 400, "image could not be decoded");
            return;
        }
        answer(ex, model, text(parts.get("prompt")), text(parts.get("size")), 0, init);
    }

    private void answer(HttpExchange ex, String model, String prompt, String size, long seed, BufferedImage init) throws IOException {
        JsonObject v = variants.get(model);
        if (v == null) {
            error(ex, 400, "model not found: " + model + "; available: " + String.join(", ", variants.keySet()));
            return;
        }
        if (size != null && !size.equals(v.get("size").getAsString())) {
            error(ex, 400, "size " + size + " is not supported by " + model + " (" + v.get("size").getAsString() + ")");
            return;
        }
        String[] wh = v.get("size").getAsString().split("x");
        card.lock();
        try {
            time.npu(init == null ? 10 + 4 * 434 + 914 : 500 + 2 * 434 + 914);
            BufferedImage img = picture(Integer.parseInt(wh[0]), Integer.parseInt(wh[1]), prompt, seed, init);
            ByteArrayOutputStream png = new ByteArrayOutputStream();
            ImageIO.write(img, "png", png);
            JsonObject d = new JsonObject();
            d.addProperty("b64_json", Base64.getEncoder().encodeToString(png.toByteArray()));
            JsonArray data = new JsonArray();
            data.add(d);
            JsonObject o = new JsonObject();
            o.addProperty("created", System.currentTimeMillis() / 1000);
            o.add("data", data);
            Http.json(ex, 200, o);
        } finally {
            card.unlock();
        }
    }

    /** A picture that depends on the prompt, the seed and the input image: not a model's, an emulator's. */
    static BufferedImage picture(int w, int h, String prompt, long seed, BufferedImage init) {
        SplittableRandom r = new SplittableRandom(seed * 31 + prompt.hashCode());
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        if (init != null) {
            g.drawImage(init, 0, 0, w, h, null);
        } else {
            g.setPaint(new java.awt.GradientPaint(0, 0, new Color(r.nextInt(0xFFFFFF)), w, h, new Color(r.nextInt(0xFFFFFF))));
            g.fillRect(0, 0, w, h);
        }
        for (int i = 0; i < 12; i++) {
            g.setColor(new Color(r.nextInt(256), r.nextInt(256), r.nextInt(256), 160));
            int s = 20 + r.nextInt(Math.max(21, w / 3));
            g.fillOval(r.nextInt(w), r.nextInt(h), s, s);
        }
        g.setColor(Color.WHITE);
        g.drawString("EMULATED", 8, h - 8);
        g.dispose();
        return img;
    }

    private static void error(HttpExchange ex, int status, String message) throws IOException {
        JsonObject e = new JsonObject();
        e.addProperty("code", "image_request_error");
        e.addProperty("message", message);
        e.addProperty("type", "image_request_error");
        JsonObject o = new JsonObject();
        o.add("error", e);
        Http.json(ex, status, o);
    }

    private static String string(JsonObject o, String key) {
        return o.has(key) && o.get(key).isJsonPrimitive() ? o.get(key).getAsString() : null;
    }

    private static String text(byte[] part) {
        return part == null ? null : new String(part, StandardCharsets.UTF_8);
    }
}
