package dev.axfleet.bench;

import dev.axfleet.broker.Job;
import dev.axfleet.broker.audio.Resampler;
import dev.axfleet.broker.audio.Wav;
import dev.axfleet.broker.transcribe.TranscribeParams;
import dev.axfleet.broker.transcribe.Transcript;
import dev.axfleet.gateway.audio.AudioUpload;
import dev.axfleet.gateway.audio.Ffmpeg;
import dev.axfleet.worker.RunContext;
import dev.axfleet.worker.Runner;
import dev.axfleet.worker.RunnerFactory;
import dev.axfleet.worker.transcribe.TranscribeRunner;
import dev.axfleet.worker.transcribe.TranscribeRuntime;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The host's share of a transcription and of a synthesis (docs/benchmarks.md), against the runtime's time in the same
 * run. Transcription: the gateway making an upload the job's 16 kHz mono WAV (Java for espeak-ng's 22.05 kHz WAV; ffprobe
 * and ffmpeg for the same as MP3), then the worker reading it, cutting it at silences and writing each piece, over a
 * runtime that takes no time; the runtime's time is the model's real-time factor times the audio's length (the emulator's
 * pace, docs/hardware.md A23). Synthesis: the worker resampling the unit's 16 kHz PCM to OpenAI's 24 kHz, then the gateway
 * encoding it as MP3 and Opus through ffmpeg (WAV and pcm cost nothing but a copy); the runtime's time is MeloTTS's
 * encoder per phrase and decoder per slice (A25). Needs espeak-ng and ffmpeg. {@code bench/speech [rounds]}.
 */
public final class SpeechBench {
    private SpeechBench() {
    }

    /** A runtime that hears nothing and takes no time: what is left of a transcription is the host's. */
    private static final class Instant implements TranscribeRuntime {
        int pieces;

        @Override
        public int sampleRate() {
            return 16_000;
        }

        @Override
        public double windowSeconds() {
            return 30;
        }

        @Override
        public Heard transcribe(byte[] wav, String language) {
            pieces++;
            return new Heard("piece", "en");
        }

        @Override
        public String kind() {
            return "none";
        }

        @Override
        public void start(Duration timeout) {
        }

        @Override
        public boolean healthy() {
            return true;
        }

        @Override
        public void restart(String why, Duration timeout) {
        }

        @Override
        public boolean emulated() {
            return true;
        }

        @Override
        public List<Long> pids() {
            return List.of();
        }

        @Override
        public void close() {
        }

        @Override
        public List<Runner> runners(RunnerFactory factory) {
            return List.of();
        }
    }

    private static final RunContext QUIET = new RunContext() {
        @Override
        public void delta(String text, boolean thinking) {
        }

        @Override
        public int audio(byte[] audio, boolean last, int maxMessageBytes) {
            return 0;
        }

        @Override
        public void progress(int done, int total) {
        }

        @Override
        public boolean cancelled() {
            return false;
        }

        @Override
        public boolean streamed() {
            return false;
        }

        @Override
        public void warn(String warning) {
        }
    };

