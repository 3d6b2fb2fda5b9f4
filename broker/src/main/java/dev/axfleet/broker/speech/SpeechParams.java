package dev.axfleet.broker.speech;

import dev.axfleet.broker.Range;
import dev.axfleet.broker.Task;
import dev.axfleet.broker.TaskParams;
import java.util.Objects;

/**
 * What a speech job asks: {@code input} spoken in {@code voice}.
 *
 * @param voice      one of the model's voices or an OpenAI voice name mapped onto them ({@link Voices}), or null for the
 *                   model's first
 * @param speed      OpenAI's 0.25 to 4 (1 the model's own pace)
 * @param format     the audio the worker sends: 16-bit little-endian mono PCM, or a WAV file of it
 * @param sampleRate the rate of that audio, or null for the model's own (MeloTTS through StackFlow: 16000)
 * @param chunkBytes with {@code stream}, the largest payload of each audio message in bytes, envelope included (a
 *                   microcontroller's MQTT buffer holds the topic and header too: PubSubClient's 256 bytes fit 256 − 7 −
 *                   the topic's length), or null for {@link #DEFAULT_CHUNK_BYTES}
 */
public record SpeechParams(String input, String voice, double speed, Format format, Integer sampleRate, Integer chunkBytes)
        implements TaskParams {
    /** OpenAI's limit ("The maximum length is 4096 characters"). */
    public static final int MAX_INPUT_CHARS = 4096;
    public static final Range SPEED = new Range(0.25, 4.0);
    public static final Range SAMPLE_RATE = new Range(8_000, 48_000);
    /** Small enough for a 256-byte buffer with a short topic, large enough for base64 to carry audio at all. */
    public static final Range CHUNK_BYTES = new Range(96, 1 << 20);
    public static final int DEFAULT_CHUNK_BYTES = 64 << 10;

    /** How the audio travels. */
    public enum Format implements dev.axfleet.broker.WireName {
        PCM, WAV
    }

    public SpeechParams {
        Objects.requireNonNull(input, "input");
        Objects.requireNonNull(format, "format");
        if (input.isBlank() || input.length() > MAX_INPUT_CHARS) {
            throw new IllegalArgumentException("a speech job speaks 1 to " + MAX_INPUT_CHARS + " characters");
        }
        if (!(speed >= SPEED.min() && speed <= SPEED.max())) {
            throw new IllegalArgumentException("speed must be from " + SPEED.min() + " to " + SPEED.max());
        }
    }

    public int chunkBytesOrDefault() {
        return chunkBytes == null ? DEFAULT_CHUNK_BYTES : chunkBytes;
    }

    @Override
    public Task task() {
        return Task.SPEAK;
    }
}
