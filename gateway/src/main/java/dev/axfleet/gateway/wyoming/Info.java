package dev.axfleet.gateway.wyoming;

import com.google.gson.JsonArray;
import com.google.gson.JsonNull;
import com.google.gson.JsonObject;
import dev.axfleet.broker.Kind;
import dev.axfleet.broker.WorkerState;
import dev.axfleet.gateway.ModelRegistry;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The {@code info} event: what this gateway's card offers as Wyoming programs, from what its registry knows (no bus call,
 * so it answers within Home Assistant's one second, homeassistant/components/wyoming/data.py {@code _INFO_TIMEOUT}). The
 * shape is wyoming/info.py's dataclasses as {@code asdict} writes them (OHF-Voice/wyoming@22f8dea): every field present,
 * absent ones null. One {@code asr} program whose models are the transcription models, one {@code tts} program whose
 * voices are the speech models' voices (a MeloTTS voice is a StackFlow mode; its language is the mode's first part, F54).
 * Everything served by the emulator says so in its description.
 */
final class Info {
    /** SenseVoice's languages as asr_server takes them (docs/hardware.md F45). */
    static final List<String> SENSEVOICE = List.of("zh", "en", "yue", "ja", "ko");
    /**
     * Whisper's, as its model configs list them in {@code all_language_codes} (openai/whisper tokenizer.py LANGUAGES; F45),
     * in the tokenizer's order.
     */
    static final List<String> WHISPER = List.of("en", "zh", "de", "es", "ru", "ko", "fr", "ja", "pt", "tr", "pl", "ca", "nl",
            "ar", "sv", "it", "id", "hi", "fi", "vi", "he", "uk", "el", "ms", "cs", "ro", "da", "hu", "ta", "no", "th", "ur", "hr", "bg",
            "lt", "la", "mi", "ml", "cy", "sk", "te", "fa", "lv", "bn", "sr", "az", "sl", "kn", "et", "mk", "br", "eu", "is", "hy", "ne",
            "mn", "bs", "kk", "sq", "sw", "gl", "mr", "pa", "si", "km", "sn", "yo", "so", "af", "oc", "ka", "be", "tg", "sd", "gu", "am",
            "yi", "lo", "uz", "fo", "ht", "ps", "tk", "nn", "mt", "sa", "lb", "my", "bo", "tl", "mg", "as", "tt", "haw", "ln", "ha", "ba",
            "jw", "su", "yue");
    static final String PROGRAM = "axfleet";

    private final ModelRegistry registry;

    Info(ModelRegistry registry) {
        this.registry = registry;
    }

    /** The languages a transcription model takes, by its family. */
    static List<String> asrLanguages(String model) {
        return model.toLowerCase(Locale.ROOT).contains("sensevoice") ? SENSEVOICE : WHISPER;
    }

    /** A voice's language: a StackFlow mode is named language-accent (en-default, zh-cn, ja-jp). */
    static String voiceLanguage(String voice) {
        String first = voice.split("[-_]", 2)[0].toLowerCase(Locale.ROOT);
        return first.matches("[a-z]{2,3}") ? first : "en";
    }

    /** Each speech model's voices as its workers announced them (the model's name while none has), in the registry's order. */
    Map<String, List<String>> voices() {
        Map<String, List<String>> out = new LinkedHashMap<>();
        Map<String, List<WorkerState>> workers = registry.workersByModel();
        for (String model : registry.modelsOf(Kind.SPEECH)) {
            Set<String> own = new LinkedHashSet<>();
            for (WorkerState w : workers.getOrDefault(model, List.of())) {
                if (w.phase() != WorkerState.Phase.OFFLINE) {
                    own.addAll(w.voices());
                }
            }
            out.put(model, new ArrayList<>(own));
        }
        return out;
    }

