package dev.axfleet.emulator;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Stands in for AXERA's {@code asr_server} (AXERA-TECH/ax_asr_api@df475fe cpp/server/main.cpp and asr_server.cpp):
 * {@code asr_server --port N --model_path DIR [--api_key K] [--payload_limit_mb 25]}, routes {@code POST
 * /v1/audio/transcriptions}, {@code GET /v1/models}, {@code GET /healthz} (the only one without the key), {@code OPTIONS}
 * on the transcription route (204), and everything else 404 "Requested resource does not exist.". A request is checked
 * in the server's order: multipart Content-Type, {@code model} (names and aliases of {@code kModelMap} and
 * {@code kModelAliasMap}, 404 otherwise), {@code file} (non-empty, named .wav or .mp3), {@code language} (SenseVoice's
 * list, or the model's {@code <size>_config.json} {@code all_language_codes}; en and auto by default), {@code
 * response_format} (json, text, verbose_json); then the model is loaded if it was not (once, kept) and the file read.
 * Errors are {@code ErrorResponse}'s {@code {"error":{"code","message","param","type"}}}, keys in nlohmann's order.
 *
 * <p>What it hears is not speech recognition: the transcript is "(emulated MODEL, LANG: S s of audio at R Hz)", the same
 * for the same audio, so a test sees what reached the runtime. Pace: the model's real-time factor times the audio's
 * length ({@link Profile}); loading takes the time scaled from Whisper-Small's measured load. It says it is an emulator in
 * its log, in /healthz and in /v1/models. Assumed (docs/hardware.md A21-A24): only WAV is read (an MP3 fails as an
 * unreadable file does, 500); the load time of models other than Whisper-Small; the pace of pieces shorter than 30 s.
 */
final class AsrServer {
    /** asr_server.cpp kModelMap, in its (sorted) order, and kModelAliasMap. */
    static final List<String> MODELS = List.of("sensevoice", "whisper_base", "whisper_small", "whisper_tiny", "whisper_turbo");
    static final Map<String, String> ALIASES = new TreeMap<>(Map.of("gpt-4o-mini-transcribe", "sensevoice", "gpt-4o-transcribe", "sensevoice",
            "whisper-1", "whisper_turbo"));
    static final List<String> SENSEVOICE_LANGUAGES = List.of("auto", "zh", "en", "yue", "ja", "ko");

    /**
     * How fast each model is. RTF: M5 docs npu_benchmark on the card (Whisper-Tiny 0.03, Whisper-Small 0.18); the others
     * from ax_asr_api's README on the AX650 board (Base 0.0668, Turbo 0.4372, SenseVoice 0.0364). Load: Whisper-Small's
     * measured 15.1 s (M5 docs whisper: encoder 3336 + decoder_main 6092 + decoder_loop 5690 ms), the others scaled by
     * their CMM (assumption A22). CMM: the StackFlow plugin's reservations (services/model_list.py), SenseVoice estimated.
     */
    record Profile(String model, double rtf, long loadMs, int cmmMiB) {
        static Profile of(String model) {
            return switch (model) {
                case "whisper_tiny" -> new Profile(model, 0.03, 3_520, 258);
                case "whisper_base" -> new Profile(model, 0.0668, 5_980, 438);
                case "whisper_small" -> new Profile(model, 0.18, 15_118, 1106);
                case "whisper_turbo" -> new Profile(model, 0.4372, 27_300, 2000);
                // Test fault SENSEVOICE_CMM_HALF: A24's other side (docs/hardware.md U32).
                default -> new Profile(model, 0.0364, 4_263, TestFault.SENSEVOICE_CMM_HALF.on() ? 530 : 1060);
            };
        }

        /** How long a piece of {@code seconds} takes: the real-time factor times its length (A23). */
        double pieceMs(double seconds) {
            // Test fault ASR_PADS_TO_30S: every piece costs a whole 30 s mel (docs/hardware.md U33).
            return rtf * (TestFault.ASR_PADS_TO_30S.on() ? Math.max(30, seconds) : seconds) * 1000;
        }
    }

    private final Path modelPath;
    private final String apiKey;
    private final long payloadLimit;
    private final TimeScale time;
    private final Control control;
    private final Map<String, Boolean> loaded = new HashMap<>();
    private final AtomicLong counter = new AtomicLong();

