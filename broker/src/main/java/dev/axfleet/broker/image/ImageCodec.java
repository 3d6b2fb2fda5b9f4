package dev.axfleet.broker.image;

import dev.axfleet.broker.Base64Data;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import dev.axfleet.broker.FieldException;
import dev.axfleet.broker.JsonFields;
import dev.axfleet.broker.KindCodec;
import dev.axfleet.broker.Task;
import java.util.ArrayList;
import java.util.List;

/** txt2img and img2img on the wire: A1111's field names in {@code params}; results carry {@code images}, {@code seed}, {@code info}. */
public final class ImageCodec extends KindCodec<ImageParams, Images> {
    public static final ImageCodec INSTANCE = new ImageCodec();
    /** Image jobs carry their input image: up to {@link ImageParams#MAX_IMAGE_BASE64} characters of it, and the rest. */
    public static final int MAX_JOB_BYTES = ImageParams.MAX_IMAGE_BASE64 + (1 << 20);

    private ImageCodec() {
        super(ImageParams.class, Images.class);
    }

    @Override
    public int maxJobBytes() {
        return MAX_JOB_BYTES;
    }

    @Override
    protected void writeParams(ImageParams p, JsonObject o) {
        o.addProperty("prompt", p.prompt());
        if (p.negativePrompt() != null) {
            o.addProperty("negative_prompt", p.negativePrompt());
        }
        addIfSet(o, "seed", p.seed());
        o.addProperty("width", p.width());
        o.addProperty("height", p.height());
        addIfSet(o, "steps", p.steps());
        addIfSet(o, "cfg_scale", p.cfgScale());
        if (p.sampler() != null) {
            o.addProperty("sampler_name", p.sampler());
        }
        if (p.initImage() != null) {
            o.addProperty("init_image", p.initImage());
        }
        addIfSet(o, "denoising_strength", p.denoisingStrength());
        o.addProperty("resize_mode", p.resizeMode().ordinal());
    }

    @Override
    protected ImageParams readParams(Task task, JsonFields f) throws FieldException {
        String prompt = f.optString("prompt", 0, ImageParams.MAX_PROMPT_CHARS);
        if (prompt == null) {
            throw new FieldException(f.prefix() + "prompt", "required (it may be empty)");
        }
        Long seed = f.optLong("seed");
        String init = task == Task.IMG2IMG ? image(f, "init_image") : null;
        Integer resize = f.optInt("resize_mode", 0, ResizeMode.values().length - 1);
        return new ImageParams(task, prompt,
                f.optString("negative_prompt", 0, ImageParams.MAX_PROMPT_CHARS),
                seed == null || seed == -1 ? null : seed,
                side(f, "width"),
                side(f, "height"),
                f.optInt("steps", ImageParams.STEPS),
                f.optDouble("cfg_scale", ImageParams.CFG_SCALE),
                f.optString("sampler_name", 0, ImageParams.MAX_SAMPLER_CHARS),
                init,
                f.optDouble("denoising_strength", ImageParams.DENOISING_STRENGTH),
                resize == null ? ResizeMode.STRETCH : ResizeMode.ofNumber(resize));
    }

    private static int side(JsonFields f, String key) throws FieldException {
        Integer v = f.optInt(key, 1, ImageParams.MAX_SIDE);
        return v == null ? ImageParams.DEFAULT_SIDE : v;
    }

    /** A required base64 image: its characters are checked here, its content by the worker that decodes it. */
    public static String image(JsonFields f, String key) throws FieldException {
        String b64 = f.optString(key, 1, ImageParams.MAX_IMAGE_BASE64);
        if (b64 == null) {
            throw new FieldException(f.prefix() + key, "required: a base64 PNG or JPEG of at most "
                    + ImageParams.MAX_IMAGE_BASE64 + " characters");
        }
        try {
            Base64Data.decode(b64);
        } catch (IllegalArgumentException e) {
            throw new FieldException(f.prefix() + key, "not base64: " + e.getMessage());
        }
        return b64;
    }

    @Override
    protected void writeOutput(Images out, JsonObject o) {
        JsonArray images = new JsonArray();
        out.png().forEach(images::add);
        o.add("images", images);
        o.addProperty("seed", out.seed());
        o.addProperty("info", out.info());
    }

    @Override
    protected Images readOutput(JsonObject o) {
        List<String> png = new ArrayList<>();
        o.getAsJsonArray("images").forEach(e -> png.add(e.getAsString()));
        return new Images(png, o.get("seed").getAsLong(), string(o, "info"));
    }
}
