package dev.axfleet.worker.image;

import dev.axfleet.worker.runtime.ImageRuntime.Progress;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CancellationException;

/**
 * Stable Diffusion 1.5 with the LCM LoRA on the card, as the manufacturer's pipeline runs it
 * (AXERA-TECH/sd1.5-lcm.axera run_txt2img_axe_infer.py, run_img2img_axe_infer.py; ../shared/axera.md §4): CLIP
 * tokenizer, text encoder, four UNet steps with the shipped time embeddings and the LCM update, VAE decoder, at
 * the UNet's native 512 × 512. img2img encodes the input with the VAE encoder, samples its posterior, noises it
 * to the step its denoising strength picks and runs the remaining steps. Every engine is loaded once, here.
 * Random numbers come from {@link Random} seeded with the job's seed, so a seed and prompt give the same image.
 */
public final class Sd15Pipeline {
    /** The square variant's size; the 768 × 1024 variant's comes from its engines. */
    public static final int SIZE = 512;
    static final float VAE_SCALE = 0.18215f;
    static final String TIME_INPUT = "/down_blocks.0/resnets.0/act_1/Mul_output_0";

    /** An image at the native size, the steps that ran, how much of the time was spent on the card, and the prompt's share. */
    public record Rendered(BufferedImage image, int steps, long totalNanos, long cardNanos, long textNanos) {
    }

    private final AxclDevice device;
    private final ClipTokenizer tokenizer;
    private final Engine textEncoder;
    private final Engine unet;
    private final Engine vaeDecoder;
    private final Engine vaeEncoder;
    private final float[][] timeInput;
    private final LcmScheduler scheduler = new LcmScheduler();
    private final int width;
    private final int height;
    private final int latentElements;

    private Sd15Pipeline(AxclDevice device, ClipTokenizer tokenizer, Engine textEncoder, Engine unet, Engine vaeDecoder, Engine vaeEncoder,
                         float[][] timeInput) {
        this.device = device;
        this.tokenizer = tokenizer;
        this.textEncoder = textEncoder;
        this.unet = unet;
        this.vaeDecoder = vaeDecoder;
        this.vaeEncoder = vaeEncoder;
        this.timeInput = timeInput;
        // The variant's sizes as its engines declare them: the VAE decoder's [1, 3, H, W] (768 × 1024 is H 1024,
        // W 768: ax-llm's sd15_axllm_implementation.md §9), the UNet's latent [1, 4, h, w].
        int[] out = vaeDecoder.outputs().get(0).dims();
        this.height = out[out.length - 2];
        this.width = out[out.length - 1];
        this.latentElements = (int) unet.outputs().get(0).elements();
    }

    public int width() {
        return width;
    }

    public int height() {
        return height;
    }

    /** The files a model folder needs, relative to it (axera.md §4.1); {@code vae_encoder.axmodel} only for img2img. */
    public static final String[] FILES = {"tokenizer/vocab.json", "tokenizer/merges.txt", "text_encoder/sd15_text_encoder_sim.axmodel",
        "unet.axmodel", "vae_decoder.axmodel", "time_input_txt2img.npy"};

    /** The engine files of the model folder {@code dir} that {@link #load} loads. */
    public static List<Path> engines(Path dir) {
        List<Path> out = new java.util.ArrayList<>(List.of(dir.resolve("text_encoder/sd15_text_encoder_sim.axmodel"), dir.resolve("unet.axmodel"),
                dir.resolve("vae_decoder.axmodel")));
        if (Files.isRegularFile(dir.resolve("vae_encoder.axmodel"))) {
            out.add(dir.resolve("vae_encoder.axmodel"));
        }
        return out;
    }

    /** Loads every engine of the model folder {@code dir} onto {@code device}. */
    public static Sd15Pipeline load(AxclDevice device, Path dir) throws IOException {
        for (String f : FILES) {
            if (!Files.isRegularFile(dir.resolve(f))) {
                throw new IOException("the SD1.5-LCM model folder " + dir + " lacks " + f);
            }
        }
        float[][] time = Npy.readFloat32Matrix(dir.resolve("time_input_txt2img.npy"));
        if (time.length != LcmScheduler.TIMESTEPS.length) {
            throw new IOException("time_input_txt2img.npy has " + time.length + " rows; the four-step LCM pipeline needs 4");
        }
        Path encoder = dir.resolve("vae_encoder.axmodel");
        return new Sd15Pipeline(device, ClipTokenizer.load(dir.resolve("tokenizer")),
                device.load(dir.resolve("text_encoder/sd15_text_encoder_sim.axmodel")),
                device.load(dir.resolve("unet.axmodel")),
                device.load(dir.resolve("vae_decoder.axmodel")),
                Files.isRegularFile(encoder) ? device.load(encoder) : null,
                time);
    }