    AsrServer(Path modelPath, String apiKey, long payloadLimit, TimeScale time, Control control) {
        this.modelPath = modelPath;
        this.apiKey = apiKey;
        this.payloadLimit = payloadLimit;
        this.time = time;
        this.control = control;
    }

    static void main(List<String> args) throws IOException {
        Map<String, String> f = Flags.parse(args);
        int port = Integer.parseInt(f.getOrDefault("port", "8080"));
        Path modelPath = Path.of(f.getOrDefault("model_path", "./models-ax650"));
        String apiKey = f.getOrDefault("api_key", "");
        long limit = Long.parseLong(f.getOrDefault("payload_limit_mb", "25")) * 1024 * 1024;
        AsrServer server = new AsrServer(modelPath, apiKey, limit, TimeScale.fromEnvironment(),
                new Control(Fault.parse(System.getenv("AXFLEET_EMULATOR_FAULT"))));
        server.run(port);
    }

    void run(int port) throws IOException {
        AxllmServe.say("EMULATOR: axfleet's stand-in for asr_server (ax_asr_api), not the AX650 card (time scale " + time.scale() + ")");
        if (TestFault.ASR_LOADS_AT_START.on()) {
            // Test fault ASR_LOADS_AT_START: every model of the folder loaded before listening (docs/hardware.md U31), at no
            // pace: the fault is where the CMM goes and when, not how long it takes.
            for (String m : MODELS) {
                if (Files.exists(configFile(m))) {
                    synchronized (this) {
                        load(Profile.of(m), new TimeScale(0));
                    }
                }
            }
        }
        AxllmServe.say("[I] ASRServer init success. model_path=" + modelPath + " payload_max_length=" + payloadLimit + " auth="
                + (apiKey.isEmpty() ? "disabled" : "enabled"));
        Map<String, HttpHandler> routes = new HashMap<>(control.routes());
        routes.put("/", ex -> {
            try {
                error(ex, 404, "Requested resource does not exist.", "");
            } finally {
                ex.close();
            }
        });
        routes.put("/healthz", get(ex -> {
            JsonObject o = new JsonObject();
            o.addProperty("auth_enabled", !apiKey.isEmpty());
            o.addProperty("emulated", true);
            o.addProperty("status", "ok");
            send(ex, 200, "application/json", o.toString());
        }));
        routes.put("/v1/models", get(this::models));
        routes.put("/v1/audio/transcriptions", ex -> {
            try {
                cors(ex);
                if (ex.getRequestMethod().equalsIgnoreCase("OPTIONS")) {
                    ex.sendResponseHeaders(204, -1);
                } else if (ex.getRequestMethod().equalsIgnoreCase("POST")) {
                    transcribe(ex);
                } else {
                    error(ex, 404, "Requested resource does not exist.", "");
                }
            } finally {
                ex.close();
            }
        });
        // asr_server listens on 0.0.0.0 (asr_server.cpp start); the emulator keeps to loopback.
        Http.server("127.0.0.1", port, routes).start();
        AxllmServe.say("[I] Listening on 0.0.0.0:" + port);
    }

    private HttpHandler get(HttpHandler h) {
        return ex -> {
            try {
                cors(ex);
                if (!ex.getRequestMethod().equalsIgnoreCase("GET")) {
                    error(ex, 404, "Requested resource does not exist.", "");
                } else {
                    h.handle(ex);
                }
            } finally {
                ex.close();
            }
        };
    }

    private void models(HttpExchange ex) throws IOException {
        if (!authorised(ex)) {
            return;
        }
        JsonArray data = new JsonArray();
        for (String m : MODELS) {
            data.add(model(m, null));
        }
        ALIASES.forEach((alias, root) -> data.add(model(alias, root)));
        JsonObject o = new JsonObject();
        o.add("data", data);
        o.addProperty("object", "list");
        send(ex, 200, "application/json", o.toString());
    }

    private static JsonObject model(String id, String root) {
        JsonObject m = new JsonObject();
        m.addProperty("id", id);
        m.addProperty("object", "model");
        // The real server says "axera"; the emulator says what it is.
        m.addProperty("owned_by", "axfleet-emulator");
        if (root != null) {
            m.addProperty("root", root);
        }
        return m;
    }

