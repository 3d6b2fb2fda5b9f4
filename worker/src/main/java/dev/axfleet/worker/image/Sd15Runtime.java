package dev.axfleet.worker.image;

import dev.axfleet.broker.Base64Data;
import dev.axfleet.broker.image.Images;
import dev.axfleet.broker.interrogate.Interrogation;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import dev.axfleet.broker.image.ImageParams;
import dev.axfleet.broker.interrogate.InterrogateParams;
import dev.axfleet.broker.image.ResizeMode;
import dev.axfleet.broker.Task;
import dev.axfleet.worker.runtime.EngineException;
import dev.axfleet.worker.runtime.ImageRuntime;
import dev.axfleet.worker.runtime.RuntimeStartException;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The SD1.5-LCM model resident in this worker's process: the card opened through {@code libaxcl_rt.so} and every
 * engine loaded at start, never mid-job. Renders at the UNet's 512 × 512 and answers at the size asked for (scaled
 * to cover, centre-cropped), saying in {@code info} what ran and what was not honoured.
 */
public final class Sd15Runtime implements ImageRuntime {
    private static final Logger log = LoggerFactory.getLogger(Sd15Runtime.class);

    /**
     * @param library     what JNA loads: {@code axcl_rt} on the Pi, or the emulated library's path
     * @param card        the card's index in the device list
     * @param modelDir    the SD1.5-LCM model folder (axera.md §4.1)
     * @param callTimeout the longest one call to the card may take, loading an engine included
     */
    public record Config(String library, int card, Path modelDir, Duration callTimeout) {
    }

    /**
     * img2img's strength when a job gives none: 0.5, two of the four LCM steps. The installations' current service defaults
     * to it (gregm123456/sd1.5-lcm.axera@a54a04d pi_axera_sd_generator.py:480, :603, :749) and the manufacturer's
     * img2img script always runs those two steps (AXERA-TECH/sd1.5-lcm.axera python/run_img2img_axe_infer.py), so a
     * client moving from that service gets the same picture. AUTOMATIC1111's own default, 0.75, is what its UI starts
     * at; clients written against its API send the key.
     */
    static final double DEFAULT_STRENGTH = 0.5;

    private final Config config;
    private final Set<Task> tasks;
    private volatile AxclDevice device;
    private volatile Sd15Pipeline sd;
    private volatile Sd15Pipeline tall;
    private volatile ClipInterrogator clip;

    public Sd15Runtime(Config config) {
        this.config = config;
        Set<Task> t = EnumSet.of(Task.TXT2IMG);
        if (Files.isRegularFile(square().resolve("vae_encoder.axmodel"))) {
            t.add(Task.IMG2IMG);
        }
        if (ClipInterrogator.installed(clipDir())) {
            t.add(Task.INTERROGATE);
        }
        this.tasks = Set.copyOf(t);
    }

    @Override
    public String kind() {
        return "sd15-lcm";
    }

    @Override
    public String missing(Task task) {
        return switch (task) {
            case INTERROGATE -> "its CLIP models are not installed (" + clipDir() + ")";
            case IMG2IMG -> "its VAE encoder is not installed (" + square().resolve("vae_encoder.axmodel") + ")";
            default -> null;
        };
    }

    /** Read from the model folder when the worker starts (the job loop asks for every job). */
    @Override
    public Set<Task> tasks() {
        return tasks;
    }

    @Override
    public synchronized void start(Duration timeout) throws RuntimeStartException {
        if (sd != null) {
            return;
        }
        try {
            device = AxclDevice.open(config.library(), config.card(), config.callTimeout());
            checkCmm(device);
            sd = Sd15Pipeline.load(device, square());
            loadTall(device);
            if (ClipInterrogator.installed(clipDir())) {
                clip = ClipInterrogator.load(device, sd.tokenizer(), clipDir());
            }
            log.info("SD1.5-LCM loaded from {} on device {} ({}; {})", config.modelDir(), device.deviceId(), device.version(),
                    (sd.canImg2Img() ? "txt2img and img2img" : "txt2img only: no vae_encoder.axmodel")
                            + (clip != null ? ", CLIP interrogation" : ", no CLIP interrogation (" + clipDir() + " incomplete)"));
        } catch (IOException | RuntimeException e) {
            close();
            throw new RuntimeStartException("SD1.5-LCM could not be loaded: " + e.getMessage());
        } catch (RuntimeStartException e) {
            close();
            throw e;
        }
    }

