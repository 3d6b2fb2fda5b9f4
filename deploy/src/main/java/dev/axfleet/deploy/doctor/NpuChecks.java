package dev.axfleet.deploy.doctor;

import dev.axfleet.broker.audio.Wav;
import dev.axfleet.broker.chat.ChatMessage;
import dev.axfleet.deploy.doctor.Check.Need;
import dev.axfleet.worker.runtime.AxllmServeRuntime;
import dev.axfleet.worker.runtime.EngineException;
import dev.axfleet.worker.runtime.Generation;
import dev.axfleet.worker.runtime.RuntimeStartException;
import dev.axfleet.worker.speech.StackFlowTtsRuntime;
import dev.axfleet.worker.transcribe.AsrServerRuntime;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Three models on one NPU (docs/hardware.md U38, A29): the chat model under {@code axllm serve}, the melotts unit and
 * SenseVoice under asr_server, all loaded at once through the workers' adapters. The chat's decode rate (the gaps between
 * a streamed answer's tokens, its prefill left out) alone and while a speech job runs, and while a transcription runs; the
 * speech and the transcription job's time alone and beside the chat. A29 says the runtimes take turns on the one NPU.
 */
final class NpuChecks {
    /** Six sentences: a long speech job (one phrase each, F51). */
    static final String SPEECH = "The fox ran across the dunes at dusk. A lamp came on in the tower. The wind turned to the sea. "
            + "Somebody laughed by the gate. The tide came in over the sand. Then the whole town was asleep.";
    /** What the chat is asked, as hardware.md U38's curl asks it. */
    private static final String PROMPT = "Tell a long story";
    private static final int MAX_TOKENS = 120;
    /** 28 s pieces of silence per transcription job (about a second of SenseVoice's compute each on the card, A23). */
    private static final int PIECES = 4;
    /** A29's bounds: the chat's rate and a job's speed (its time alone over its time beside) while they overlap. */
    static final double SPEECH_LOW = 0.35;
    static final double SPEECH_HIGH = 0.96;
    static final double ASR_LOW = 0.30;
    static final double ASR_HIGH = 0.75;

    private NpuChecks() {
    }

    static List<Check> all() {
        return List.of(Check.of("U38", "three models on one NPU", Duration.ofMinutes(8), Set.of(Need.CARD_ALONE), List.of("A29"), NpuChecks::shared));
    }

    /** A chat's tokens: each answer's arrival times (ns), its first (after the prefill) included. */
    static final class Tokens {
        private final List<List<Long>> answers = new CopyOnWriteArrayList<>();

        List<Long> answer() {
            List<Long> a = new CopyOnWriteArrayList<>();
            answers.add(a);
            return a;
        }

        /** Tokens a second over the decode gaps that lie between {@code from} and {@code to} (ns); {gaps, rate}. */
        double[] rate(long from, long to) {
            long gaps = 0;
            long nanos = 0;
            for (List<Long> a : answers) {
                for (int i = 1; i < a.size(); i++) {
                    if (a.get(i - 1) >= from && a.get(i) <= to) {
                        gaps++;
                        nanos += a.get(i) - a.get(i - 1);
                    }
                }
            }
            return new double[] {gaps, nanos == 0 ? 0 : gaps / (nanos / 1e9)};
        }
    }

    /** A job timed: its milliseconds, and the first audio's for speech (-1 otherwise). */
    record Timed(long ms, long firstMs) {
    }

    @FunctionalInterface
    interface Job {
        Timed run() throws Exception;
    }

    /** The chat, answer after answer, while {@code job} runs beside it: the job's time and the chat's rate during it. */
    record Beside(Timed job, double gaps, double rate, String chatError) {
    }

    static Verdict shared(Lab lab) throws Exception {
        Target t = lab.target();
        // The chat loads (the longest) while the others do.
        java.util.concurrent.CompletableFuture<AxllmServeRuntime> loading = new java.util.concurrent.CompletableFuture<>();
        Thread loader = new Thread(() -> {
            try {
                loading.complete(lab.chat(true));
            } catch (Throwable e) {
                loading.completeExceptionally(e);
            }
        }, "doctor-u38-load");
        loader.setDaemon(true);
        loader.start();
        StackFlowTtsRuntime speaker = lab.speaker(true);
        speaker.start(lab.loadTimeout());
        // SenseVoice beside them, when asr_server is here (U31); without it the speech alone is measured.
        AsrServerRuntime asr = null;
        String asrWhy = null;
        try {
            asr = lab.transcriberBeside(t.sensevoiceModel(), true);
            asr.start(lab.loadTimeout());
        } catch (Verdict.Skip | RuntimeStartException e) {
            asrWhy = Host.firstLine(e.getMessage());
            lab.note("transcription not measured: " + asrWhy);
            asr = null;
        }
        AxllmServeRuntime chat;
        try {
            chat = loading.get(lab.loadTimeout().toMillis() + 5_000, TimeUnit.MILLISECONDS);
        } catch (java.util.concurrent.ExecutionException e) {
            throw e.getCause() instanceof Exception x ? x : e;
        }
        Long cmm = lab.cmmUsed();
        lab.note("loaded at once: " + t.chatModel() + " (axllm serve), " + t.speechModel() + " (the melotts unit)"
                + (asr == null ? "" : ", " + t.sensevoiceModel() + " (asr_server)") + "; CMM used " + cmm + " MiB");

        // Alone: the chat (two answers), then the speech job, then the transcription.
        Tokens alone = new Tokens();
        for (int i = 0; i < 2; i++) {
            answer(chat, alone.answer());
        }
        double[] chatAlone = alone.rate(Long.MIN_VALUE, Long.MAX_VALUE);
        Timed speechAlone = speak(speaker);
        AsrServerRuntime transcriber = asr;
        byte[] piece = Wav.write16(new float[28 * 16_000], 16_000);
        Timed asrAlone = transcriber == null ? null : transcribe(transcriber, piece);

        // Beside the chat.
        Duration limit = Duration.ofSeconds(lab.emulated() ? 60 : 180);
        Beside speech = beside(chat, () -> speak(speaker), limit);
        Beside heard = transcriber == null ? null : beside(chat, () -> transcribe(transcriber, piece), limit);

        List<String> seen = new ArrayList<>();
        List<String> off = new ArrayList<>();
        seen.add(String.format(Locale.ROOT, "%s alone decodes %.1f tokens/s (%d gaps)", t.chatModel(), chatAlone[1], (long) chatAlone[0]));
        pair(t.speechModel() + "'s six sentences", chatAlone[1], speechAlone, speech, SPEECH_LOW, SPEECH_HIGH, seen, off);
        if (heard != null) {
            pair(t.sensevoiceModel() + "'s " + PIECES + " pieces of 28 s", chatAlone[1], asrAlone, heard, ASR_LOW, ASR_HIGH, seen, off);
        } else {
            seen.add("transcription not measured (" + asrWhy + ")");
        }
        String bounds = String.format(Locale.ROOT, "A29's bounds: beside the speech job (only MeloTTS's decoder on the NPU, A25, A29) each goes at "
                + "%.0f-%.0f %% of its speed alone, beside the transcription (all on the NPU) at %.0f-%.0f %%", SPEECH_LOW * 100, SPEECH_HIGH * 100,
                ASR_LOW * 100, ASR_HIGH * 100);
        String all = String.join("; ", seen) + " (" + bounds + ")";
        lab.note(all);
        return off.isEmpty() ? Verdict.verified("the runtimes take turns on the one NPU (A29): " + all)
                : Verdict.differs(String.join("; ", off) + "; " + all);
    }

    /** One pair's figures and A29's word on them: both slow down, within {@code low}..{@code high} of their speed alone. */
    private static void pair(String job, double chatAlone, Timed alone, Beside b, double low, double high, List<String> seen, List<String> off) {
        double chatShare = chatAlone <= 0 ? 0 : b.rate() / chatAlone;
        double jobShare = alone.ms() / (double) Math.max(1, b.job().ms());
        seen.add(String.format(Locale.ROOT, "%s: alone %d ms%s, beside the chat %d ms%s (%.0f %% of its speed); the chat beside it %.1f tokens/s "
                + "(%d gaps, %.0f %% of its rate alone)", job, alone.ms(), first(alone), b.job().ms(), first(b.job()), jobShare * 100, b.rate(),
                (long) b.gaps(), chatShare * 100));
        if (b.chatError() != null) {
            off.add("the chat failed beside " + job + ": " + b.chatError());
        }
        if (b.gaps() < 5) {
            off.add("the chat gave " + (long) b.gaps() + " tokens while " + job + " ran: too few to time");
        }
        for (double[] share : List.of(new double[] {chatShare, 0}, new double[] {jobShare, 1})) {
            String who = share[1] == 0 ? "the chat beside " + job : job + " beside the chat";
            if (share[0] > high) {
                off.add(String.format(Locale.ROOT, "%s kept %.0f %% of its speed (A29 expects at most %.0f %%: the NPU ran both at once, or "
                        + "kept one waiting less than turns would)", who, share[0] * 100, high * 100));
            } else if (share[0] < low) {
                off.add(String.format(Locale.ROOT, "%s fell to %.0f %% of its speed (A29 expects at least %.0f %%: the driver runs whole "
                        + "requests in turn, not layers, or something else waits)", who, share[0] * 100, low * 100));
            }
        }
    }

    private static String first(Timed t) {
        return t.firstMs() < 0 ? "" : ", first audio at " + t.firstMs() + " ms";
    }

    /** One streamed answer through the adapter, each token's arrival noted. */
    private static void answer(AxllmServeRuntime chat, List<Long> times) throws EngineException {
        chat.chat(AxllmChecks.ask(List.of(ChatMessage.user(PROMPT)), MAX_TOKENS, false),
                new Generation(List.of(), MAX_TOKENS, d -> times.add(System.nanoTime()), () -> false));
    }

    private static Timed speak(StackFlowTtsRuntime r) throws EngineException {
        long t0 = System.nanoTime();
        long[] first = {-1};
        r.speak(SPEECH, r.voices().get(0), 1.0, (pcm, last) -> {
            if (first[0] < 0 && pcm.length > 0) {
                first[0] = (System.nanoTime() - t0) / 1_000_000;
            }
        }, () -> false);
        return new Timed((System.nanoTime() - t0) / 1_000_000, first[0]);
    }

    private static Timed transcribe(AsrServerRuntime r, byte[] piece) throws EngineException {
        long t0 = System.nanoTime();
        for (int i = 0; i < PIECES; i++) {
            r.transcribe(piece, null);
        }
        return new Timed((System.nanoTime() - t0) / 1_000_000, -1);
    }

    /**
     * The chat answers on a thread of its own, one answer after another (bounded), from before {@code job} starts until it
     * ends; the rate counts the decode gaps inside the job's run only.
     */
    static Beside beside(AxllmServeRuntime chat, Job job, Duration limit) throws Exception {
        Tokens tokens = new Tokens();
        AtomicBoolean stop = new AtomicBoolean();
        AtomicReference<String> error = new AtomicReference<>();
        CountDownLatch decoding = new CountDownLatch(2);
        Thread talker = new Thread(() -> {
            for (int i = 0; i < 100 && !stop.get(); i++) {
                List<Long> times = tokens.answer();
                try {
                    chat.chat(AxllmChecks.ask(List.of(ChatMessage.user(PROMPT)), MAX_TOKENS, false),
                            new Generation(List.of(), MAX_TOKENS, d -> {
                                times.add(System.nanoTime());
                                decoding.countDown();
                            }, () -> false));
                } catch (EngineException e) {
                    error.set(e.getMessage());
                    return;
                }
            }
        }, "doctor-u38-chat");
        talker.setDaemon(true);
        talker.start();
        try {
            // Two tokens in: the chat is decoding, past its first prefill.
            if (!decoding.await(limit.toMillis(), TimeUnit.MILLISECONDS)) {
                return new Beside(new Timed(0, -1), 0, 0, error.get() != null ? error.get() : "no token within " + limit.toSeconds() + " s");
            }
            long from = System.nanoTime();
            Timed t = job.run();
            long to = System.nanoTime();
            double[] r = tokens.rate(from, to);
            return new Beside(t, r[0], r[1], error.get());
        } finally {
            stop.set(true);
            // The answer under way ends by itself (the card goes on for a client that leaves, A3): wait for it.
            talker.join(limit.toMillis());
        }
    }
}