    private boolean authorised(HttpExchange ex) throws IOException {
        if (apiKey.isEmpty()) {
            return true;
        }
        String auth = ex.getRequestHeaders().getFirst("Authorization");
        if (auth == null) {
            error(ex, 401, "Missing Authorization header.", "Authorization");
            return false;
        }
        if (!auth.startsWith("Bearer ") || !auth.substring("Bearer ".length()).equals(apiKey)) {
            error(ex, 401, "Invalid bearer token.", "Authorization");
            return false;
        }
        return true;
    }

    private void transcribe(HttpExchange ex) throws IOException {
        if (!authorised(ex)) {
            return;
        }
        control.request();
        String contentType = ex.getRequestHeaders().getFirst("Content-Type");
        byte[] body = ex.getRequestBody().readNBytes((int) Math.min(Integer.MAX_VALUE - 8, payloadLimit + 1));
        if (body.length > payloadLimit) {
            error(ex, 413, "Uploaded audio exceeds the configured payload limit.", "file");
            return;
        }
        if (contentType == null || !contentType.contains("multipart/form-data")) {
            error(ex, 400, "Content-Type must be multipart/form-data.", "Content-Type");
            return;
        }
        Map<String, byte[]> form = Multipart.parse(contentType.trim(), body);
        Map<String, String> names = Multipart.fileNames(contentType.trim(), body);
        if (form == null || !form.containsKey("model")) {
            error(ex, 400, "\"model\" field must be provided.", "model");
            return;
        }
        String key = text(form.get("model")).trim().toLowerCase(Locale.ROOT);
        String model = MODELS.contains(key) ? key : ALIASES.get(key);
        if (model == null) {
            error(ex, 404, "Requested model is not available on this server.", "model");
            return;
        }
        if (!names.containsKey("file")) {
            error(ex, 400, "\"file\" field must be provided.", "file");
            return;
        }
        String filename = names.get("file").toLowerCase(Locale.ROOT);
        byte[] file = form.get("file");
        if (filename.isEmpty() || file.length == 0 || !(filename.endsWith(".wav") || filename.endsWith(".mp3"))) {
            error(ex, 400, "Only non-empty .wav and .mp3 uploads are supported.", "file");
            return;
        }
        String asked = form.containsKey("language") ? text(form.get("language")) : "";
        String language = asked.isEmpty() ? (model.equals("sensevoice") ? "auto" : "en") : asked.trim().toLowerCase(Locale.ROOT);
        List<String> languages = languages(model);
        if (languages == null) {
            error(ex, 500, "Failed to load supported language list.", "language");
            return;
        }
        if (!languages.contains(language)) {
            error(ex, 400, "Unsupported language \"" + language + "\" for model " + model + ".", "language");
            return;
        }
        String format = form.containsKey("response_format") ? text(form.get("response_format")).trim().toLowerCase(Locale.ROOT) : "json";
        if (!format.equals("json") && !format.equals("text") && !format.equals("verbose_json")) {
            error(ex, 400, "response_format must be one of json, text, verbose_json.", "response_format");
            return;
        }
        Profile profile = Profile.of(model);
        synchronized (this) {
            if (!load(profile, time)) {
                error(ex, 500, "Model initialization failed on server side.", "model");
                return;
            }
            String requestId = "axasr-" + System.currentTimeMillis() + "-" + counter.getAndIncrement();
            ex.getResponseHeaders().set("x-request-id", requestId);
            double[] heard = wav(file);
            Fault fault = control.take();
            if (heard == null || fault.mode() == Fault.Mode.BUSY) {
                AxllmServe.say("[E] AX_ASR_RunFile failed! ret=" + (heard == null ? "-3" : "-4") + " request_id=" + requestId);
                error(ex, 500, "Transcription failed on server side.", "file");
                return;
            }
            control.executed(model + " " + heard[0] + "s");
            if (fault.mode() == Fault.Mode.HANG) {
                AxllmServe.hang();
            }
            if (fault.mode() == Fault.Mode.CRASH) {
                AxllmServe.crash();
            }
            time.npu(profile.pieceMs(heard[0]));
            String text = String.format(Locale.ROOT, "(emulated %s, %s: %.2f s of audio at %d Hz)", model, language, heard[0], (int) heard[1]);
            if (format.equals("text")) {
                send(ex, 200, "text/plain; charset=utf-8", text);
                return;
            }
            Map<String, String> payload = new TreeMap<>();
            payload.put("text", text);
            if (format.equals("verbose_json")) {
                payload.put("model", model);
                payload.put("language", language);
                payload.put("request_id", requestId);
            }
            JsonObject o = new JsonObject();
            payload.forEach(o::addProperty);
            send(ex, 200, "application/json", o.toString());
        }
    }

