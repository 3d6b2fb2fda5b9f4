package dev.axfleet.bench;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.axfleet.broker.audio.Wav;
import dev.axfleet.config.Settings;
import dev.axfleet.deploy.Fleet;
import dev.axfleet.deploy.FleetConfig;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.stream.Stream;

/**
 * A voice turn's time from the end of the visitor's audio to the first audio of the answer (docs/benchmarks.md), on the
 * emulator at the card's own pace (time scale 1) with Qwen3-0.6B, SenseVoice and MeloTTS on one emulated card whose NPU
 * they share (docs/hardware.md A29), in one run:
 * <ul>
 * <li><b>pipelined</b>: {@code POST /v1/voice/turns}, the answer spoken phrase by phrase while it is generated (and again
 *     with the first phrase cut after 6 words);</li>
 * <li><b>serial</b>: what the coyote does today, through the same gateway: {@code /v1/audio/transcriptions}, then {@code
 *     /v1/chat/completions} whole, then {@code /v1/audio/speech} whole (WAV); and serial with the speech streamed (pcm, its
 *     first bytes);</li>
 * <li><b>barge-in</b>: a turn sent at the first audio of another in the same conversation: its own first audio;</li>
 * </ul>
 * and the pipelined turn again on a fleet whose emulated runtimes each have an NPU of their own ({@code
 * emulator.shared_npu=false}), to show what sharing the card costs. Both paths ask the same model the same messages, so the
 * emulated answer is the same text. {@code bench/voice [rounds]}.
 */
public final class VoiceBench {
    private static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    private static final String PERSONA = "You are Wile, a coyote of the high desert. You speak to visitors of the museum in short,"
            + " warm sentences.";
    private static final String CHAT = "qwen3-0.6b";
    private static final String ASR = "sensevoice";
    private static final String TTS = "melotts-en-default";
    private static final int MAX_TOKENS = 100;

    private VoiceBench() {
    }

    public static void main(String[] args) throws Exception {
        int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 5;
        byte[] wav = utterance();
        System.out.printf(Locale.ROOT, "voice turn: %d rounds, Qwen3-0.6B + SenseVoice + MeloTTS emulated at the card's pace (time scale 1), "
                + "a %.1f s utterance%n", rounds, (wav.length - 44) / 32_000.0);
        Map<String, List<Double>> shared = run(true, rounds, wav);
        Map<String, List<Double>> own = run(false, rounds, wav);
        System.out.println();
        System.out.println("| measure (median of " + rounds + ") | NPU shared (A29) | each model an NPU of its own |");
        System.out.println("|---|---|---|");
        for (String k : shared.keySet()) {
            System.out.printf(Locale.ROOT, "| %s | %s | %s |%n", k, ms(shared.get(k)), own.containsKey(k) ? ms(own.get(k)) : "–");
        }
        double serial = median(shared.get("serial: first audio (speech whole)"));
        double pipelined = median(shared.get("pipelined: first audio"));
        System.out.printf(Locale.ROOT, "%nfirst audio, serial / pipelined: %.2fx (%.0f ms against %.0f ms)%n", serial / pipelined, serial, pipelined);
        System.exit(0);
    }

    private static String ms(List<Double> v) {
        return v == null || v.isEmpty() ? "–" : String.format(Locale.ROOT, "%.0f ms", median(v));
    }

    /** 3 s of speech-like bursts (the emulated SenseVoice hears only its length and pauses), 16 kHz mono. */
    static byte[] utterance() {
        float[] s = new float[16_000 * 3];
        for (int i = 0; i < s.length; i++) {
            double t = i / 16_000.0;
            s[i] = (t % 1.0) < 0.8 ? (float) (0.3 * Math.sin(2 * Math.PI * 220 * t) * Math.sin(Math.PI * (t % 1.0) / 0.8)) : 0f;
        }
        return Wav.write16(s, 16_000);
    }

