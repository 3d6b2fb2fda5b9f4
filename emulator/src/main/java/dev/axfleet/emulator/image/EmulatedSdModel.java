package dev.axfleet.emulator.image;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * An SD1.5-LCM model folder laid out as the manufacturer's (../shared/axera.md §4.1), with emulated engines: the
 * descriptors the emulated libaxcl_rt.so loads, with the real models' IO names and shapes (§4.2) and their
 * measured run times on the card (§4.5), and a {@code time_input_txt2img.npy} of the right shape. The tokenizer
 * files are the caller's to add ({@code tokenizer/vocab.json}, {@code merges.txt}).
 */
public final class EmulatedSdModel {
    public static final String README = "EMULATED SD1.5-LCM model folder written by axfleet: descriptors, not models\n";

    private EmulatedSdModel() {
    }

    /**
     * Writes the folder; {@code withEncoder} adds the VAE encoder (img2img); run times are the card's times
     * {@code timeScale} (1 for the card's pace, less for tests).
     */
    public static Path write(Path dir, boolean withEncoder, double timeScale) {
        writeVariant(dir, "", "64x64", "512x512", 434, 1650, 914, 160, timeScale);
        if (withEncoder) {
            EmulatedAxmodel.of("sd15_vae_encoder").input("image_sample", "fp32", "1x3x512x512").output("latent", "fp32", "1x8x64x64")
                    .execMs(scaled(500, timeScale)).cmmMiB(110).write(dir.resolve("vae_encoder.axmodel"));
        }
        return dir;
    }

    /**
     * The 768 × 1024 variant (the manufacturer's {@code models_1024x768/}: txt2img only; the VAE decoder gives
     * [1, 3, 1024, 768], H × W). Run times are not published per stage: the whole image takes about 30 s on the card
     * (axera.md §4.5), split here as UNet 4 × 5,000 ms and VAE 9,000 ms.
     */
    public static Path writeTall(Path dir, double timeScale) {
        return writeVariant(dir, "_768x1024", "128x96", "1024x768", 5000, 1900, 9000, 600, timeScale);
    }

