package dev.axfleet.broker.speech;

import dev.axfleet.broker.Kind;
import dev.axfleet.broker.TaskOutput;

/**
 * Spoken audio. A streamed job's audio went out in ordered {@link dev.axfleet.broker.AudioChunk}s and its result carries
 * none ({@code audio} null); a job that did not stream gets it whole here.
 *
 * @param voice      the model's voice that spoke (an OpenAI name resolved)
 * @param durationMs the audio's length
 * @param bytes      the audio's size in bytes (header included for WAV)
 * @param chunks     how many audio messages carried it (0 when it came whole)
 * @param firstAudioMs from the start of the run to the runtime's first piece of audio
 * @param hostMs     the worker's own time on it (resampling, encoding, chunking)
 * @param runtimeMs  the time spent waiting for the runtime (the card's share and the CPU encoder the runtime runs)
 */
public record Speech(SpeechParams.Format format, int sampleRate, String voice, long durationMs, long bytes, int chunks, byte[] audio,
                     long firstAudioMs, long hostMs, long runtimeMs) implements TaskOutput {
    @Override
    public Kind kind() {
        return Kind.SPEECH;
    }

    @Override
    public String logLine() {
        return "voice=" + voice + " audio_ms=" + durationMs + " bytes=" + bytes + " chunks=" + chunks + " format=" + format.wire() + "@"
                + sampleRate + " first_audio_ms=" + firstAudioMs + " host_ms=" + hostMs + " runtime_ms=" + runtimeMs;
    }
}