    private static Map<String, List<Double>> run(boolean sharedNpu, int rounds, byte[] wav) throws Exception {
        Path home = Files.createTempDirectory("axfleet-voice-bench");
        Fleet fleet = Fleet.start(FleetConfig.from(Settings.of(Map.ofEntries(
                Map.entry("fleet.home", home.toString()),
                Map.entry("fleet.emulate", "true"),
                Map.entry("fleet.monitor", "false"),
                Map.entry("fleet.image_model", ""),
                Map.entry("fleet.models", CHAT + "=Qwen3-0.6B," + ASR + "," + TTS),
                Map.entry("emulator.time_scale", "1"),
                Map.entry("emulator.shared_npu", String.valueOf(sharedNpu)),
                Map.entry("broker.embedded_port", "0"),
                Map.entry("gateway.port", "0"),
                Map.entry("gateway.wyoming_port", "-1")))));
        Map<String, List<Double>> out = new LinkedHashMap<>();
        try {
            String base = "http://127.0.0.1:" + fleet.gatewayPort();
            awaitHealthy(base);
            String b64 = Base64.getEncoder().encodeToString(wav);
            // Warm-up: each path once, so the JIT and the runtimes' first requests are not measured.
            pipelined(base, b64, "warm-" + sharedNpu, 0);
            serial(base, wav, false);
            for (int r = 0; r < rounds; r++) {
                Map<String, Double> p = pipelined(base, b64, "p" + r + "-" + sharedNpu, 0);
                p.forEach((k, v) -> out.computeIfAbsent(k, x -> new ArrayList<>()).add(v));
                if (!sharedNpu) {
                    continue;
                }
                Map<String, Double> early = pipelined(base, b64, "e" + r, 6);
                out.computeIfAbsent("pipelined, first phrase cut after 6 words: first audio", x -> new ArrayList<>()).add(early.get("pipelined: first audio"));
                serial(base, wav, false).forEach((k, v) -> out.computeIfAbsent(k, x -> new ArrayList<>()).add(v));
                serial(base, wav, true).forEach((k, v) -> out.computeIfAbsent(k, x -> new ArrayList<>()).add(v));
                out.computeIfAbsent("barge-in: the second turn's first audio", x -> new ArrayList<>()).add(bargeIn(base, b64, "b" + r));
                System.out.printf(Locale.ROOT, "round %d: pipelined %.0f ms, serial %.0f ms%n", r + 1, p.get("pipelined: first audio"),
                        out.get("serial: first audio (speech whole)").get(r));
            }
        } finally {
            fleet.close();
        }
        return out;
    }

    /** One streamed turn from a new conversation: the client's first audio, and the gateway's timings of where it went. */
    private static Map<String, Double> pipelined(String base, String b64, String conversation, int firstWords) throws Exception {
        String body = "{\"conversation\":\"" + conversation + "\",\"audio\":\"" + b64 + "\",\"system\":\"" + PERSONA + "\",\"max_tokens\":" + MAX_TOKENS
                + ",\"first_phrase_words\":" + firstWords + ",\"models\":{\"chat\":\"" + CHAT + "\"}}";
        long t0 = System.nanoTime();
        HttpResponse<Stream<String>> r = HTTP.send(HttpRequest.newBuilder(URI.create(base + "/v1/voice/turns"))
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofLines());
        double[] first = {-1};
        JsonObject[] result = {null};
        r.body().forEach(line -> {
            JsonObject e = JsonParser.parseString(line).getAsJsonObject();
            String type = e.get("type").getAsString();
            if (type.equals("audio") && first[0] < 0 && !e.get("audio").getAsString().isEmpty()) {
                first[0] = (System.nanoTime() - t0) / 1e6;
            }
            if (type.equals("result")) {
                result[0] = e;
            }
        });
        double done = (System.nanoTime() - t0) / 1e6;
        if (result[0] == null || !result[0].get("outcome").getAsString().equals("done")) {
            throw new IllegalStateException("the turn did not end done: " + result[0]);
        }
        JsonObject t = result[0].getAsJsonObject("timings");
        Map<String, Double> out = new LinkedHashMap<>();
        out.put("pipelined: first audio", first[0]);
        out.put("  of which: transcript (gateway's clock)", t.get("transcript_ms").getAsDouble());
        out.put("  of which: first answer text (prefill, first token)", t.get("first_text_ms").getAsDouble());
        out.put("  of which: first phrase whole", t.get("first_phrase_ms").getAsDouble());
        out.put("  of which: first audio (gateway's clock)", t.get("first_audio_ms").getAsDouble());
        out.put("pipelined: whole turn", done);
        return out;
    }