    /** One variant's text encoder, UNet and VAE decoder at its latent and image shapes (H x W), and its time input. */
    private static Path writeVariant(Path dir, String suffix, String latent, String image, long unetMs, long unetMiB, long vaeMs,
                                     long vaeMiB, double timeScale) {
        EmulatedAxmodel.of("sd15_text_encoder").input("input_ids", "int32", "1x77").output("last_hidden_state", "fp32", "1x77x768")
                .execMs(scaled(10, timeScale)).cmmMiB(237).write(dir.resolve("text_encoder/sd15_text_encoder_sim.axmodel"));
        EmulatedAxmodel.of("sd15_unet" + suffix).input("sample", "fp32", "1x4x" + latent)
                .input("/down_blocks.0/resnets.0/act_1/Mul_output_0", "fp32", "1x1280")
                .input("encoder_hidden_states", "fp32", "1x77x768")
                .output("out_sample", "fp32", "1x4x" + latent).execMs(scaled(unetMs, timeScale)).cmmMiB(unetMiB).write(dir.resolve("unet.axmodel"));
        // An FP16 output, so that the binding's conversions run as they would if the card's decoder gave one: the
        // manufacturer's notes say most key tensors are FP32, not all (ax-llm docs/sd15_axllm_implementation.md §7.2).
        // Which real tensors are not FP32 is unverified; the worker logs each tensor's type at load (docs/hardware.md).
        EmulatedAxmodel.of("sd15_vae_decoder" + suffix).input("x", "fp32", "1x4x" + latent).output("sample", "fp16", "1x3x" + image)
                .execMs(scaled(vaeMs, timeScale)).cmmMiB(vaeMiB).write(dir.resolve("vae_decoder.axmodel"));
        try {
            writeNpy(dir.resolve("time_input_txt2img.npy"), timeInput());
            Files.writeString(dir.resolve("EMULATED.txt"), README, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return dir;
    }

    private static float[][] timeInput() {
        float[][] time = new float[4][1280];
        for (int r = 0; r < 4; r++) {
            for (int c = 0; c < 1280; c++) {
                time[r][c] = (float) Math.sin((r + 1) * 0.37 * (c + 1));
            }
        }
        return time;
    }

    /** Nouns and adjectives the emulated tag vocabulary is made of (the real one has 20,101 ImageNet-21k terms). */
    private static final String[] NOUNS = {"fox", "owl", "house", "barn", "tree", "forest", "river", "mountain", "city", "street", "car",
        "bicycle", "person", "face", "portrait", "dog", "cat", "horse", "bird", "flower", "garden", "lighthouse", "sea", "beach", "boat",
        "bridge", "castle", "church", "desert", "snow", "rain", "cloud", "sky", "sun", "moon", "star", "night", "lamp", "chair", "table"};
    private static final String[] ADJECTIVES = {"", "red ", "old ", "small ", "wooden ", "bright ", "dark ", "snowy "};

    /**
     * Adds CLIP ViT-B/32 for interrogation under {@code dir/clip} (axera.md §8.7): both encoders' descriptors with the
     * real IO (pooled output at index 1), the two projections, and a tag vocabulary of 320 terms.
     */
    public static Path writeClip(Path dir, double timeScale) {
        Path clip = dir.resolve("clip");
        EmulatedAxmodel.of("clip_vision").input("pixel_values", "fp32", "1x3x224x224").output("last_hidden_state", "fp32", "1x50x768")
                .output("pooler_output", "fp32", "1x768").execMs(scaled(25, timeScale)).cmmMiB(94).write(clip.resolve("clip_base_vision.axmodel"));
        EmulatedAxmodel.of("clip_text").input("input_ids", "int32", "1x77").output("last_hidden_state", "fp32", "1x77x512")
                .output("pooler_output", "fp32", "1x512").execMs(scaled(6, timeScale)).cmmMiB(136).write(clip.resolve("clip_base_text.axmodel"));
        try {
            writeNpy(clip.resolve("visual_projection.npy"), matrix(512, 768, 0.11));
            writeNpy(clip.resolve("text_projection.npy"), matrix(512, 512, 0.07));
            StringBuilder tags = new StringBuilder();
            for (String a : ADJECTIVES) {
                for (String n : NOUNS) {
                    tags.append(a).append(n).append('\n');
                }
            }
            Files.createDirectories(clip.resolve("tags"));
            Files.writeString(clip.resolve("tags/imagenet_21k_labels_clean.txt"), tags.toString(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return clip;
    }

    private static float[][] matrix(int rows, int cols, double f) {
        float[][] m = new float[rows][cols];
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                m[r][c] = (float) (Math.sin(f * (r + 1) * (c + 3)) / Math.sqrt(cols));
            }
        }
        return m;
    }

    private static long scaled(long ms, double timeScale) {
        return Math.round(ms * timeScale);
    }

    /** A little-endian float32 2-D {@code .npy} file (format version 1.0). */
    static void writeNpy(Path file, float[][] rows) throws IOException {
        String header = "{'descr': '<f4', 'fortran_order': False, 'shape': (" + rows.length + ", " + rows[0].length + "), }";
        header = header + " ".repeat((64 - (10 + header.length() + 1) % 64) % 64) + "\n";
        ByteBuffer b = ByteBuffer.allocate(10 + header.length() + rows.length * rows[0].length * 4).order(ByteOrder.LITTLE_ENDIAN);
        b.put((byte) 0x93).put("NUMPY".getBytes(StandardCharsets.US_ASCII)).put((byte) 1).put((byte) 0);
        b.putShort((short) header.length()).put(header.getBytes(StandardCharsets.US_ASCII));
        for (float[] row : rows) {
            for (float v : row) {
                b.putFloat(v);
            }
        }
        Files.createDirectories(file.toAbsolutePath().getParent());
        Files.write(file, b.array());
    }
}
