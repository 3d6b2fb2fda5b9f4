package dev.axfleet.emulator;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Stands in for M5Stack StackFlow's {@code llm_sys} with its {@code llm_melotts} unit (m5stack/StackFlow@20079ff, axcl
 * branch): the TCP JSON port (llm_sys's {@code config_tcp_server}, 10001; the emulator takes {@code --port}, and
 * {@code --models-dir} for {@code config_lsmod_dir}, /opt/m5stack/data/models/), framed as main_sys/src/zmq_bus.cpp
 * {@code select_json_str} frames it: by counting every {@code {} and {@code }} not after a backslash, strings included.
 * Answers as llm_sys and the unit write them, one JSON object and a newline each: {@code sys.ping}, {@code sys.version}
 * ("v1.6"), {@code sys.lsmode} (the mode files), {@code setup} of {@code melotts} ({@code melotts.NNNN} from 1000 on, one
 * task at a time: -21 "task full"; a model not installed -5 "Model loading failed."), {@code inference} of
 * {@code tts.utf-8} (the text cut at main_melotts's breakpoints, one {@code pcm.stream.base64} delta per phrase, the last
 * with {@code finish}: true, a trailing phrase given a '.'), {@code exit} (-6 "Unit Does Not Exist" for an unknown id),
 * and an unknown sys action -3 "action match false"; a request that is no JSON {@code {"code":-2,"message":"json format
 * error"}}, a stray closing brace -1 "reace reset".
 *
 * <p>What it says is not speech: each word is a tone burst whose pitch comes from the word's hash, 60 ms apart, a pause
 * after each phrase, as 16-bit PCM at the mode's {@code audio_rate}: the same text gives the same bytes. Pace: the
 * encoder's 535 ms per phrase plus 40 ms per decoder slice of about 0.93 s of audio (M5 docs melotts), about 75 ms of
 * audio per character at speed 1. It says it is an emulator in its log and in {@code sys.version} ("v1.6-axfleet-emulator").
 * Assumed (docs/hardware.md A25-A28): the slice length, the setup's load time, the audio per character.
 */
final class StackFlowSys {
    /** main_melotts is_breakpoint. */
    static final String BREAKPOINTS = "，、,。.!！?？;；";
    static final double ENCODER_MS = 535.47;
    static final double SLICE_MS = 40;
    static final double SLICE_AUDIO_S = 0.93;
    static final double AUDIO_S_PER_CHAR = 0.075;
    static final long SETUP_MS = 2_000;
    static final int CMM_MIB = 58;

    private final Path modelsDir;
    private final TimeScale time;
    private final Control control;
    private int workIds = 1000;
    private String task;
    private JsonObject taskMode;
    private double taskSpeed;
    private boolean loadedOnce;
    private static int index;

    StackFlowSys(Path modelsDir, TimeScale time, Control control) {
        this.modelsDir = modelsDir;
        this.time = time;
        this.control = control;
    }

    static void main(List<String> args) throws IOException {
        Map<String, String> f = Flags.parse(args);
        StackFlowSys sys = new StackFlowSys(Path.of(f.getOrDefault("models-dir", "/opt/m5stack/data/models")), TimeScale.fromEnvironment(),
                new Control(Fault.parse(System.getenv("AXFLEET_EMULATOR_FAULT"))));
        sys.run(Integer.parseInt(f.getOrDefault("port", "10001")));
    }

    void run(int port) throws IOException {
        AxllmServe.say("EMULATOR: axfleet's stand-in for StackFlow llm_sys + llm_melotts, not the AX650 card (time scale " + time.scale() + ")");
        // llm_sys listens on every address (tcp_com.cpp createsocket); the emulator keeps to loopback.
        try (ServerSocket server = new ServerSocket(port, 16, InetAddress.getLoopbackAddress())) {
            AxllmServe.say("server listen on port " + port + ", listenfd=3 ...");
            while (true) {
                Socket s = server.accept();
                Thread t = new Thread(() -> serve(s), "llm_sys-com");
                t.setDaemon(true);
                t.start();
            }
        }
    }

    private void serve(Socket s) {
        try (s; InputStream in = s.getInputStream(); OutputStream out = s.getOutputStream()) {
            // Bytes, not characters: braces and backslashes are ASCII and never part of a UTF-8 sequence.
            java.io.ByteArrayOutputStream json = new java.io.ByteArrayOutputStream();
            int depth = 0;
            int last = 0;
            int first = -1;
            byte[] buf = new byte[8192];
            int n;
            while ((n = in.read(buf)) > 0) {
                for (int i = 0; i < n; i++) {
                    byte c = buf[i];
                    json.write(c);
                    if (first < 0) {
                        first = c;
                    }
                    if (c == '{' && last != '\\') {
                        depth++;
                    }
                    if (c == '}' && last != '\\') {
                        depth--;
                    }
                    last = c;
                    if (depth == 0) {
                        if (first == '{' && c == '}') {
                            handle(json.toString(StandardCharsets.UTF_8), out);
                        }
                        json.reset();
                        first = -1;
                    }
                    if (depth < 0) {
                        depth = 0;
                        json.reset();
                        first = -1;
                        write(out, "{\"request_id\": \"0\",\"work_id\": \"sys\",\"created\": " + now()
                                + ",\"error\":{\"code\":-1, \"message\":\"reace reset\"}}");
                    }
                }
            }
        } catch (IOException e) {
            // The client went away.
        }
    }

    private void handle(String raw, OutputStream out) throws IOException {
        JsonObject req;
        try {
            req = JsonParser.parseString(raw).getAsJsonObject();
        } catch (RuntimeException e) {
            reply(out, "0", "sys", "None", "None", -2, "json format error");
            return;
        }
        String id = str(req, "request_id");
        String workId = str(req, "work_id");
        String action = str(req, "action");
        if (id == null || workId == null || action == null) {
            reply(out, "0", "sys", "None", "None", -2, "json format error");
            return;
        }
        if (workId.isEmpty()) {
            workId = "sys";
        }
        String unit = workId.split("\\.")[0];
        if (action.equals("inference")) {
            inference(out, id, workId, req);
        } else if (unit.equals("sys")) {
            switch (action) {
                case "ping" -> reply(out, id, workId, "None", "None", 0, "");
                case "version" -> replyData(out, id, workId, "sys.utf-8", new com.google.gson.JsonPrimitive("v1.6-axfleet-emulator"));
                case "lsmode" -> replyData(out, id, workId, "sys.lsmode", modes());
                default -> reply(out, id, workId, "None", "None", -3, "action match false");
            }
        } else if (unit.equals("melotts")) {
            switch (action) {
                case "setup" -> setup(out, id, req);
                case "exit" -> {
                    if (workId.equals(task)) {
                        task = null;
                        reply(out, id, workId, "None", "None", 0, "");
                    } else {
                        reply(out, id, workId, "None", "None", -6, "Unit Does Not Exist");
                    }
                }
                case "taskinfo" -> replyData(out, id, workId, "melotts.tasklist", list(task));
                default -> reply(out, id, workId, "None", "None", -9, "unit call false");
            }
        } else {
            reply(out, id, workId, "None", "None", -9, "unit call false");
        }
    }

    private synchronized void setup(OutputStream out, String id, JsonObject req) throws IOException {
        // Test fault MELOTTS_SECOND_TASK: a second task is taken (docs/hardware.md U35).
        if (task != null && !TestFault.MELOTTS_SECOND_TASK.on()) {
            reply(out, id, "melotts", "None", "None", -21, "task full");
            return;
        }
        JsonObject data = req.has("data") && req.get("data").isJsonObject() ? req.getAsJsonObject("data") : null;
        if (data == null) {
            reply(out, id, "melotts", "None", "None", -2, "json format error.");
            return;
        }
        JsonObject mode = null;
        for (JsonElement m : modes()) {
            if (m.getAsJsonObject().get("mode").getAsString().equals(str(data, "model"))) {
                mode = m.getAsJsonObject();
            }
        }
        if (mode == null || !data.has("response_format") || !data.has("enoutput")) {
            reply(out, id, "melotts", "None", "None", -5, "Model loading failed.");
            return;
        }
        JsonObject param = mode.getAsJsonObject("mode_param");
        // Test fault MELOTTS_IGNORES_SPEED: the mode file's speed whatever the setup says (docs/hardware.md U36).
        double speed = data.has("spacker_speed") && !TestFault.MELOTTS_IGNORES_SPEED.on() ? data.get("spacker_speed").getAsDouble()
                : param.get("spacker_speed").getAsDouble();
        if (!loadedOnce) {
            // The first setup loads the model and takes its CMM, held by the process from then on (A26).
            ModelProfile p = new ModelProfile(str(mode, "mode"), 0, 1, 0, SETUP_MS, CMM_MIB, 0);
            CardLink.attach("llm_melotts", p, control);
            CardLink.load("llm_melotts", p, time);
            loadedOnce = true;
        } else {
            time.sleep(SETUP_MS);
        }
        String workId = "melotts." + workIds++;
        task = workId;
        taskMode = mode;
        taskSpeed = speed / param.get("spacker_speed").getAsDouble();
        AxllmServe.say("[I] load_mode success " + workId + " " + str(mode, "mode") + " spacker_speed " + speed);
        reply(out, id, workId, "None", "None", 0, "");
    }

    private void inference(OutputStream out, String id, String workId, JsonObject req) throws IOException {
        JsonObject mode;
        double speed;
        synchronized (this) {
            mode = workId.equals(task) ? taskMode : null;
            speed = taskSpeed;
        }
        if (mode == null) {
            reply(out, id, workId, "None", "None", -4, "inference data push false");
            return;
        }
        control.request();
        String object = str(req, "object");
        String text;
        boolean finishAll = true;
        JsonElement data = req.get("data");
        if (object != null && object.contains("stream") && data != null && data.isJsonObject()) {
            text = str(data.getAsJsonObject(), "delta");
            finishAll = data.getAsJsonObject().has("finish") && data.getAsJsonObject().get("finish").getAsBoolean();
        } else {
            text = data != null && data.isJsonPrimitive() ? data.getAsString() : "";
        }
        if (text == null || text.isEmpty() || text.equals("None")) {
            return;
        }
        control.executed(text);
        int rate = mode.getAsJsonObject("mode_param").get("audio_rate").getAsInt();
        Fault fault = control.take();
        StringBuilder phrase = new StringBuilder();
        int phrases = 0;
        for (int i = 0; i < text.length(); i = text.offsetByCodePoints(i, 1)) {
            String c = new String(Character.toChars(text.codePointAt(i)));
            phrase.append(c);
            if (BREAKPOINTS.contains(c)) {
                phrases++;
                if (!speak(out, id, workId, phrase.toString(), false, rate, speed, fault, phrases)) {
                    return;
                }
                phrase.setLength(0);
            }
        }
        if (finishAll) {
            if (phrase.length() > 0) {
                speak(out, id, workId, phrase + ".", true, rate, speed, fault, phrases + 1);
            } else {
                delta(out, id, workId, new byte[0], true);
            }
        }
    }

    /** One phrase through the encoder and the decoder's slices; false when it failed (the fault), said as the unit says it. */
    private boolean speak(OutputStream out, String id, String workId, String phrase, boolean finish, int rate, double speed, Fault fault,
                          int number) throws IOException {
        if (fault.mode() != Fault.Mode.NONE && number > fault.afterTokens()) {
            switch (fault.mode()) {
                case HANG -> AxllmServe.hang();
                case CRASH -> AxllmServe.crash();
                default -> {
                    reply(out, id, workId, "None", "None", -11, "Model run failed.");
                    return false;
                }
            }
        }
        byte[] pcm = voice(phrase, rate, speed);
        double seconds = pcm.length / 2.0 / rate;
        // The encoder runs on the host's CPU (ONNX), the decoder's slices on the card's NPU, shared with the other models (A29).
        time.sleep(ENCODER_MS);
        time.npu(SLICE_MS * Math.ceil(seconds / SLICE_AUDIO_S));
        delta(out, id, workId, pcm, finish);
        return true;
    }

    private static synchronized int nextIndex(boolean finish) {
        int i = index++;
        if (finish) {
            index = 0;
        }
        return i;
    }

    private void delta(OutputStream out, String id, String workId, byte[] pcm, boolean finish) throws IOException {
        JsonObject d = new JsonObject();
        d.addProperty("delta", pcm.length == 0 ? "" : Base64.getEncoder().encodeToString(pcm));
        d.addProperty("finish", finish);
        d.addProperty("index", nextIndex(finish));
        replyData(out, id, workId, "pcm.stream.base64", d);
    }

    /** Tone bursts, one per word, pitch from the word's hash; 60 ms between words, 150 ms after the phrase. */
    static byte[] voice(String phrase, int rate, double speed) {
        List<short[]> parts = new ArrayList<>();
        for (String word : phrase.trim().split("[\\s\\p{Punct}，、。！？；]+")) {
            if (word.isEmpty()) {
                continue;
            }
            double seconds = Math.max(0.08, word.codePointCount(0, word.length()) * AUDIO_S_PER_CHAR) / speed;
            SplittableRandom r = new SplittableRandom(word.hashCode());
            double pitch = 140 + r.nextInt(120);
            short[] s = new short[(int) (seconds * rate)];
            for (int i = 0; i < s.length; i++) {
                double t = i / (double) rate;
                double envelope = Math.sin(Math.PI * i / s.length);
                s[i] = (short) (8000 * envelope * (Math.sin(2 * Math.PI * pitch * t) + 0.3 * Math.sin(4 * Math.PI * pitch * t)));
            }
            parts.add(s);
            parts.add(new short[(int) (0.06 / speed * rate)]);
        }
        parts.add(new short[(int) (0.15 / speed * rate)]);
        int total = parts.stream().mapToInt(p -> p.length).sum();
        ByteBuffer b = ByteBuffer.allocate(total * 2).order(ByteOrder.LITTLE_ENDIAN);
        parts.forEach(p -> {
            for (short x : p) {
                b.putShort(x);
            }
        });
        return b.array();
    }

    private JsonArray modes() {
        JsonArray out = new JsonArray();
        try (var files = Files.list(modelsDir)) {
            for (Path p : files.filter(p -> p.toString().endsWith(".json")).sorted().toList()) {
                try {
                    out.add(JsonParser.parseString(Files.readString(p)));
                } catch (RuntimeException e) {
                    AxllmServe.say("[W] " + p + " json format error");
                }
            }
        } catch (IOException e) {
            AxllmServe.say("opendir: " + e.getMessage());
        }
        return out;
    }

    private static JsonArray list(String task) {
        JsonArray a = new JsonArray();
        if (task != null) {
            a.add(task);
        }
        return a;
    }

    private static void reply(OutputStream out, String id, String workId, String object, String data, int code, String message) throws IOException {
        JsonObject o = envelope(id, workId, object, code, message);
        o.addProperty("data", data);
        write(out, o.toString());
    }

    private static void replyData(OutputStream out, String id, String workId, String object, JsonElement data) throws IOException {
        JsonObject o = envelope(id, workId, object, 0, "");
        o.add("data", data);
        write(out, o.toString());
    }

    private static JsonObject envelope(String id, String workId, String object, int code, String message) {
        JsonObject o = new JsonObject();
        o.addProperty("created", now());
        JsonObject e = new JsonObject();
        e.addProperty("code", code);
        e.addProperty("message", message);
        o.add("error", e);
        o.addProperty("object", object);
        o.addProperty("request_id", id);
        o.addProperty("work_id", workId);
        return o;
    }

    private static synchronized void write(OutputStream out, String line) throws IOException {
        // llm_sys adds a newline (zmq_com_send) to the unit's, which ends in one: an empty line follows each answer.
        out.write((line + "\n\n").getBytes(StandardCharsets.UTF_8));
        out.flush();
    }

    private static long now() {
        return System.currentTimeMillis() / 1000;
    }

    private static String str(JsonObject o, String key) {
        JsonElement e = o.get(key);
        return e == null || e.isJsonNull() || !e.isJsonPrimitive() ? null : e.getAsString();
    }

    /** Writes the axcl mode file M5Stack's llm-model package installs (projects/llm_framework/main_melotts/models/mode_MODE.json). */
    static Path writeMode(Path modelsDir, String mode, String language) throws IOException {
        Files.createDirectories(modelsDir);
        JsonObject m = new JsonObject();
        m.addProperty("mode", mode);
        m.addProperty("type", "tts");
        JsonArray caps = new JsonArray();
        caps.add("tts");
        caps.add(language);
        m.add("capabilities", caps);
        JsonObject p = new JsonObject();
        String voice = mode.replaceFirst("^melotts-", "").replaceFirst("-axcl$", "");
        p.addProperty("encoder", "encoder-" + voice + ".ort");
        p.addProperty("decoder", "decoder-" + voice + ".axmodel");
        p.addProperty("gbin", "g-" + voice + ".bin");
        p.addProperty("spacker_speed", voice.startsWith("en") ? 1.2 : 1.0);
        p.addProperty("mode_rate", 44100);
        p.addProperty("audio_rate", 16000);
        p.addProperty("awake_delay", 1000);
        m.add("mode_param", p);
        m.addProperty("emulated", true);
        Path file = modelsDir.resolve("mode_" + mode + ".json");
        Files.writeString(file, m.toString());
        return file;
    }

    static String language(String mode) {
        String v = mode.toLowerCase(Locale.ROOT);
        return v.contains("-zh") ? "Chinese" : v.contains("-ja") ? "Japanese" : v.contains("-es") ? "Spanish" : v.contains("-ko") ? "Korean" : "English";
    }
}
