package dev.axfleet.worker.transcribe;

import dev.axfleet.broker.Job;
import dev.axfleet.broker.JobError;
import dev.axfleet.broker.Kind;
import dev.axfleet.broker.TaskOutput;
import dev.axfleet.broker.audio.Mono;
import dev.axfleet.broker.audio.Wav;
import dev.axfleet.broker.transcribe.TranscribeParams;
import dev.axfleet.broker.transcribe.Transcript;
import dev.axfleet.worker.JobFailure;
import dev.axfleet.worker.RunContext;
import dev.axfleet.worker.Runner;
import dev.axfleet.worker.runtime.EngineException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CancellationException;

/**
 * A transcription job: the WAV read (any rate, mono or stereo, PCM or float), made one channel at the model's rate, cut at
 * silences into pieces that fit the runtime's window ({@link Vad}), each piece sent alone, the texts stitched in order
 * with the pieces' times as the segments' timestamps (the runtime gives none). A cancel is seen between pieces; the
 * status topic counts them.
 */
public final class TranscribeRunner implements Runner {
    private final TranscribeRuntime runtime;

    public TranscribeRunner(TranscribeRuntime runtime) {
        this.runtime = runtime;
    }

    @Override
    public Kind kind() {
        return Kind.TRANSCRIPTION;
    }

    @Override
    public TaskOutput run(Job job, RunContext context) throws EngineException, JobFailure {
        TranscribeParams params = (TranscribeParams) job.params();
        long started = System.nanoTime();
        Mono audio;
        try {
            audio = Wav.readMono(params.audio()).at(runtime.sampleRate());
        } catch (Wav.FormatException e) {
            throw new JobFailure(JobError.invalid("params.audio", "is not a WAV file axfleet reads (" + e.getMessage() + ")"));
        }
        int rate = audio.sampleRate();
        List<Vad.Span> spans = Vad.speech(audio.samples(), rate, runtime.windowSeconds());
        long runtimeNanos = 0;
        List<Transcript.Segment> segments = new ArrayList<>();
        String language = params.language();
        for (int i = 0; i < spans.size(); i++) {
            if (context.cancelled()) {
                throw new CancellationException("after " + i + " of " + spans.size() + " pieces");
            }
            Vad.Span span = spans.get(i);
            byte[] wav = Wav.write16(Arrays.copyOfRange(audio.samples(), span.start(), span.end()), rate);
            long asked = System.nanoTime();
            TranscribeRuntime.Heard heard = runtime.transcribe(wav, params.language());
            runtimeNanos += System.nanoTime() - asked;
            if (heard.language() != null) {
                language = heard.language();
            }
            String text = heard.text().strip();
            if (!text.isEmpty()) {
                segments.add(new Transcript.Segment(span.start() / (double) rate, span.end() / (double) rate, text));
            }
            context.progress(i + 1, spans.size());
        }
        long hostMs = (System.nanoTime() - started - runtimeNanos) / 1_000_000;
        return new Transcript(stitch(segments), language, audio.seconds(), segments, hostMs, runtimeNanos / 1_000_000);
    }

    /** The segments' texts in order, a space between them except where both sides are CJK (which writes none). */
    static String stitch(List<Transcript.Segment> segments) {
        StringBuilder out = new StringBuilder();
        for (Transcript.Segment s : segments) {
            if (out.length() > 0 && !(cjk(out.codePointBefore(out.length())) && cjk(s.text().codePointAt(0)))) {
                out.append(' ');
            }
            out.append(s.text());
        }
        return out.toString();
    }

    private static boolean cjk(int cp) {
        Character.UnicodeScript sc = Character.UnicodeScript.of(cp);
        return sc == Character.UnicodeScript.HAN || sc == Character.UnicodeScript.HIRAGANA || sc == Character.UnicodeScript.KATAKANA
                || sc == Character.UnicodeScript.HANGUL || Character.getType(cp) == Character.OTHER_PUNCTUATION && cp > 0x2FFF;
    }
}
