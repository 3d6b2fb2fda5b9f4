package dev.axfleet.gateway.images;

import dev.axfleet.broker.Base64Data;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonPrimitive;
import dev.axfleet.broker.image.ImageParams;
import dev.axfleet.broker.image.ResizeMode;
import dev.axfleet.broker.Task;
import dev.axfleet.gateway.ApiException;

/**
 * An image request as the installations' clients send it (../shared/clients.md): AUTOMATIC1111's field set
 * ({@code prompt, negative_prompt, seed, steps, cfg_scale, sampler_name, width, height, n_iter, batch_size,
 * denoising_strength, init_images, resize_mode}, the rest accepted and ignored) and the installations'
 * {@code /generate} additions ({@code mode, init_image, strength}). Numbers may come as JSON numbers or numeric
 * strings; only what is absurd is refused: a size that is not a number, ≤ 0 or over 2048.
 */
final class ImageRequest {
    static final int MAX_IMAGES = 4;

    private ImageRequest() {
    }

    /** The image params of {@code body}; img2img when {@code task} says so. */
    static ImageParams params(JsonObject body, Task task) throws ApiException {
        String prompt = string(body, "prompt");
        if (prompt == null) {
            prompt = "";
        }
        if (prompt.length() > ImageParams.MAX_PROMPT_CHARS) {
            throw ApiException.badRequest("prompt", "longer than " + ImageParams.MAX_PROMPT_CHARS + " characters");
        }
        String init = null;
        if (task == Task.IMG2IMG) {
            init = string(body, "init_image");
            JsonElement list = body.get("init_images");
            if (init == null && list instanceof JsonArray a && !a.isEmpty() && a.get(0) instanceof JsonPrimitive p && p.isString()) {
                init = p.getAsString();
            }
            if (init == null || init.isBlank()) {
                throw ApiException.badRequest("init_images", "img2img needs an input image: init_images[0] (or init_image), base64 PNG or JPEG");
            }
            if (init.length() > ImageParams.MAX_IMAGE_BASE64) {
                throw ApiException.badRequest("init_images", "the input image is over " + ImageParams.MAX_IMAGE_BASE64 + " base64 characters");
            }
            try {
                Base64Data.decode(init);
            } catch (IllegalArgumentException e) {
                throw ApiException.badRequest("init_images", "not base64: " + e.getMessage());
            }
        }
        Double strength = number(body, "denoising_strength", ImageParams.DENOISING_STRENGTH);
        if (strength == null) {
            strength = number(body, "strength", ImageParams.DENOISING_STRENGTH);
        }
        Double seed = number(body, "seed", -1, 0xFFFF_FFFFL * 4096.0);
        Double resize = number(body, "resize_mode", 0, ResizeMode.values().length - 1);
        Double steps = number(body, "steps", ImageParams.STEPS);
        return new ImageParams(task, prompt, string(body, "negative_prompt"),
                seed == null || seed < 0 ? null : (long) Math.floor(seed),
                side(body, "width"), side(body, "height"),
                steps == null ? null : (int) Math.round(steps),
                number(body, "cfg_scale", ImageParams.CFG_SCALE),
                sampler(body),
                init == null ? null : stripDataUrl(init),
                task == Task.IMG2IMG ? strength : null,
                resize == null ? ResizeMode.STRETCH : ResizeMode.ofNumber((int) Math.round(resize)));
    }

    /** {@code n_iter × batch_size}, at least 1, at most {@link #MAX_IMAGES}. */
    static int count(JsonObject body) throws ApiException {
        Double n = number(body, "n_iter", 1, 100);
        Double b = number(body, "batch_size", 1, 100);
        long total = Math.round(n == null ? 1 : n) * Math.round(b == null ? 1 : b);
        if (total > MAX_IMAGES) {
            throw ApiException.badRequest("n_iter", "at most " + MAX_IMAGES + " images per request (n_iter × batch_size = " + total + ")");
        }
        return (int) total;
    }

    private static String sampler(JsonObject body) throws ApiException {
        String s = string(body, "sampler_name");
        return s != null ? s : string(body, "sampler_index");
    }

    private static String stripDataUrl(String b64) {
        int comma = b64.indexOf(',');
        return b64.startsWith("data:") && comma > 0 ? b64.substring(comma + 1) : b64;
    }

    private static int side(JsonObject body, String key) throws ApiException {
        Double v = number(body, key, 1, ImageParams.MAX_SIDE);
        return v == null ? ImageParams.DEFAULT_SIDE : (int) Math.round(v);
    }

    static String string(JsonObject body, String key) throws ApiException {
        JsonElement e = body.get(key);
        if (e == null || e.isJsonNull()) {
            return null;
        }
        if (e instanceof JsonPrimitive p && p.isString()) {
            return p.getAsString();
        }
        throw ApiException.badRequest(key, "must be a string");
    }

    /** A number or a numeric string from {@code min} to {@code max}; null when absent. */
    static Double number(JsonObject body, String key, dev.axfleet.broker.Range range) throws ApiException {
        return number(body, key, range.min(), range.max());
    }

    static Double number(JsonObject body, String key, double min, double max) throws ApiException {
        JsonElement e = body.get(key);
        if (e == null || e.isJsonNull()) {
            return null;
        }
        double v;
        try {
            if (e instanceof JsonPrimitive p && (p.isNumber() || p.isString())) {
                v = Double.parseDouble(p.getAsString().trim());
            } else {
                throw new NumberFormatException();
            }
        } catch (NumberFormatException ex) {
            throw ApiException.badRequest(key, "must be a number");
        }
        if (!(v >= min && v <= max)) {
            throw ApiException.badRequest(key, "must be from " + (long) min + " to " + (long) max + ", not " + e);
        }
        return v;
    }
}
