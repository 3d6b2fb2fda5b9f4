package dev.axfleet.emulator;

import com.google.gson.GsonBuilder;
import com.google.gson.JsonObject;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Model folders and command lines for running the emulator where the card's runtimes would run: the same
 * arguments, only a different program. Used by the launcher when no card is present, and by tests.
 */
public final class EmulatedModel {
    private EmulatedModel() {
    }

    /**
     * Writes {@code <parent>/<folder>/config.json} the way an axllm model folder has it (every key axllm
     * requires; docs/configuration.md), naming {@code modelName}, and returns the folder.
     */
    public static Path writeModelDir(Path parent, String folder, String modelName) {
        ModelProfile p = ModelProfile.forName(modelName);
        String weights = modelName.toLowerCase() + "-ax650";
        JsonObject c = new JsonObject();
        c.addProperty("model_name", modelName);
        // The model family's tokenizer: Qwen3 for the Qwen3 builds; MiniCPM4's is assumed "MiniCPM" (docs/hardware.md A18),
        // a family axllm serve renders no tools for.
        c.addProperty("tokenizer_type", modelName.toLowerCase(java.util.Locale.ROOT).startsWith("minicpm4") ? "MiniCPM" : "Qwen3");
        c.addProperty("url_tokenizer_model", "qwen3_tokenizer.txt");
        c.addProperty("template_filename_axmodel", weights + "/qwen3_p128_l%d_together.axmodel");
        c.addProperty("axmodel_num", 28);
        c.addProperty("filename_post_axmodel", weights + "/qwen3_post.axmodel");
        c.addProperty("filename_tokens_embed", weights + "/model.embed_tokens.weight.bfloat16.bin");
        c.addProperty("tokens_embed_num", 151936);
        c.addProperty("tokens_embed_size", p.hiddenSize());
        VisionProfile.forName(modelName).ifPresent(v -> {
            // A VLM folder (main.cpp@00d7aaf load_from_json, docs/configuration.md "VLM / 视觉 / 音频").
            c.addProperty("tokenizer_type", v.tokenizerType());
            c.addProperty("vlm_type", v.vlmType());
            c.addProperty("filename_image_encoder_axmodel", weights + "/vision_encoder.axmodel");
            c.addProperty("vision_width", v.width());
            c.addProperty("vision_height", v.height());
            c.addProperty("vision_patch_size", v.patchSize());
        });
        if (modelName.toLowerCase(java.util.Locale.ROOT).contains("embedding")) {
            // axllm serve's embedding mode (docs/configuration.md "Embedding").
            c.addProperty("is_embedding", true);
        }
        return writeConfig(parent.resolve(folder), c);
    }

    /**
     * Writes an image model folder for {@code axllm serve} as ax-llm's image side reads it
     * (AXERA-TECH/ax-llm docs/sd15_axllm_implementation.md): {@code config.json} with two {@code image_variants},
     * {@code lcm-lora-sdv1-5-512x512} (img2img) and {@code lcm-lora-sdv1-5-768x1024} (txt2img only).
     */
    public static Path writeImageModelDir(Path parent, String folder) {
        JsonObject c = new JsonObject();
        com.google.gson.JsonArray variants = new com.google.gson.JsonArray();
        variants.add(variant("lcm-lora-sdv1-5-512x512", "models", "512x512", true));
        variants.add(variant("lcm-lora-sdv1-5-768x1024", "models_1024x768", "768x1024", false));
        c.add("image_variants", variants);
        return writeConfig(parent.resolve(folder), c);
    }

