package dev.axfleet.emulator;

import java.util.List;
import java.util.Locale;

/**
 * How long a model on the LLM-8850 in a Pi 5 takes, from the measurements in ../shared/axera.md §5 and
 * §8.1 (M5 docs qwen3_0.6b / qwen3_1.7b, gregm123456/Qwen3-4B:README.md). The emulator sleeps these
 * times, scaled by {@link TimeScale}.
 *
 * @param prefillChunkMs time to prefill one chunk of up to {@link #PREFILL_CHUNK} new prompt tokens (≈ the
 *                       measured time to first token, whose prompts fit one chunk)
 * @param tokensPerSecond decode speed
 * @param contextTokens   max_token_len of the shipped build
 * @param loadMs          time from start to ready
 * @param cmmMiB          card memory the model takes (7040 MiB minus the logged remain_cmm)
 * @param hiddenSize      tokens_embed_size, which the legacy command line passes
 */
public record ModelProfile(String name, double prefillChunkMs, double tokensPerSecond, int contextTokens,
                           long loadMs, int cmmMiB, int hiddenSize) {
    public static final int PREFILL_CHUNK = 128;

    static final List<ModelProfile> KNOWN = List.of(
            new ModelProfile("Qwen3-0.6B", 670.51, 12.88, 2559, 20_000, 1972, 1024),
            new ModelProfile("Qwen3-1.7B", 796.38, 7.38, 2047, 34_000, 3375, 2048),
            new ModelProfile("Qwen3-4B", 1339, 3.65, 2559, 133_000, 6349, 2560),
            // M5 docs minicpm4: 212.91 ms first token, 21.05 tok/s, max_token_len 1023, remain 6450 MB, load 22.2 s.
            new ModelProfile("MiniCPM4-0.5B", 212.91, 21.05, 1023, 22_200, 590, 1024),
            new ModelProfile("Qwen2.5-0.5B-Instruct-GPTQ-Int4", 188, 27.05, 1023, 10_000, 1100, 896),
            new ModelProfile("Qwen2.5-1.5B-Instruct-GPTQ-Int4", 407.75, 15.03, 1023, 18_000, 2000, 1536),
            // axllm serve in embedding mode on an AX8850 M.2 card (an RK3576 host, not a Pi): 4 short inputs in 4.010 s
            // per batch, ready after 33.64 s, 1024 dimensions. Context and CMM are Qwen3-0.6B's (the same backbone),
            // assumed until a Pi measures them (docs/hardware.md F31, A6).
            new ModelProfile("Qwen3-Embedding-0.6B", 1002.5, 0, 2559, 33_640, 1972, 1024),
            // M5 docs qwen3_vl_2b (legacy binary on the card): 7.80 tok/s, image TTFT 596.82 ms for 171 tokens of which the
            // encoder took 191.6 ms (so about 203 ms a 128-token chunk), max_token_len 2047, load 61.7 s, remain 2899 MB.
            new ModelProfile("Qwen3-VL-2B", 202.6, 7.80, 2047, 61_700, 4141, 2048),
            // M5 docs internvl3: max_token_len 2047, remain 5764 MB. Pace and load time are not recorded: its backbone
            // Qwen2.5-0.5B's (188 ms a chunk, 27.05 tok/s) and MiniCPM4-0.5B's load (22.2 s) are assumed (A15).
            new ModelProfile("InternVL3-1B", 188, 27.05, 2047, 22_200, 1276, 896));

    /** The profile whose name the model name contains, else Qwen3-1.7B's. */
    public static ModelProfile forName(String modelName) {
        String n = modelName.toLowerCase(Locale.ROOT);
        return KNOWN.stream()
                .filter(p -> n.contains(p.name().toLowerCase(Locale.ROOT)) || n.contains(shortName(p)))
                .findFirst()
                .orElse(KNOWN.get(1));
    }

    /** The profile for a legacy command line, which names the model only through its embedding size. */
    public static ModelProfile forHiddenSize(int hiddenSize) {
        return KNOWN.stream().filter(p -> p.hiddenSize() == hiddenSize).findFirst().orElse(KNOWN.get(1));
    }

    private static String shortName(ModelProfile p) {
        return p.name().toLowerCase(Locale.ROOT).replace("-instruct-gptq-int4", "");
    }

    /** Time to prefill {@code newTokens} prompt tokens that are not already in the KV cache. */
    public double prefillMs(int newTokens) {
        int chunks = Math.max(1, (newTokens + PREFILL_CHUNK - 1) / PREFILL_CHUNK);
        return chunks * prefillChunkMs;
    }

    public double decodeMsPerToken() {
        return 1000.0 / tokensPerSecond;
    }
}