    /**
     * Loads a model once and keeps it (load_asr_): its time, and the card's CMM for it taken part by part as the load goes
     * (the process attaches to the card at its first model; a second model adds to the first's, A22).
     */
    private boolean load(Profile profile, TimeScale pace) {
        if (loaded.containsKey(profile.model())) {
            return loaded.get(profile.model());
        }
        AxllmServe.say("[I] Initializing " + profile.model() + " ...");
        List<Path> missing = files(profile.model()).stream().filter(f -> !Files.exists(f)).toList();
        boolean ok = missing.isEmpty();
        if (ok) {
            ModelProfile p = new ModelProfile(profile.model(), 0, 1, 0, profile.loadMs(), profile.cmmMiB(), 0);
            if (!CardLink.attached()) {
                CardLink.attach("asr_server", p, control);
            }
            CardLink.load("asr_server", p, pace);
        } else {
            AxllmServe.say("[E] Load model " + missing.get(0) + " failed!");
            AxllmServe.say("[E] Init asr " + profile.model() + " failed!");
        }
        loaded.put(profile.model(), ok);
        return ok;
    }

    /**
     * What AX_ASR_Init opens for a model (asr_factory.hpp: {@code model_path/whisper/SIZE/}, {@code /sensevoice/}; whisper.cpp
     * {@code init}: {@code SIZE-encoder.axmodel}, {@code SIZE-decoder.axmodel}, {@code SIZE-tokens.txt}, {@code SIZE_config.json};
     * sensevoice.cpp {@code init}: {@code sensevoice.axmodel}, {@code tokens.txt}).
     */
    private List<Path> files(String model) {
        if (model.equals("sensevoice")) {
            Path d = modelPath.resolve("sensevoice");
            return List.of(d.resolve("sensevoice.axmodel"), d.resolve("tokens.txt"));
        }
        String size = model.substring("whisper_".length());
        Path d = modelPath.resolve("whisper").resolve(size);
        return List.of(d.resolve(size + "-encoder.axmodel"), d.resolve(size + "-decoder.axmodel"), d.resolve(size + "-tokens.txt"),
                d.resolve(size + "_config.json"));
    }

    /** What AX_ASR_Init opens first: the Whisper config, or SenseVoice's tokens (asr_factory.hpp: model_path/whisper/SIZE/, /sensevoice/). */
    private Path configFile(String model) {
        if (model.equals("sensevoice")) {
            return modelPath.resolve("sensevoice").resolve("tokens.txt");
        }
        String size = model.substring("whisper_".length());
        return modelPath.resolve("whisper").resolve(size).resolve(size + "_config.json");
    }

    private List<String> languages(String model) {
        if (model.equals("sensevoice")) {
            return SENSEVOICE_LANGUAGES;
        }
        try {
            JsonObject c = JsonParser.parseString(Files.readString(configFile(model))).getAsJsonObject();
            return List.of(c.get("all_language_codes").getAsString().split("\\s*,\\s*"));
        } catch (IOException | RuntimeException e) {
            AxllmServe.say("[E] Cannot open whisper config: " + configFile(model));
            return null;
        }
    }

    /** {seconds, rate} of a PCM or float WAV as AudioFile reads it, or null when it is none. */
    static double[] wav(byte[] b) {
        if (b.length < 44 || b[0] != 'R' || b[1] != 'I' || b[2] != 'F' || b[3] != 'F' || b[8] != 'W' || b[9] != 'A') {
            return null;
        }
        ByteBuffer in = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
        int at = 12;
        int channels = 0;
        int rate = 0;
        int bits = 0;
        while (at + 8 <= b.length) {
            String id = new String(b, at, 4, StandardCharsets.ISO_8859_1);
            long size = in.getInt(at + 4) & 0xFFFFFFFFL;
            if (id.equals("fmt ") && at + 24 <= b.length) {
                channels = in.getShort(at + 10);
                rate = in.getInt(at + 12);
                bits = in.getShort(at + 22);
            } else if (id.equals("data") && channels > 0 && bits > 0) {
                long bytes = Math.min(size, b.length - at - 8L);
                return new double[] {bytes / (double) (channels * bits / 8) / rate, rate};
            }
            at += 8 + size + (size & 1);
        }
        return null;
    }