    /**
     * The square 512 × 512 variant's folder: {@code runtime.model_dir} itself, or its {@code models/} as in the
     * manufacturer's repository, whose {@code models_1024x768/} holds the 768 × 1024 variant (axera.md §4.1).
     */
    private Path square() {
        Path models = config.modelDir().resolve("models");
        return Files.isRegularFile(config.modelDir().resolve("unet.axmodel")) || !Files.isDirectory(models) ? config.modelDir() : models;
    }

    private Path tallDir() {
        Path inside = config.modelDir().resolve("models_1024x768");
        return Files.isDirectory(inside) ? inside : config.modelDir().resolveSibling("models_1024x768");
    }

    /** The 768 × 1024 variant, when it is installed and the card has room for it beside the square one. */
    private void loadTall(AxclDevice d) throws IOException {
        Path dir = tallDir();
        if (!Files.isRegularFile(dir.resolve("unet.axmodel"))) {
            return;
        }
        long need = cmmBytes(d, Sd15Pipeline.engines(dir));
        long free = d.freeCmmBytes();
        if (need > free) {
            log.warn("the 768x1024 variant in {} is not loaded: it needs {} MiB of CMM and the card has {} MiB free", dir, need >> 20, free >> 20);
            return;
        }
        tall = Sd15Pipeline.load(d, dir);
        log.info("the 768x1024 variant is loaded too ({} MiB of CMM)", need >> 20);
    }

    /** The variant closer to the asked aspect ratio: 768 × 1024 for portraits near 3:4 when loaded, else 512 × 512. */
    private Sd15Pipeline variantFor(ImageParams params) {
        Sd15Pipeline t = tall;
        if (t == null || params.task() == Task.IMG2IMG) {
            return sd;
        }
        double aspect = (double) params.width() / params.height();
        double tallAspect = (double) t.width() / t.height();
        return Math.abs(Math.log(aspect / tallAspect)) < Math.abs(Math.log(aspect)) ? t : sd;
    }

    /**
     * Refuses to load what the card has no room for: the engines' CMM ({@code axclrtEngineGetUsage}) against the
     * card's free CMM. Loading anyway can crash the driver (axera.md §8.5: Qwen3-4B leaves no room for SD).
     */
    private void checkCmm(AxclDevice d) throws RuntimeStartException {
        List<Path> engines = new ArrayList<>(Sd15Pipeline.engines(square()));
        engines.add(clipDir().resolve("clip_base_vision.axmodel"));
        engines.add(clipDir().resolve("clip_base_text.axmodel"));
        long need = cmmBytes(d, engines);
        long free = d.freeCmmBytes();
        if (need > free) {
            throw new RuntimeStartException("SD1.5-LCM needs " + (need >> 20) + " MiB of CMM and the card has " + (free >> 20)
                    + " MiB free: another model holds the rest (a Qwen3-4B leaves no room for SD; 0.6B and 1.7B do). Not loading.");
        }
        log.info("SD1.5-LCM needs {} MiB of CMM; the card has {} MiB free", need >> 20, free >> 20);
    }

    /** The CMM the engine files among {@code engines} that exist take once loaded ({@code axclrtEngineGetUsage}). */
    private static long cmmBytes(AxclDevice d, List<Path> engines) {
        long need = 0;
        for (Path engine : engines) {
            if (Files.isRegularFile(engine)) {
                need += d.cmmBytes(engine);
            }
        }
        return need;
    }

    @Override
    public boolean healthy() {
        AxclDevice d = device;
        return sd != null && d != null && d.answering();
    }

    @Override
    public void restart(String why, Duration timeout) throws RuntimeStartException {
        log.warn("reloading SD1.5-LCM: {}", why);
        close();
        start(timeout);
    }

    @Override
    public boolean emulated() {
        AxclDevice d = device;
        return d != null && d.version().contains("EMULATED");
    }

    /** The worker's own process holds the card (the engines run in it). */
    @Override
    public List<Long> pids() {
        return device == null ? List.of() : List.of(ProcessHandle.current().pid());
    }

