package dev.axfleet.emulator;

import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * What a vision model's encoder takes and costs on the card, for the emulated {@code axllm serve} (docs/hardware.md F40;
 * the figures not measured are assumptions A15, A16).
 *
 * @param vlmType       config.json's {@code vlm_type} (src/runner/VLMType.hpp)
 * @param tokenizerType config.json's {@code tokenizer_type}
 * @param width         {@code vision_width}: the runtime stretches every image to width × height itself
 *                      (src/runner/utils/image_processor.cpp, {@code axcv::resize(img, img_rs, tgt_w, tgt_h)})
 * @param imageTokens   the tokens one image becomes in the prompt
 * @param encodeMs      the vision encoder's time for one image
 */
public record VisionProfile(String name, String vlmType, String tokenizerType, int width, int height, int patchSize, int imageTokens,
                            double encodeMs) {

    static final List<VisionProfile> KNOWN = List.of(
            // M5 docs qwen3_vl_2b: "24×24 grid → 144 tokens" at 384 px (StackFlow mode_qwen3-vl-2B-axcl.json vision_config.height 384),
            // encoder 191.6 ms on the card.
            new VisionProfile("Qwen3-VL-2B", "Qwen3VL", "Qwen3VL", 384, 384, 16, 144, 191.6),
            // M5 docs internvl3: encoder input 1 × 3 × 448 × 448, output 1 × 256 × 896 (256 tokens); its time is not recorded:
            // Qwen3-VL-2B's is assumed (A15). tokenizer_type is assumed Qwen2_5, its Qwen2.5-0.5B backbone's (A16).
            new VisionProfile("InternVL3-1B", "InternVL3", "Qwen2_5", 448, 448, 14, 256, 191.6));

    /** The profile whose name the model name contains. */
    public static Optional<VisionProfile> forName(String modelName) {
        String n = modelName.toLowerCase(Locale.ROOT);
        return KNOWN.stream().filter(p -> n.contains(p.name().toLowerCase(Locale.ROOT))).findFirst();
    }
}