    /** {@code dir/config.json}, marked emulated. */
    private static Path writeConfig(Path dir, JsonObject config) {
        config.addProperty("emulated", true);
        try {
            Files.createDirectories(dir);
            Files.writeString(dir.resolve("config.json"), new GsonBuilder().setPrettyPrinting().create().toJson(config));
            return dir;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static JsonObject variant(String id, String dir, String size, boolean img2img) {
        JsonObject v = new JsonObject();
        v.addProperty("id", id);
        v.addProperty("dir", dir);
        v.addProperty("size", size);
        v.addProperty("chip", "ax650");
        v.addProperty("supports_img2img", img2img);
        return v;
    }

    /** {@code axllm serve <dir> --port <port>}, as the emulator. */
    public static List<String> axllmServe(Path modelDir, int port) {
        return command("axllm", "serve", modelDir.toString(), "--port", String.valueOf(port));
    }

    /** A models folder for {@code asr_server} as ax_asr_api's download_models.sh leaves it (what AX_ASR_Init opens first). */
    public static Path writeAsrModels(Path dir) {
        try {
            return AsrServer.writeModels(dir);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** {@code asr_server --port N --model_path DIR --api_key {api_key}}, as the emulator (the worker fills in the key). */
    public static List<String> asrServer(Path modelDir, int port) {
        return command("asr_server", "--port", String.valueOf(port), "--model_path", modelDir.toString(), "--api_key", "{api_key}");
    }

    /** StackFlow's installed mode file for {@code mode} (e.g. melotts-en-default-axcl) in {@code modelsDir}. */
    public static Path writeMelottsMode(Path modelsDir, String mode) {
        try {
            StackFlowSys.writeMode(modelsDir, mode, StackFlowSys.language(mode));
            return modelsDir;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** StackFlow's llm_sys with its melotts unit, as the emulator, on {@code port}. */
    public static List<String> llmSys(Path modelsDir, int port) {
        return command("llm_sys", "--port", String.valueOf(port), "--models-dir", modelsDir.toString());
    }

    /**
     * StackFlow's llm_sys with its melotts unit as a service of its own (on the Pi, M5Stack's systemd units run it, not the
     * worker), its process named {@code processName} as the card's {@code llm_melotts} is in /proc: java is started through
     * a link of that name in {@code binDir} (the kernel names a process after the file it executes).
     */
    public static List<String> llmSysNamed(Path modelsDir, int port, Path binDir, String processName) {
        List<String> out = command("llm_sys", "--port", String.valueOf(port), "--models-dir", modelsDir.toString());
        try {
            Files.createDirectories(binDir);
            Path link = binDir.resolve(processName);
            Files.deleteIfExists(link);
            Files.createSymbolicLink(link, Path.of(out.get(0)));
            out.set(0, link.toString());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot link " + processName + " to java in " + binDir + ": " + e.getMessage(), e);
        }
        return out;
    }

    /** The legacy runtime's command line, as in the model's run_qwen3_1.7b_int8_ctx_axcl_aarch64 script. */
    public static List<String> mainApi(String modelName, int tokenizerPort) {
        ModelProfile p = ModelProfile.forName(modelName);
        String weights = modelName.toLowerCase() + "-ax650";
        return command("main_api",
                "--system_prompt", "You are Qwen, created by Alibaba Cloud. You are a helpful assistant.",
                "--template_filename_axmodel", weights + "/qwen3_p128_l%d_together.axmodel",
                "--axmodel_num", "28",
                "--url_tokenizer_model", "http://127.0.0.1:" + tokenizerPort,
                "--filename_post_axmodel", weights + "/qwen3_post.axmodel",
                "--filename_tokens_embed", weights + "/model.embed_tokens.weight.bfloat16.bin",
                "--tokens_embed_num", "151936",
                "--tokens_embed_size", String.valueOf(p.hiddenSize()),
                "--use_mmap_load_embed", "1",
                "--devices", "0");
    }

    /** {@code python qwen3_tokenizer_uid.py --host 127.0.0.1 --port <port>}, as the emulator. */
    public static List<String> tokenizer(int port) {
        return command("tokenizer", "--host", "127.0.0.1", "--port", String.valueOf(port));
    }

    private static List<String> command(String... args) {
        List<String> out = javaCommand();
        out.addAll(List.of(args));
        return out;
    }

    /** {@code java ... dev.axfleet.emulator.Emulator}: the emulator's programs start with this. */
    public static List<String> javaCommand() {
        List<String> out = new ArrayList<>();
        out.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        out.add("-Xmx64m");
        out.add("-XX:+UseSerialGC");
        out.add("-XX:TieredStopAtLevel=1");
        out.add("-cp");
        // Absolute: the runtime runs in its model folder, not where this JVM was started.
        out.add(java.util.Arrays.stream(System.getProperty("java.class.path").split(java.io.File.pathSeparator))
                .map(p -> Path.of(p).toAbsolutePath().toString())
                .collect(java.util.stream.Collectors.joining(java.io.File.pathSeparator)));
        out.add(Emulator.class.getName());
        return out;
    }
}