    /** Transcribe, then answer whole, then speak (whole WAV, or streamed pcm's first bytes). */
    private static Map<String, Double> serial(String base, byte[] wav, boolean streamedSpeech) throws Exception {
        long t0 = System.nanoTime();
        String boundary = "b0undary";
        java.io.ByteArrayOutputStream form = new java.io.ByteArrayOutputStream();
        form.writeBytes(("--" + boundary + "\r\nContent-Disposition: form-data; name=\"model\"\r\n\r\n" + ASR + "\r\n").getBytes(StandardCharsets.UTF_8));
        form.writeBytes(("--" + boundary + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"visitor.wav\"\r\nContent-Type: audio/wav\r\n\r\n")
                .getBytes(StandardCharsets.UTF_8));
        form.writeBytes(wav);
        form.writeBytes(("\r\n--" + boundary + "--\r\n").getBytes(StandardCharsets.UTF_8));
        HttpResponse<String> heard = HTTP.send(HttpRequest.newBuilder(URI.create(base + "/v1/audio/transcriptions"))
                .header("Content-Type", "multipart/form-data; boundary=" + boundary).POST(HttpRequest.BodyPublishers.ofByteArray(form.toByteArray())).build(),
                HttpResponse.BodyHandlers.ofString());
        String transcript = JsonParser.parseString(heard.body()).getAsJsonObject().get("text").getAsString();
        double tHeard = (System.nanoTime() - t0) / 1e6;
        JsonObject chat = new JsonObject();
        chat.addProperty("model", CHAT);
        chat.addProperty("max_tokens", MAX_TOKENS);
        com.google.gson.JsonArray messages = new com.google.gson.JsonArray();
        messages.add(message("system", PERSONA));
        messages.add(message("user", transcript));
        chat.add("messages", messages);
        HttpResponse<String> answered = HTTP.send(HttpRequest.newBuilder(URI.create(base + "/v1/chat/completions"))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(chat.toString())).build(),
                HttpResponse.BodyHandlers.ofString());
        String text = JsonParser.parseString(answered.body()).getAsJsonObject().getAsJsonArray("choices").get(0).getAsJsonObject()
                .getAsJsonObject("message").get("content").getAsString();
        double tAnswered = (System.nanoTime() - t0) / 1e6;
        JsonObject speech = new JsonObject();
        speech.addProperty("model", TTS);
        speech.addProperty("input", text);
        speech.addProperty("response_format", streamedSpeech ? "pcm" : "wav");
        HttpResponse<InputStream> spoken = HTTP.send(HttpRequest.newBuilder(URI.create(base + "/v1/audio/speech"))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(speech.toString())).build(),
                HttpResponse.BodyHandlers.ofInputStream());
        double tFirst;
        try (InputStream in = spoken.body()) {
            if (streamedSpeech) {
                in.read();
                tFirst = (System.nanoTime() - t0) / 1e6;
                in.readAllBytes();
            } else {
                in.readAllBytes(); // a whole WAV is playable only once it has all arrived
                tFirst = (System.nanoTime() - t0) / 1e6;
            }
        }
        Map<String, Double> out = new LinkedHashMap<>();
        if (streamedSpeech) {
            out.put("serial, speech streamed: first audio", tFirst);
        } else {
            out.put("serial: first audio (speech whole)", tFirst);
            out.put("  of which: transcribed", tHeard);
            out.put("  of which: answered whole", tAnswered);
        }
        return out;
    }

    /** A turn sent at the first audio of another in its conversation: ms from its request to its own first audio. */
    private static double bargeIn(String base, String b64, String conversation) throws Exception {
        String body = "{\"conversation\":\"" + conversation + "\",\"audio\":\"" + b64 + "\",\"system\":\"" + PERSONA + "\",\"max_tokens\":" + MAX_TOKENS
                + ",\"models\":{\"chat\":\"" + CHAT + "\"}}";
        CompletableFuture<Double> second = new CompletableFuture<>();
        HttpResponse<Stream<String>> r = HTTP.send(HttpRequest.newBuilder(URI.create(base + "/v1/voice/turns"))
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofLines());
        boolean[] sent = {false};
        r.body().forEach(line -> {
            JsonObject e = JsonParser.parseString(line).getAsJsonObject();
            if (!sent[0] && e.get("type").getAsString().equals("audio")) {
                sent[0] = true;
                CompletableFuture.runAsync(() -> {
                    try {
                        second.complete(pipelinedFirstAudio(base, body));
                    } catch (Exception ex) {
                        second.completeExceptionally(ex);
                    }
                });
            }
        });
        return second.get(120, java.util.concurrent.TimeUnit.SECONDS);
    }

    private static double pipelinedFirstAudio(String base, String body) throws Exception {
        long t0 = System.nanoTime();
        HttpResponse<Stream<String>> r = HTTP.send(HttpRequest.newBuilder(URI.create(base + "/v1/voice/turns"))
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofLines());
        double[] first = {-1};
        r.body().forEach(line -> {
            JsonObject e = JsonParser.parseString(line).getAsJsonObject();
            if (first[0] < 0 && e.get("type").getAsString().equals("audio") && !e.get("audio").getAsString().isEmpty()) {
                first[0] = (System.nanoTime() - t0) / 1e6;
            }
        });
        return first[0];
    }

    private static JsonObject message(String role, String content) {
        JsonObject m = new JsonObject();
        m.addProperty("role", role);
        m.addProperty("content", content);
        return m;
    }

    private static void awaitHealthy(String base) throws Exception {
        long deadline = System.nanoTime() + Duration.ofMinutes(3).toNanos();
        while (System.nanoTime() < deadline) {
            HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(base + "/health")).build(), HttpResponse.BodyHandlers.ofString());
            if (r.statusCode() == 200) {
                return;
            }
            Thread.sleep(500);
        }
        throw new IllegalStateException("the fleet was not healthy within 3 minutes");
    }

    static double median(List<Double> values) {
        List<Double> v = new ArrayList<>(values);
        Collections.sort(v);
        int n = v.size();
        return n % 2 == 1 ? v.get(n / 2) : (v.get(n / 2 - 1) + v.get(n / 2)) / 2;
    }
}