    public static void main(String[] args) throws Exception {
        int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 20;
        Path dir = Files.createTempDirectory("axfleet-speech-bench");
        String story = "Hello there, coyote. Can you hear me? I would like to hear a story about the desert at night, "
                + "about the moon over the mesa and the wind in the sage. Tell it slowly, please, and howl at the end.";
        Path wav = dir.resolve("visitor.wav");
        run("espeak-ng", "-w", wav.toString(), story);
        Path mp3 = dir.resolve("visitor.mp3");
        run("ffmpeg", "-hide_banner", "-loglevel", "error", "-y", "-i", wav.toString(), "-c:a", "libmp3lame", "-b:a", "48k", mp3.toString());
        byte[] wavBytes = Files.readAllBytes(wav);
        byte[] mp3Bytes = Files.readAllBytes(mp3);
        double seconds = Wav.info(wavBytes).seconds();
        Instant runtime = new Instant();
        TranscribeRunner runner = new TranscribeRunner(runtime);

        Map<String, List<Double>> t = new LinkedHashMap<>();
        for (int i = 0; i < rounds + 3; i++) {
            boolean warm = i >= 3;
            long a = System.nanoTime();
            byte[] job = AudioUpload.toJobWav(wavBytes, "visitor.wav");
            record(t, "gateway: WAV 22.05 kHz → 16 kHz mono (Java)", warm, a);
            long b = System.nanoTime();
            AudioUpload.toJobWav(mp3Bytes, "visitor.mp3");
            record(t, "gateway: MP3 → 16 kHz mono WAV (ffprobe + ffmpeg)", warm, b);
            Job j = new Job("b" + i, "whisper-tiny", new TranscribeParams(job, "en"), "axfleet/v1/reply/bench/b" + i, null, null, null, false);
            long c = System.nanoTime();
            Transcript out = (Transcript) runner.run(j, QUIET);
            record(t, "worker: read, cut at silences, write " + out.segments().size() + " pieces", warm, c);
        }
        // The runtime's time: real-time factor × length (A23).
        Map<String, Double> card = new LinkedHashMap<>();
        card.put("Whisper-Tiny (RTF 0.03)", 0.03 * seconds * 1000);
        card.put("SenseVoice (RTF 0.0364)", 0.0364 * seconds * 1000);
        card.put("Whisper-Small (RTF 0.18)", 0.18 * seconds * 1000);

        // Synthesis: 16 kHz PCM of the same length as the story, as the unit gives it.
        float[] pcm16k = speechLike(16_000, seconds);
        Map<String, List<Double>> s = new LinkedHashMap<>();
        for (int i = 0; i < rounds + 3; i++) {
            boolean warm = i >= 3;
            long a = System.nanoTime();
            byte[] pcm24 = Wav.pcm16(Resampler.resample(Wav.fromPcm16(Wav.pcm16(pcm16k)), 16_000, 24_000));
            record(s, "worker: 16 → 24 kHz and 16-bit PCM (Java)", warm, a);
            long b = System.nanoTime();
            encode("mp3", pcm24);
            record(s, "gateway: encode MP3 (ffmpeg, libmp3lame 64 kb/s)", warm, b);
            long c = System.nanoTime();
            encode("opus", pcm24);
            record(s, "gateway: encode Opus (ffmpeg, libopus 32 kb/s)", warm, c);
            long d = System.nanoTime();
            Wav.withHeader(pcm24, 24_000);
            record(s, "gateway: WAV (a header and a copy)", warm, d);
        }
        // MeloTTS through StackFlow (A25): 535 ms of encoder per phrase, 40 ms per decoder slice of about 0.93 s.
        int phrases = story.split("[,.?!]").length;
        double meloMs = phrases * 535.47 + 40 * Math.ceil(seconds / 0.93);

        System.out.printf(Locale.ROOT, "## Speech: the host's share (%d rounds after 3 warm-up, medians; %.1f s of espeak-ng speech)%n%n", rounds, seconds);
        System.out.println("| transcription step | host, ms | vs Whisper-Tiny's runtime time | vs SenseVoice's | vs Whisper-Small's |");
        System.out.println("|---|---|---|---|---|");
        List<Double> runtimes = new ArrayList<>(card.values());
        t.forEach((k, v) -> System.out.printf(Locale.ROOT, "| %s | %.1f | %.3f | %.3f | %.3f |%n", k, median(v), median(v) / runtimes.get(0),
                median(v) / runtimes.get(1), median(v) / runtimes.get(2)));
        card.forEach((k, v) -> System.out.printf(Locale.ROOT, "| runtime: %s, modelled | %.1f | | | |%n", k, v));
        System.out.println();
        System.out.println("| synthesis step | host, ms | vs MeloTTS's runtime time |");
        System.out.println("|---|---|---|");
        s.forEach((k, v) -> System.out.printf(Locale.ROOT, "| %s | %.1f | %.3f |%n", k, median(v), median(v) / meloMs));
        System.out.printf(Locale.ROOT, "| runtime: MeloTTS, %d phrases, modelled | %.1f | 1 |%n", phrases, meloMs);
    }

    private static void encode(String format, byte[] pcm) throws Exception {
        Process p = Ffmpeg.encoder(format, 24_000);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        Thread pump = new Thread(() -> {
            try (InputStream in = p.getInputStream()) {
                in.transferTo(out);
            } catch (Exception ignored) {
                // Counted by its size below.
            }
        });
        pump.start();
        try (OutputStream o = p.getOutputStream()) {
            o.write(pcm);
        }
        pump.join();
        p.waitFor(30, TimeUnit.SECONDS);
        if (out.size() == 0) {
            throw new IllegalStateException("ffmpeg encoded nothing as " + format);
        }
    }

    /** Words of a voiced tone with pauses, at {@code rate}, {@code seconds} long. */
    private static float[] speechLike(int rate, double seconds) {
        float[] s = new float[(int) (rate * seconds)];
        for (int i = 0; i < s.length; i++) {
            double t = i / (double) rate;
            double word = Math.sin(Math.PI * (t % 0.4) / 0.4);
            s[i] = (float) (0.3 * word * (Math.sin(2 * Math.PI * 180 * t) + 0.3 * Math.sin(2 * Math.PI * 540 * t)));
        }
        return s;
    }

    private static void record(Map<String, List<Double>> m, String what, boolean warm, long startNanos) {
        double ms = (System.nanoTime() - startNanos) / 1e6;
        if (warm) {
            m.computeIfAbsent(what, k -> new ArrayList<>()).add(ms);
        }
    }

    private static double median(List<Double> v) {
        List<Double> sorted = new ArrayList<>(v);
        Collections.sort(sorted);
        return sorted.get(sorted.size() / 2);
    }

    private static void run(String... command) throws Exception {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        if (!p.waitFor(120, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IllegalStateException(String.join(" ", command) + ": " + out);
        }
    }
}