    @Override
    public Images generate(ImageParams params, Progress progress) throws EngineException {
        Sd15Pipeline pipeline = sd == null ? null : variantFor(params);
        if (pipeline == null) {
            throw new EngineException(EngineException.Kind.UNAVAILABLE, "SD1.5-LCM is not loaded");
        }
        long start = System.nanoTime();
        long seed = params.seed() != null ? params.seed() : ThreadLocalRandom.current().nextLong(1L << 32);
        Sd15Pipeline.Rendered r;
        try {
            if (params.task() == Task.IMG2IMG) {
                BufferedImage init = Pictures.fit(Pictures.decode(Base64Data.decode(params.initImage())), pipeline.width(),
                        pipeline.height(), params.resizeMode());
                double strength = params.denoisingStrength() != null ? params.denoisingStrength() : DEFAULT_STRENGTH;
                r = pipeline.img2img(params.prompt(), seed, init, strength, progress);
            } else {
                r = pipeline.txt2img(params.prompt(), seed, progress);
            }
        } catch (IllegalArgumentException e) {
            throw new EngineException(EngineException.Kind.REJECTED, "the input image: " + e.getMessage(), "params.init_image");
        } catch (AxclException e) {
            throw new EngineException(EngineException.Kind.UNAVAILABLE, "the card: " + e.getMessage(), e);
        }
        BufferedImage out = Pictures.fit(r.image(), params.width(), params.height(), ResizeMode.CROP);
        String png = Base64.getEncoder().encodeToString(Pictures.png(out));
        return new Images(List.of(png), seed, info(params, seed, r, pipeline, System.nanoTime() - start - r.cardNanos()));
    }

    /**
     * What ran, in AUTOMATIC1111's {@code info} spirit, with a warning for each request that was not honoured, and where
     * the time went: {@code card_ms} in the card's calls, {@code host_ms} everything else (decoding, tokenizing,
     * buffers, scheduler, scaling, PNG).
     */
    private String info(ImageParams params, long seed, Sd15Pipeline.Rendered r, Sd15Pipeline variant, long hostNanos) {
        List<String> warnings = new ArrayList<>();
        if (params.steps() != null && params.steps() != r.steps()) {
            warnings.add("steps " + params.steps() + " asked; LCM ran " + r.steps() + " (its time embeddings fix the steps)");
        }
        if (params.cfgScale() != null && params.cfgScale() != 1.0) {
            warnings.add("cfg_scale " + params.cfgScale() + " ignored: this LCM pipeline runs without classifier-free guidance");
        }
        if (params.sampler() != null && !params.sampler().equalsIgnoreCase("LCM")) {
            warnings.add("sampler \"" + params.sampler() + "\" not available; LCM ran");
        }
        if (params.negativePrompt() != null && !params.negativePrompt().isBlank()) {
            warnings.add("negative_prompt ignored: without guidance there is nothing to steer away from");
        }
        String render = variant.width() + "x" + variant.height();
        if (params.width() != variant.width() || params.height() != variant.height()) {
            warnings.add("rendered at " + render + " (a size the card's UNet is compiled for), then scaled and centre-cropped to "
                    + params.width() + "x" + params.height());
        }
        JsonObject o = new JsonObject();
        o.addProperty("prompt", params.prompt());
        o.addProperty("seed", seed);
        o.addProperty("steps", r.steps());
        o.addProperty("sampler_name", "LCM");
        o.addProperty("cfg_scale", 1.0);
        o.addProperty("width", params.width());
        o.addProperty("height", params.height());
        o.addProperty("render_size", render);
        if (params.task() == Task.IMG2IMG) {
            o.addProperty("denoising_strength", params.denoisingStrength() != null ? params.denoisingStrength() : DEFAULT_STRENGTH);
        }
        o.addProperty("sd_model_name", "lcm-lora-sdv1-5");
        o.addProperty("emulated", emulated());
        JsonArray w = new JsonArray();
        warnings.forEach(w::add);
        o.add("warnings", w);
        o.addProperty("text_ms", r.textNanos() / 1_000_000);
        o.addProperty("card_ms", r.cardNanos() / 1_000_000);
        o.addProperty("host_ms", Math.round(hostNanos / 1e5) / 10.0);
        return o.toString();
    }

    /** CLIP's files live in the image model's folder, under {@code clip/} (docs/hardware.md). */
    private Path clipDir() {
        return config.modelDir().resolve("clip");
    }

    @Override
    public Interrogation interrogate(InterrogateParams params) throws EngineException {
        ClipInterrogator c = clip;
        if (c == null) {
            throw new EngineException(EngineException.Kind.REJECTED, "CLIP interrogation is not installed: " + clipDir() + " needs "
                    + String.join(", ", ClipInterrogator.FILES));
        }
        BufferedImage image;
        try {
            image = Pictures.decode(Base64Data.decode(params.image()));
        } catch (IllegalArgumentException e) {
            throw new EngineException(EngineException.Kind.REJECTED, "the image: " + e.getMessage(), "params.image");
        }
        try {
            return params.categories() == null ? c.tags(image) : c.categorise(image, params.categories());
        } catch (AxclException e) {
            throw new EngineException(EngineException.Kind.UNAVAILABLE, "the card: " + e.getMessage(), e);
        }
    }

    @Override
    public synchronized void close() {
        AxclDevice d = device;
        device = null;
        sd = null;
        tall = null;
        clip = null;
        if (d != null) {
            d.close();
        }
    }
}