    private static String text(byte[] b) {
        return b == null ? "" : new String(b, StandardCharsets.UTF_8);
    }

    private static void cors(HttpExchange ex) {
        ex.getResponseHeaders().set("Access-Control-Allow-Origin", "*");
        ex.getResponseHeaders().set("Access-Control-Allow-Methods", "GET, POST, OPTIONS");
        ex.getResponseHeaders().set("Access-Control-Allow-Headers", "Authorization, Content-Type");
        ex.getResponseHeaders().set("Access-Control-Expose-Headers", "x-request-id");
    }

    /** openai_err.hpp ErrorResponse: code, message, param, type (nlohmann's sorted keys). */
    static void error(HttpExchange ex, int status, String message, String param) throws IOException {
        Map<Integer, String> types = Map.of(401, "authentication_error", 400, "invalid_request_error", 404, "not_found_error", 413,
                "payload_too_large", 500, "server_error");
        JsonObject e = new JsonObject();
        e.addProperty("code", status);
        e.addProperty("message", message);
        e.addProperty("param", param);
        e.addProperty("type", types.get(status));
        JsonObject o = new JsonObject();
        o.add("error", e);
        send(ex, status, "application/json", o.toString());
    }

    private static void send(HttpExchange ex, int status, String contentType, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().set("Content-Type", contentType);
        ex.sendResponseHeaders(status, bytes.length == 0 ? -1 : bytes.length);
        ex.getResponseBody().write(bytes);
    }

    /**
     * Writes a models folder as download_models.sh leaves it, for the emulator: every file AX_ASR_Init opens
     * ({@link #files}), the axmodels and token lists as placeholders, the Whisper configs with their languages.
     */
    static Path writeModels(Path dir) throws IOException {
        String placeholder = "EMULATED: axfleet's placeholder, no weights\n";
        for (String size : List.of("tiny", "base", "small", "turbo")) {
            Path d = Files.createDirectories(dir.resolve("whisper").resolve(size));
            JsonObject c = new JsonObject();
            // Whisper's languages (openai/whisper tokenizer.py LANGUAGES), as the model configs list them.
            c.addProperty("all_language_codes", String.join(",", WHISPER_LANGUAGES));
            c.addProperty("emulated", true);
            Files.writeString(d.resolve(size + "_config.json"), c.toString());
            for (String f : List.of(size + "-encoder.axmodel", size + "-decoder.axmodel", size + "-tokens.txt")) {
                Files.writeString(d.resolve(f), placeholder);
            }
        }
        Path s = Files.createDirectories(dir.resolve("sensevoice"));
        Files.writeString(s.resolve("tokens.txt"), "<blank>\n<s>\n</s>\n");
        Files.writeString(s.resolve("sensevoice.axmodel"), placeholder);
        Files.writeString(dir.resolve("EMULATED.txt"), "axfleet's emulated asr models: no weights, only the files asr_server opens\n");
        return dir;
    }

    static final List<String> WHISPER_LANGUAGES = List.of("en", "zh", "de", "es", "ru", "ko", "fr", "ja", "pt", "tr", "pl", "ca", "nl",
            "ar", "sv", "it", "id", "hi", "fi", "vi", "he", "uk", "el", "ms", "cs", "ro", "da", "hu", "ta", "no", "th", "ur", "hr", "bg",
            "lt", "la", "mi", "ml", "cy", "sk", "te", "fa", "lv", "bn", "sr", "az", "sl", "kn", "et", "mk", "br", "eu", "is", "hy", "ne",
            "mn", "bs", "kk", "sq", "sw", "gl", "mr", "pa", "si", "km", "sn", "yo", "so", "af", "oc", "ka", "be", "tg", "sd", "gu", "am",
            "yi", "lo", "uz", "fo", "ht", "ps", "tk", "nn", "mt", "sa", "lb", "my", "bo", "tl", "mg", "as", "tt", "haw", "ln", "ha", "ba",
            "jw", "su", "yue");
}