    /**
     * The speech model and voice a {@code synthesize} asks for: a voice by name (one a model speaks, or a model's own
     * name), else the first voice of its language, else the first speech model's first voice. Empty when none matches.
     */
    Optional<Voice> voice(String name, String language) {
        Map<String, List<String>> voices = voices();
        if (voices.isEmpty()) {
            return Optional.empty();
        }
        if (name != null) {
            for (Map.Entry<String, List<String>> e : voices.entrySet()) {
                if (e.getValue().contains(name)) {
                    return Optional.of(new Voice(e.getKey(), name));
                }
                if (e.getKey().equals(name)) {
                    return Optional.of(new Voice(e.getKey(), e.getValue().isEmpty() ? null : e.getValue().get(0)));
                }
            }
            return Optional.empty();
        }
        if (language != null) {
            String wanted = language.split("[-_]", 2)[0].toLowerCase(Locale.ROOT);
            for (Map.Entry<String, List<String>> e : voices.entrySet()) {
                for (String v : e.getValue()) {
                    if (voiceLanguage(v).equals(wanted)) {
                        return Optional.of(new Voice(e.getKey(), v));
                    }
                }
            }
        }
        Map.Entry<String, List<String>> first = voices.entrySet().iterator().next();
        return Optional.of(new Voice(first.getKey(), first.getValue().isEmpty() ? null : first.getValue().get(0)));
    }

    /** A speech model and one of its voices (null: its first). */
    record Voice(String model, String voice) {
    }

    Event event() {
        JsonObject data = new JsonObject();
        JsonArray asr = new JsonArray();
        List<String> transcription = registry.modelsOf(Kind.TRANSCRIPTION);
        if (!transcription.isEmpty()) {
            JsonObject program = artifact(PROGRAM, "AXERA ax_asr_api (asr_server), through axfleet's queue", "https://github.com/AXERA-TECH/ax_asr_api",
                    "Speech to text on the AX650 card" + emulated(transcription));
            JsonArray models = new JsonArray();
            for (String model : transcription) {
                JsonObject m = artifact(model, "AXERA", "https://huggingface.co/AXERA-TECH", model + emulated(List.of(model)));
                m.add("languages", strings(asrLanguages(model)));
                models.add(m);
            }
            program.add("models", models);
            program.addProperty("supports_transcript_streaming", false);
            // asr_server hears a whole utterance: the end of speech is found by Home Assistant (its VAD).
            program.addProperty("requires_external_vad", true);
            program.addProperty("prefers_auto_gain_enabled", true);
            program.addProperty("prefers_noise_reduction_enabled", true);
            asr.add(program);
        }
        JsonArray tts = new JsonArray();
        Map<String, List<String>> voices = voices();
        if (!voices.isEmpty()) {
            JsonObject program = artifact(PROGRAM, "M5Stack StackFlow MeloTTS, through axfleet's queue", "https://github.com/m5stack/StackFlow",
                    "Text to speech on the AX650 card" + emulated(List.copyOf(voices.keySet())));
            JsonArray list = new JsonArray();
            voices.forEach((model, own) -> {
                for (String v : own.isEmpty() ? List.of(model) : own) {
                    JsonObject voice = artifact(v, "M5Stack", "https://github.com/m5stack/StackFlow", model + emulated(List.of(model)));
                    voice.add("languages", strings(List.of(voiceLanguage(v))));
                    voice.add("speakers", JsonNull.INSTANCE);
                    list.add(voice);
                }
            });
            program.add("voices", list);
            program.addProperty("supports_synthesize_streaming", true);
            tts.add(program);
        }
        data.add("asr", asr);
        data.add("tts", tts);
        for (String none : List.of("handle", "intent", "wake", "mic", "snd")) {
            data.add(none, new JsonArray());
        }
        return Event.of("info", data);
    }

    private String emulated(List<String> models) {
        return models.stream().anyMatch(registry::emulated) ? " (EMULATED: no AX650 card; answers are axfleet's stand-ins, not speech models)" : "";
    }

    private static JsonObject artifact(String name, String by, String url, String description) {
        JsonObject o = new JsonObject();
        o.addProperty("name", name);
        JsonObject attribution = new JsonObject();
        attribution.addProperty("name", by);
        attribution.addProperty("url", url);
        o.add("attribution", attribution);
        o.addProperty("installed", true);
        o.addProperty("description", description);
        o.add("version", JsonNull.INSTANCE);
        return o;
    }

    private static JsonArray strings(List<String> values) {
        JsonArray a = new JsonArray();
        values.forEach(a::add);
        return a;
    }
}
