package dev.axfleet.emulator;

import dev.axfleet.emulator.card.EmulatedCard;
import dev.axfleet.emulator.image.EmulatedAxmodel;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Collection;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * <b>Test-only faults.</b> Each makes the emulator behave as one item of docs/hardware.md would on the card if axfleet's
 * reading of the manufacturer's sources were wrong (the <em>other</em> answer a check on the card could give), so that
 * the test suite can show that {@code axfleet doctor}'s check of that item then reports "differs". None is ever on by
 * default, none is a behaviour a source shows, and nothing but tests (through {@code axfleet doctor --emulated}'s hidden
 * {@code --emulator-fault} option) sets them.
 *
 * <p>Where each acts ({@link Where}): in the emulated runtimes, read from {@link #ENV}; in the emulated card's state
 * ({@link EmulatedCard#testFaults}), which axcl-smi's stand-in, the emulated libaxcl_rt.so and the runtimes' hold on the
 * card read; or in an emulated model folder ({@link #applyToModels}). A few reuse a switch the emulator already has
 * (an assumption's other side, e.g. A11's zero usage): {@link #environment} sets it.
 */
public enum TestFault {
    /** U1: {@code /health} answers 200 with {@code {"status":"ok"}} instead of openai-api.cpp's "healthy" (F2). */
    HEALTH_NOT_HEALTHY("U1", Where.RUNTIME),
    /** U2, A11: the finish chunk carries the JSON encoder's zero usage ({@code AXFLEET_EMULATOR_AXLLM_STREAM_USAGE=zeros}). */
    STREAM_USAGE_ZEROS("U2", Where.RUNTIME),
    /** U3: a prompt past the context answered HTTP 400 before any stream, not an SSE {@code model_error} in a 200 (F3). */
    CONTEXT_ERROR_AS_400("U3", Where.RUNTIME),
    /** U4, A3: the generation stops as soon as its client leaves. */
    STOPS_WHEN_CLIENT_LEAVES("U4", Where.RUNTIME),
    /** U5, F16: SIGINT while idle is logged and ignored: the process does not exit. */
    SIGINT_IGNORED("U5", Where.RUNTIME),
    /** U6, F6: no {@code max_token_len : N} line at start. */
    NO_MAX_TOKEN_LEN("U6", Where.RUNTIME),
    /** U7: the legacy runtime stays "running" after the context-full error (the reported wedge; the {@code wedge} fault). */
    LEGACY_WEDGE("U7", Where.RUNTIME),
    /** U8: the answer stops after three tokens and never resumes (the {@code hang} fault): a stall. */
    STALLS_MID_ANSWER("U8", Where.RUNTIME),
    /** U22: the runtime reuses no prefix of an earlier prompt ({@code AXFLEET_EMULATOR_PREFIX_CACHE=off}). */
    NO_PREFIX_CACHE("U22", Where.RUNTIME),
    /** U25, F3: at {@code server_timeout_ms} the stream gets a finish chunk before {@code [DONE]}. */
    DEADLINE_SENDS_FINISH("U25", Where.RUNTIME),
    /** U26, A12: {@code AXLLM_DEVICES} is ignored; only config.json's {@code devices} counts. */
    IGNORES_AXLLM_DEVICES("U26", Where.RUNTIME),
    /** U28, F40: a vision model ignores the images it is given (no encoder run, no image tokens) and answers the text alone. */
    VLM_IGNORES_IMAGES("U28", Where.RUNTIME),
    /** U29, F41: every tool call is left in the content as Qwen3's {@code <tool_call>} block, finish_reason "stop" (none parsed). */
    TOOL_CALLS_IN_TEXT("U29", Where.RUNTIME),
    /** U31, F46, A22: asr_server loads every model its folder holds at start, before it listens, not on a model's first request. */
    ASR_LOADS_AT_START("U31", Where.RUNTIME),
    /** U32, A24: SenseVoice takes half the CMM assumed (530 MiB, not 1060). */
    SENSEVOICE_CMM_HALF("U32", Where.RUNTIME),
    /** U33, A23: Whisper costs a 30 s piece whatever the audio's length (the mel padded to 3000 frames), not time by length. */
    ASR_PADS_TO_30S("U33", Where.RUNTIME),
    /** U35, F50: the melotts unit takes a second setup (a second task) instead of answering -21 "task full". */
    MELOTTS_SECOND_TASK("U35", Where.RUNTIME),
    /** U36, F50: the unit ignores the setup's {@code spacker_speed} and speaks at its mode file's. */
    MELOTTS_IGNORES_SPEED("U36", Where.RUNTIME),
    /** U37: the unit's process is not named {@code llm_melotts} (the emulated service runs as {@code llm-melotts}: {@link #unitProcessName}). */
    MELOTTS_OTHER_NAME("U37", Where.RUNTIME),
    /**
     * U38, A29: the NPU is not shared: runtimes with work at once each run at full speed, as if each had an NPU of its own
     * (the {@link Npu}'s switch {@code AXFLEET_EMULATOR_SHARED_NPU=off}, the benchmarks' contrast).
     */
    NPU_NOT_SHARED("U38", Where.RUNTIME),

    /** F14: the driver is not loaded (as after a kernel upgrade without a DKMS rebuild, axera.md §8.2). */
    DRIVER_NOT_LOADED("F14", Where.CARD),
    /** F20: axcl-smi's temperature/load row in a layout the parser does not know ({@code 41 C}, loads without {@code %}). */
    TABLE_LAYOUT_CHANGED("F20", Where.CARD),
    /** U12, F23: libaxcl_rt's {@code cpuLoading}/{@code npuLoading} in whole percent, not hundredths. */
    LOAD_IN_PERCENT("U12", Where.CARD),
    /** U13: {@code info --temp} prints °C, not °C × 1000. */
    TEMP_IN_CELSIUS("U13", Where.CARD),
    /** U14: after {@code axcl-smi reboot} the card never comes back. */
    REBOOT_STAYS_AWAY("U14", Where.CARD),
    /** U15: the runtimes hold {@code dev/ax_mmb_dev}, not {@code dev/axcl_host}. */
    HOLDS_OTHER_NODE("U15", Where.CARD),
    /** U16: a card the driver lost makes axcl-smi say {@code axcl init fail, ret = 0x80300181}, not 0x8030010b. */
    LOST_CARD_OTHER_CODE("U16", Where.CARD),
    /** U19, F25: {@code axclrtEngineGetUsage} gives KiB, not bytes. */
    USAGE_IN_KIB("U19", Where.CARD),
    /** U21: each card user takes 40 MiB of the host's 64 MiB CMA (not the field notes' 8-12), so two exhaust it. */
    CMA_EXHAUSTED("U21", Where.CARD),
    /** U23, A1: a second {@code axclInit} in one process returns 0. */
    INIT_TWICE_OK("U23", Where.CARD),
    /** U27, A9: {@code axcl-smi -d N} beyond the cards prints card 0's table instead of the out-of-range line. */
    INDEX_PRINTS_TABLE("U27", Where.CARD),
    /** U30, A19: a process's CMM stays taken for {@link #LINGER_MS} after it exits (the card no longer lists the process). */
    CMM_FREED_LATE("U30", Where.CARD),

    /** U10, F1: the model folder's config.json is 0 bytes (the 2025 revisions of the model repositories). */
    EMPTY_CONFIG("U10", Where.MODEL),
    /** U18, F26: the UNet's time input is named {@code timestep}, not {@code /down_blocks.0/resnets.0/act_1/Mul_output_0}. */
    SD_TENSOR_RENAMED("U18", Where.MODEL),
    /** U20, F27: the CLIP encoders give the pooled vector at output 0 and the hidden states at output 1. */
    CLIP_POOLED_FIRST("U20", Where.MODEL),
    /** U24, F38: the VAE decoder's output has a type that is no {@code axclrtEngineDataType} (float64). */
    SD_UNKNOWN_TENSOR_TYPE("U24", Where.MODEL),
    /** U34: the asr models folder is the AXERA-TECH/Whisper repository as it is ({@code models-ax650/<size>/}), no {@code whisper/<size>/}. */
    WHISPER_REPO_LAYOUT("U34", Where.MODEL);

    /** How long {@link #CMM_FREED_LATE} keeps a dead process's CMM taken. */
    public static final long LINGER_MS = 3_000;

    /** Where a fault acts. */
    public enum Where { RUNTIME, CARD, MODEL }

    /** The emulated runtimes' list of faults, comma-separated names. */
    public static final String ENV = "AXFLEET_EMULATOR_TEST_FAULTS";

    private final String item;
    private final Where where;

    TestFault(String item, Where where) {
        this.item = item;
        this.where = where;
    }

    /** The docs/hardware.md item whose wrong reading this is (the doctor check that must then say "differs"). */
    public String item() {
        return item;
    }

    public Where where() {
        return where;
    }

    public static TestFault parse(String name) {
        return valueOf(name.trim().toUpperCase(Locale.ROOT).replace('-', '_'));
    }

    /** The names in a comma-separated list; unknown names are an error. */
    public static Set<TestFault> parseList(String list) {
        Set<TestFault> out = EnumSet.noneOf(TestFault.class);
        if (list != null) {
            Arrays.stream(list.split(",")).map(String::trim).filter(s -> !s.isEmpty()).map(TestFault::parse).forEach(out::add);
        }
        return out;
    }

    private static final Set<TestFault> ACTIVE = parseList(System.getenv(ENV));

    /** Whether this fault is on in this emulated runtime's process. */
    boolean on() {
        return ACTIVE.contains(this);
    }

    /** The environment the emulated runtimes get for {@code faults}: the list, and the older switches some reuse. */
    public static Map<String, String> environment(Collection<TestFault> faults) {
        Map<String, String> env = new LinkedHashMap<>();
        String runtime = faults.stream().filter(f -> f.where == Where.RUNTIME).map(Enum::name).collect(Collectors.joining(","));
        if (!runtime.isEmpty()) {
            env.put(ENV, runtime);
        }
        if (faults.contains(STREAM_USAGE_ZEROS)) {
            env.put("AXFLEET_EMULATOR_AXLLM_STREAM_USAGE", "zeros");
        }
        if (faults.contains(NO_PREFIX_CACHE)) {
            env.put("AXFLEET_EMULATOR_PREFIX_CACHE", "off");
        }
        if (faults.contains(NPU_NOT_SHARED)) {
            env.put("AXFLEET_EMULATOR_SHARED_NPU", "off");
        }
        if (faults.contains(LEGACY_WEDGE)) {
            env.put("AXFLEET_EMULATOR_FAULT", "wedge:0:1");
        }
        if (faults.contains(STALLS_MID_ANSWER)) {
            env.put("AXFLEET_EMULATOR_FAULT", "hang:3:1");
        }
        return env;
    }

    /**
     * Applies the model-folder faults among {@code faults} to an emulated chat model folder ({@code chat}, from
     * {@link EmulatedModel#writeModelDir}) and image model folder ({@code image}, from
     * {@link dev.axfleet.emulator.image.EmulatedSdModel#write} and {@code writeClip}); either may be null.
     */
    public static void applyToModels(Collection<TestFault> faults, Path chat, Path image) {
        try {
            if (faults.contains(EMPTY_CONFIG) && chat != null) {
                Files.write(chat.resolve("config.json"), new byte[0]);
            }
            if (image == null) {
                return;
            }
            if (faults.contains(SD_TENSOR_RENAMED)) {
                EmulatedAxmodel.of("sd15_unet").input("sample", "fp32", "1x4x64x64").input("timestep", "fp32", "1x1280")
                        .input("encoder_hidden_states", "fp32", "1x77x768").output("out_sample", "fp32", "1x4x64x64").cmmMiB(1650)
                        .write(image.resolve("unet.axmodel"));
            }
            if (faults.contains(SD_UNKNOWN_TENSOR_TYPE)) {
                EmulatedAxmodel.of("sd15_vae_decoder").input("x", "fp32", "1x4x64x64").output("sample", "float64", "1x3x512x512")
                        .cmmMiB(160).write(image.resolve("vae_decoder.axmodel"));
            }
            if (faults.contains(CLIP_POOLED_FIRST)) {
                Path clip = image.resolve("clip");
                EmulatedAxmodel.of("clip_vision").input("pixel_values", "fp32", "1x3x224x224").output("pooler_output", "fp32", "1x768")
                        .output("last_hidden_state", "fp32", "1x50x768").cmmMiB(94).write(clip.resolve("clip_base_vision.axmodel"));
                EmulatedAxmodel.of("clip_text").input("input_ids", "int32", "1x77").output("pooler_output", "fp32", "1x512")
                        .output("last_hidden_state", "fp32", "1x77x512").cmmMiB(136).write(clip.resolve("clip_base_text.axmodel"));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Applies {@link #WHISPER_REPO_LAYOUT} to an emulated asr models folder ({@link EmulatedModel#writeAsrModels}): its
     * {@code whisper/} becomes the repository's {@code models-ax650/}, as {@code axfleet models pull whisper-tiny} leaves it.
     */
    public static void applyToAsrModels(Collection<TestFault> faults, Path asr) {
        if (!faults.contains(WHISPER_REPO_LAYOUT)) {
            return;
        }
        try {
            Files.move(asr.resolve("whisper"), asr.resolve("models-ax650"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The process name the emulated melotts unit runs under for doctor: the card's {@code llm_melotts}, or another under {@link #MELOTTS_OTHER_NAME}. */
    public static String unitProcessName(Collection<TestFault> faults) {
        return faults.contains(MELOTTS_OTHER_NAME) ? "llm-melotts" : "llm_melotts";
    }

    /** The faults that act on {@code where}. */
    public static List<TestFault> of(Where where) {
        return Arrays.stream(values()).filter(f -> f.where == where).toList();
    }
}