    public boolean canImg2Img() {
        return vaeEncoder != null;
    }

    public ClipTokenizer tokenizer() {
        return tokenizer;
    }

    public Rendered txt2img(String prompt, long seed, Progress progress) {
        long start = System.nanoTime();
        long[] card = {0};
        Random random = new Random(seed);
        float[] hidden = encodePrompt(prompt, card);
        long text = System.nanoTime() - start;
        float[] x = gaussian(random, latentElements);
        return denoise(x, 0, hidden, random, progress, card, start, text);
    }

    /** img2img from {@code init} (already at {@link #width()} × {@link #height()}) redrawn as much as {@code strength} says. */
    public Rendered img2img(String prompt, long seed, BufferedImage init, double strength, Progress progress) {
        if (vaeEncoder == null) {
            throw new IllegalStateException("this model folder has no vae_encoder.axmodel: img2img is not available");
        }
        long start = System.nanoTime();
        long[] card = {0};
        Random random = new Random(seed);
        float[] hidden = encodePrompt(prompt, card);
        long text = System.nanoTime() - start;
        float[] moments = run(vaeEncoder, Map.of(vaeEncoder.inputs().get(0).name(), Pictures.toTensor(init)), card)[0];
        int n = latentElements;
        float[] latent = new float[n];
        for (int k = 0; k < n; k++) {
            double std = Math.exp(0.5 * Math.max(-30, Math.min(20, moments[n + k])));
            latent[k] = (float) ((moments[k] + std * random.nextGaussian()) * VAE_SCALE);
        }
        int first = LcmScheduler.TIMESTEPS.length - LcmScheduler.stepsFor(strength);
        float[] noise = gaussian(random, n);
        float[] x = scheduler.noiseTo(first, latent, k -> noise[k]);
        return denoise(x, first, hidden, random, progress, card, start, text);
    }

    private float[] encodePrompt(String prompt, long[] card) {
        int[] ids = tokenizer.encode(prompt);
        return run(textEncoder, Map.of(textEncoder.inputs().get(0).name(), ids), card)[0];
    }

    private Rendered denoise(float[] x, int first, float[] hidden, Random random, Progress progress, long[] card, long start, long text) {
        int total = LcmScheduler.TIMESTEPS.length - first;
        for (int i = first; i < LcmScheduler.TIMESTEPS.length; i++) {
            if (progress.cancelled()) {
                throw new CancellationException("cancelled after " + (i - first) + " of " + total + " steps");
            }
            float[] sample = x;
            float[] time = timeInput[i];
            float[] eps = run(unet, Map.of("sample", sample, TIME_INPUT, time, "encoder_hidden_states", hidden), card)[0];
            float[] noise = i < LcmScheduler.TIMESTEPS.length - 1 ? gaussian(random, x.length) : null;
            x = scheduler.step(i, x, eps, k -> noise[k]);
            progress.step(i - first + 1, total);
        }
        float[] scaled = new float[x.length];
        for (int k = 0; k < x.length; k++) {
            scaled[k] = x[k] / VAE_SCALE;
        }
        float[] pixels = run(vaeDecoder, Map.of(vaeDecoder.inputs().get(0).name(), scaled), card)[0];
        BufferedImage image = Pictures.fromTensor(pixels, width, height);
        return new Rendered(image, total, System.nanoTime() - start, card[0], text);
    }

    /** Runs {@code engine}, adding the time its card calls took to {@code card}. */
    private float[][] run(Engine engine, Map<String, Object> inputs, long[] card) {
        float[][] out = device.run(engine, inputs);
        card[0] += engine.lastCardNanos();
        return out;
    }

    private static float[] gaussian(Random random, int n) {
        float[] out = new float[n];
        for (int k = 0; k < n; k++) {
            out[k] = (float) random.nextGaussian();
        }
        return out;
    }
}
