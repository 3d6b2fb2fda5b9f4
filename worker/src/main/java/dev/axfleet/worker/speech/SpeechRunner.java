package dev.axfleet.worker.speech;

import dev.axfleet.broker.AudioChunk;
import dev.axfleet.broker.Job;
import dev.axfleet.broker.JobError;
import dev.axfleet.broker.Kind;
import dev.axfleet.broker.TaskOutput;
import dev.axfleet.broker.audio.Resampler;
import dev.axfleet.broker.audio.Wav;
import dev.axfleet.broker.speech.Speech;
import dev.axfleet.broker.speech.SpeechParams;
import dev.axfleet.broker.speech.Voices;
import dev.axfleet.worker.JobFailure;
import dev.axfleet.worker.RunContext;
import dev.axfleet.worker.Runner;
import dev.axfleet.worker.runtime.EngineException;
import java.io.ByteArrayOutputStream;
import java.util.concurrent.CancellationException;

/**
 * A speech job: the voice resolved (the model's own name, or an OpenAI name mapped onto the model's voices), the text
 * spoken by the runtime phrase by phrase, each phrase resampled to the rate the job asked for and, when the job streams,
 * sent at once as audio messages no larger than its {@code chunk_bytes} (the last one says so); otherwise the audio comes
 * whole in the result. A streamed WAV starts with a header whose sizes are 0xFFFFFFFF (length unknown until the end).
 */
public final class SpeechRunner implements Runner {
    /** The largest sequence number a job's messages are counted to when checking that a chunk holds any audio. */
    private static final int SEQ_BOUND = 9_999_999;

    private final SpeechRuntime runtime;

    public SpeechRunner(SpeechRuntime runtime) {
        this.runtime = runtime;
    }

    @Override
    public Kind kind() {
        return Kind.SPEECH;
    }

    @Override
    public TaskOutput run(Job job, RunContext context) throws EngineException, JobFailure {
        SpeechParams p = (SpeechParams) job.params();
        String voice = Voices.resolve(p.voice(), runtime.voices()).orElseThrow(() -> new JobFailure(JobError.invalid("params.voice",
                "unknown voice '" + p.voice() + "'; " + job.model() + " speaks " + Voices.known(runtime.voices()))));
        int chunkBytes = p.chunkBytesOrDefault();
        if (job.stream() && AudioChunk.capacity(job.id(), SEQ_BOUND, true, chunkBytes) < 3) {
            throw new JobFailure(JobError.invalid("params.chunk_bytes", chunkBytes + " bytes leave no room for audio beside the envelope of job "
                    + job.id() + "; send more, or a shorter id"));
        }
        int from = runtime.sampleRate();
        int rate = p.sampleRate() != null ? p.sampleRate() : from;
        long started = System.nanoTime();
        long[] firstAudio = {-1};
        long[] hostNanos = {0};
        long[] pcmBytes = {0};
        int[] messages = {0};
        ByteArrayOutputStream whole = new ByteArrayOutputStream();
        boolean[] headerSent = {false};
        runtime.speak(p.input(), voice, p.speed(), (pcm, last) -> {
            long t = System.nanoTime();
            if (firstAudio[0] < 0) {
                firstAudio[0] = (t - started) / 1_000_000;
            }
            byte[] out = rate == from || pcm.length == 0 ? pcm : Wav.pcm16(Resampler.resample(Wav.fromPcm16(pcm), from, rate));
            pcmBytes[0] += out.length;
            if (job.stream()) {
                if (p.format() == SpeechParams.Format.WAV && !headerSent[0]) {
                    byte[] withHeader = new byte[44 + out.length];
                    System.arraycopy(Wav.header(-1, rate), 0, withHeader, 0, 44);
                    System.arraycopy(out, 0, withHeader, 44, out.length);
                    out = withHeader;
                    headerSent[0] = true;
                }
                messages[0] += context.audio(out, last, chunkBytes);
            } else {
                whole.writeBytes(out);
            }
            hostNanos[0] += System.nanoTime() - t;
        }, context::cancelled);
        if (context.cancelled()) {
            throw new CancellationException("while speaking");
        }
        long t = System.nanoTime();
        byte[] audio = job.stream() ? null : p.format() == SpeechParams.Format.WAV ? Wav.withHeader(whole.toByteArray(), rate) : whole.toByteArray();
        hostNanos[0] += System.nanoTime() - t;
        long total = System.nanoTime() - started;
        long bytes = audio != null ? audio.length : pcmBytes[0] + (p.format() == SpeechParams.Format.WAV ? 44 : 0);
        return new Speech(p.format(), rate, voice, pcmBytes[0] / 2 * 1000 / rate, bytes, messages[0], audio, Math.max(0, firstAudio[0]),
                hostNanos[0] / 1_000_000, (total - hostNanos[0]) / 1_000_000);
    }
}
