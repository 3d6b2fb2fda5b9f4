package dev.axfleet.broker.image;

import dev.axfleet.broker.Range;
import dev.axfleet.broker.Task;
import dev.axfleet.broker.TaskParams;
import java.util.Objects;

/**
 * What a txt2img or img2img job asks of the image model. Fields a client set but the pipeline cannot honour
 * (steps, cfg scale, sampler) travel along so the answer can say what ran instead.
 *
 * @param seed              the seed asked for; null (or -1 from clients) lets the worker pick one
 * @param width             output width in pixels, 1 to {@link #MAX_SIDE}
 * @param height            output height in pixels, 1 to {@link #MAX_SIDE}
 * @param initImage         img2img only: the input image, base64 (PNG or JPEG, no {@code data:} prefix)
 * @param denoisingStrength img2img only: 0 to 1, how much of the input is redrawn; null means 0.5 (the installations' service; docs/hardware.md F26)
 */
public record ImageParams(
        Task task,
        String prompt,
        String negativePrompt,
        Long seed,
        int width,
        int height,
        Integer steps,
        Double cfgScale,
        String sampler,
        String initImage,
        Double denoisingStrength,
        ResizeMode resizeMode) implements TaskParams {

    /** The largest side a client may ask for; AUTOMATIC1111's own interface stops at 2048. */
    public static final int MAX_SIDE = 2048;
    /** Base64 characters of an input image: a 2048×2048 RGB PNG stored without compression fits. */
    public static final int MAX_IMAGE_BASE64 = 17 << 20;
    public static final int DEFAULT_SIDE = 512;
    public static final int MAX_PROMPT_CHARS = 10_000;
    public static final Range STEPS = new Range(1, 1000);
    public static final Range CFG_SCALE = new Range(0, 100);
    public static final Range DENOISING_STRENGTH = new Range(0, 1);
    public static final int MAX_SAMPLER_CHARS = 64;


    public ImageParams {
        Objects.requireNonNull(task, "task");
        Objects.requireNonNull(prompt, "prompt");
        if (task != Task.TXT2IMG && task != Task.IMG2IMG) {
            throw new IllegalArgumentException("not an image generation task: " + task);
        }
        if (task == Task.IMG2IMG) {
            Objects.requireNonNull(initImage, "initImage");
        }
        if (resizeMode == null) {
            resizeMode = ResizeMode.STRETCH;
        }
    }
}
