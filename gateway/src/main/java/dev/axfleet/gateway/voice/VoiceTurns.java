package dev.axfleet.gateway.voice;

import com.google.gson.JsonObject;
import dev.axfleet.broker.Capability;
import dev.axfleet.broker.JobResult;
import dev.axfleet.broker.Kind;
import dev.axfleet.broker.chat.ChatParams;
import dev.axfleet.broker.speech.SpeechParams;
import dev.axfleet.broker.transcribe.TranscribeParams;
import dev.axfleet.broker.transcribe.Transcript;
import dev.axfleet.broker.voice.VoiceCodec;
import dev.axfleet.broker.voice.VoiceParams;
import dev.axfleet.gateway.ApiException;
import dev.axfleet.gateway.Conversations;
import dev.axfleet.gateway.GatewayConfig;
import dev.axfleet.gateway.JobRunner;
import dev.axfleet.gateway.ModelRegistry;
import dev.axfleet.gateway.RequestLog;
import dev.axfleet.gateway.bus.Submission;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A whole voice turn, composed of three jobs of three kinds on the bus, as any caller's jobs are: the visitor's audio
 * transcribed; the transcript answered in a conversation kept on the server ({@link Conversations}, the coyote's), the
 * answer streamed; and the answer spoken while it is still being generated — each phrase (the speech model's own cuts,
 * {@link Phrases}) goes to the speech model as soon as its text is whole, one speech job after another on a thread of
 * the turn's, and its audio out as the unit speaks it. A new turn for a conversation whose answer is still being given
 * (the visitor spoke again: barge-in) stops the running one: its jobs get the bus's cancel, and its answer is kept in
 * the conversation as far as it went. Nothing here runs a model: the workers do, and a voice turn on a card with three
 * models costs what its three jobs cost.
 */
public final class VoiceTurns {
    private static final Logger log = LoggerFactory.getLogger(VoiceTurns.class);

    private final JobRunner runner;
    private final ModelRegistry registry;
    private final GatewayConfig config;
    private final Conversations conversations;
    private final Map<String, Turn> running = new ConcurrentHashMap<>();
    private final AtomicInteger threads = new AtomicInteger();
    private final ExecutorService speakers = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "voice-speaker-" + threads.incrementAndGet());
        t.setDaemon(true);
        return t;
    });

    public VoiceTurns(JobRunner runner, ModelRegistry registry, GatewayConfig config, Conversations conversations) {
        this.runner = runner;
        this.registry = registry;
        this.config = config;
        this.conversations = conversations;
    }

    /** Where a turn's events go, in order; an IOException means the caller has gone (the turn stops). */
    public interface Events {
        void event(JsonObject event) throws IOException;

        /** Whether the caller has gone; asked only from the thread that called {@link #run}. */
        default boolean gone() {
            return false;
        }
    }

    /** A turn's result event, and the failure it reports (null unless it ended in an error). */
    public record Ended(JsonObject result, ApiException failure) {
    }

    /** The three models a turn uses. */
    record Models(String transcription, String chat, String speech) {
    }

    /**
     * Runs turn {@code id} on the calling thread until its result, which is returned after it went to {@code events}.
     * {@code heardAt} (System.nanoTime) is when the visitor's audio had all arrived: the turn's timings count from it. A
     * turn whose models cannot be found is refused before any event.
     */
    public Ended run(String id, VoiceParams p, long heardAt, Events events) throws ApiException {
        Models m = models(p);
        Turn t = new Turn(id, p, heardAt, events);
        Turn before = running.put(p.conversation(), t);
        if (before != null) {
            log.info("voice turn={} conversation={}: the visitor spoke again; turn {} stops", id, p.conversation(), before.id);
            before.stop("the visitor spoke again (turn " + id + ")");
        }
        try {
            JsonObject result = t.run(m);
            return new Ended(result, t.failure);
        } finally {
            running.remove(p.conversation(), t);
            log.info("voice turn={} conversation={} {} transcript_ms={} first_audio_ms={} done_ms={} models={},{},{}", id, p.conversation(),
                    t.outcome == null ? "-" : t.outcome.wire(), t.timings.get("transcript_ms"), t.timings.get("first_audio_ms"),
                    t.timings.get("done_ms"), m.transcription(), m.chat(), m.speech());
        }
    }

    /** The models a turn names, else the gateway's: the first of each kind, a text model for the answer. */
    Models models(VoiceParams p) throws ApiException {
        String asr = p.models().transcription() != null ? runner.model(Kind.TRANSCRIPTION, p.models().transcription()) : first(Kind.TRANSCRIPTION);
        String speech = p.models().speech() != null ? runner.model(Kind.SPEECH, p.models().speech()) : first(Kind.SPEECH);
        String chat;
        if (p.models().chat() != null) {
            chat = runner.model(Kind.CHAT, p.models().chat());
        } else if (config.conversational().contains(p.conversation())
                && registry.resolve(Kind.CHAT, p.conversation()) instanceof ModelRegistry.Found f) {
            chat = f.model(); // the coyote's qwen3-ax650: its conversation, its model
        } else {
            chat = textChatModel();
        }
        return new Models(asr, chat, speech);
    }

    private String first(Kind kind) throws ApiException {
        List<String> models = registry.modelsOf(kind);
        if (models.isEmpty()) {
            throw new ApiException(404, "a voice turn needs a " + kind.wire() + " model, and none is served here; models here: "
                    + String.join(", ", registry.names()), "models", "model_not_found", Map.of());
        }
        return models.get(0);
    }

    /** The first chat model configured that takes no images (a vision model answers slower for nothing), else the first. */
    private String textChatModel() throws ApiException {
        List<String> chat = new ArrayList<>();
        config.models().forEach((model, kind) -> {
            if (kind == Kind.CHAT) {
                chat.add(model);
            }
        });
        registry.modelsOf(Kind.CHAT).stream().filter(m -> !chat.contains(m)).forEach(chat::add);
        for (String m : chat) {
            if (!registry.capabilities(m).contains(Capability.VISION)) {
                return m;
            }
        }
        if (chat.isEmpty()) {
            return first(Kind.CHAT);
        }
        return chat.get(0);
    }

    /** One turn: its jobs, its events, whether it was stopped. */
    private final class Turn {
        final String id;
        final VoiceParams p;
        final long heardAt;
        final Events events;
        final Map<String, Long> timings = java.util.Collections.synchronizedMap(new LinkedHashMap<>());
        final Set<Submission> jobs = ConcurrentHashMap.newKeySet();
        final StringBuilder said = new StringBuilder();
        volatile boolean stopped;
        volatile String stoppedWhy;
        volatile VoiceCodec.Outcome outcome;
        volatile ApiException failure;
        private int deltaSeq;
        private int audioSeq;
        private long audioBytes;

        Turn(String id, VoiceParams p, long heardAt, Events events) {
            this.id = id;
            this.p = p;
            this.heardAt = heardAt;
            this.events = events;
        }

        /** Stops the turn: every job it has on the bus is cancelled (the workers' own cancel path). */
        void stop(String why) {
            if (!stopped) {
                stoppedWhy = why;
                stopped = true;
            }
            jobs.forEach(Submission::interrupt);
        }

        void track(Submission s) {
            jobs.add(s);
            if (stopped) {
                s.interrupt();
            }
        }

        void mark(String timing) {
            timings.putIfAbsent(timing, (System.nanoTime() - heardAt) / 1_000_000);
        }

        /** One event to the caller; the caller gone stops the turn. */
        synchronized void emit(JsonObject e) {
            try {
                events.event(e);
            } catch (IOException gone) {
                if (!stopped) {
                    log.info("voice turn={}: the caller went away ({}); its jobs are cancelled", id, gone.getMessage());
                }
                stop("the caller went away");
            }
        }

        void delta(String text) {
            mark("first_text_ms");
            synchronized (this) {
                said.append(text);
                emit(VoiceCodec.delta(id, deltaSeq++, text));
            }
        }

        /** The answer's speech, cut to the messages' size. */
        synchronized void audio(int phrase, byte[] pcm, boolean last) {
            if (pcm.length > 0) {
                mark("first_audio_ms");
            }
            int per = VoiceCodec.pcmPerMessage(p.chunkBytes(), id);
            for (int i = 0; i < pcm.length; i += per) {
                byte[] piece = java.util.Arrays.copyOfRange(pcm, i, Math.min(pcm.length, i + per));
                audioBytes += piece.length;
                emit(VoiceCodec.audio(id, audioSeq++, phrase, piece, last && i + per >= pcm.length));
            }
            if (pcm.length == 0 && last) {
                emit(VoiceCodec.audio(id, audioSeq++, phrase, pcm, true));
            }
        }

        JsonObject run(Models m) throws ApiException {
            String transcript = null;
            RequestLog requestLog = new RequestLog();
            try {
                JobResult heard = runner.callAlone(m.transcription(), new TranscribeParams(p.audio(), p.language()), requestLog, this::track);
                Transcript tr = heard.output(Transcript.class);
                transcript = tr.text().strip();
                mark("transcript_ms");
                emit(VoiceCodec.transcript(id, transcript, tr.language(), timings.get("transcript_ms")));
                if (stopped) {
                    return end(VoiceCodec.Outcome.CANCELLED, transcript, null);
                }
                if (transcript.isEmpty()) {
                    return end(VoiceCodec.Outcome.DONE, transcript, null); // nothing was said: nothing to answer
                }
                return answer(m, transcript);
            } catch (ApiException e) {
                if (stopped) {
                    return end(VoiceCodec.Outcome.CANCELLED, transcript, null);
                }
                return end(VoiceCodec.Outcome.ERROR, transcript, e);
            }
        }

        private JsonObject answer(Models m, String transcript) throws ApiException {
            Conversations.Conversation c = conversations.get(p.conversation());
            try {
                // The turn it stopped gives the conversation back once its jobs' cancels are answered.
                if (!c.turn().tryLock(config.requestTimeout().toMillis(), TimeUnit.MILLISECONDS)) {
                    throw ApiException.busy("conversation " + p.conversation() + " is still busy with an earlier turn", 5);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw ApiException.timeout(config.requestTimeout());
            }
            Speaker speaker = new Speaker(this, m.speech());
            try {
                if (stopped) {
                    return end(VoiceCodec.Outcome.CANCELLED, transcript, null);
                }
                if (p.reset() || (p.system() != null && !p.system().equals(c.system()))) {
                    c.reset(p.system());
                }
                int maxTokens = p.maxTokens() != null ? p.maxTokens() : config.conversationMaxTokens();
                ChatParams chat = new ChatParams(c.messages(transcript, registry.contextTokens(m.chat()), maxTokens), p.temperature(), null, null,
                        maxTokens, p.stop().isEmpty() ? null : p.stop(), null, null, null, null, false);
                speaker.start();
                Phrases phrases = new Phrases(SpeechParams.MAX_INPUT_CHARS, p.firstWords());
                ApiException failure = null;
                JobResult answered = null;
                try {
                    answered = runner.stream(m.chat(), chat, new JobRunner.StreamSink() {
                        @Override
                        public void delta(String text) {
                            Turn.this.delta(text);
                            phrases.add(text).forEach(speaker::say);
                        }

                        @Override
                        public void thinking(String text) {
                            // Thinking is not said (think is off; a model that thinks anyway keeps it to itself).
                        }

                        @Override
                        public void idle() {
                        }

                        @Override
                        public boolean gone() {
                            if (!stopped && events.gone()) {
                                stop("the caller went away");
                            }
                            return stopped;
                        }
                    }, new RequestLog(), this::track);
                } catch (ApiException e) {
                    failure = e;
                }
                if (answered != null) {
                    String rest = phrases.finish();
                    if (!rest.isEmpty()) {
                        speaker.say(rest);
                    }
                }
                speaker.finish();
                awaitSpeaker(speaker);
                String text;
                synchronized (this) {
                    text = said.toString();
                }
                if (!text.isBlank()) {
                    // An answer cut short by barge-in is kept as far as it went: the visitor heard (some of) it.
                    c.answered(transcript, text.strip());
                }
                if (stopped) {
                    return end(VoiceCodec.Outcome.CANCELLED, transcript, null);
                }
                if (failure != null) {
                    return end(VoiceCodec.Outcome.ERROR, transcript, failure);
                }
                if (speaker.failure != null) {
                    return end(VoiceCodec.Outcome.ERROR, transcript, speaker.failure);
                }
                return end(VoiceCodec.Outcome.DONE, transcript, null);
            } finally {
                speaker.finish();
                c.turn().unlock();
            }
        }

        /** Waits for the speech to end, looking every half second whether the caller has gone (on this, its thread). */
        private void awaitSpeaker(Speaker speaker) {
            long deadline = System.nanoTime() + config.requestTimeout().toNanos();
            try {
                while (!speaker.done.await(500, TimeUnit.MILLISECONDS)) {
                    if (!stopped && events.gone()) {
                        stop("the caller went away");
                    }
                    if (System.nanoTime() > deadline) {
                        stop("the speech took longer than gateway.request_timeout");
                        speaker.done.await(5, TimeUnit.SECONDS);
                        return;
                    }
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                stop("interrupted");
            }
        }

        private JsonObject end(VoiceCodec.Outcome how, String transcript, ApiException e) {
            mark("done_ms");
            outcome = how;
            failure = e;
            String text;
            long bytes;
            synchronized (this) {
                text = said.length() == 0 && transcript == null ? null : said.toString().strip();
                bytes = audioBytes;
            }
            String code = e != null ? e.code() : how == VoiceCodec.Outcome.CANCELLED ? "cancelled" : null;
            String message = e != null ? e.getMessage() : how == VoiceCodec.Outcome.CANCELLED ? stoppedWhy : null;
            JsonObject result = VoiceCodec.result(id, how, p.conversation(), transcript, text, p.sampleRate(), bytes, new LinkedHashMap<>(timings),
                    code, message, e != null ? e.param() : null);
            emit(result);
            return result;
        }
    }

    /**
     * Speaks a turn's phrases in order, one speech job at a time (the speech model takes one anyway; with several workers
     * this keeps the audio in order), joining the phrases that waited while one was spoken into the next job.
     */
    private final class Speaker implements Runnable {
        /**
         * Phrases that waited are joined up to this: fewer jobs, while a stopped turn's last job stays short (the melotts
         * unit cannot be stopped mid-text, A28, and the next turn's speech waits for it).
         */
        static final int JOB_CHARS = 200;
        private final Turn turn;
        private final String model;
        private final BlockingQueue<String> phrases = new LinkedBlockingQueue<>();
        private volatile boolean finished;
        final CountDownLatch done = new CountDownLatch(1);
        volatile ApiException failure;
        private volatile boolean started;

        Speaker(Turn turn, String model) {
            this.turn = turn;
            this.model = model;
        }

        void say(String phrase) {
            turn.mark("first_phrase_ms");
            phrases.add(phrase);
        }

        void start() {
            started = true;
            speakers.execute(this);
        }

        /** No phrase comes after those said; a speaker never started is done at once. */
        void finish() {
            finished = true;
            if (!started) {
                done.countDown();
            }
        }

        @Override
        public void run() {
            int phrase = 0;
            try {
                while (!turn.stopped) {
                    String next = phrases.poll(50, TimeUnit.MILLISECONDS);
                    if (next == null) {
                        if (finished && phrases.isEmpty()) {
                            break;
                        }
                        continue;
                    }
                    StringBuilder text = new StringBuilder(next);
                    for (String more = phrases.peek(); more != null && text.length() + 1 + more.length() <= JOB_CHARS;
                         more = phrases.peek()) {
                        text.append(' ').append(phrases.poll());
                    }
                    int number = phrase++;
                    runner.streamAudio(model, new SpeechParams(text.toString(), turn.p.voice(), turn.p.speed(), SpeechParams.Format.PCM,
                            turn.p.sampleRate(), null), new JobRunner.AudioSink() {
                        @Override
                        public void audio(byte[] pcm) throws IOException {
                            if (turn.stopped) {
                                throw new IOException("the turn was stopped");
                            }
                            turn.audio(number, pcm, false);
                        }

                        @Override
                        public boolean gone() {
                            return turn.stopped;
                        }
                    }, new RequestLog(), turn::track);
                }
            } catch (ApiException e) {
                if (!turn.stopped) {
                    failure = e;
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (RuntimeException e) {
                log.warn("voice turn={}: speaking failed: {}", turn.id, e.toString(), e);
                failure = new ApiException(500, "speaking failed: " + e, null, "internal_error", Map.of());
            } finally {
                if (!turn.stopped) {
                    turn.audio(phrase, new byte[0], true); // the audio has ended: said even to a device whose buffer holds no result
                }
                done.countDown();
            }
        }
    }
}
