package dev.axfleet.broker.transcribe;

import dev.axfleet.broker.Task;
import dev.axfleet.broker.TaskParams;
import java.util.Objects;

/**
 * What a transcription job asks: the text spoken in one WAV file.
 *
 * @param audio    a RIFF WAVE file (PCM or float, mono or stereo, any rate; {@link dev.axfleet.broker.audio.Wav}), at most
 *                 {@link #MAX_AUDIO_BYTES} and {@link #MAX_SECONDS}; the gateway sends 16 kHz mono 16-bit, which is what
 *                 the runtime reads, and a device may send what its microphone gives
 * @param language the spoken language as the runtime names it (Whisper's ISO 639-1 codes; SenseVoice's auto, zh, en, yue,
 *                 ja, ko), or null for the runtime's default (asr_server: en for Whisper, auto for SenseVoice)
 */
public record TranscribeParams(byte[] audio, String language) implements TaskParams {
    /** 20 MiB: ten minutes of 16 kHz mono 16-bit with room to spare; the job's base64 stays under {@link TranscribeCodec#MAX_JOB_BYTES}. */
    public static final int MAX_AUDIO_BYTES = 20 << 20;
    /** Ten minutes: a long interview, far past an installation's utterances; cut at silences into the runtime's window. */
    public static final double MAX_SECONDS = 600;
    /** OpenAI's own floor ("Minimum audio length is 0.1 seconds"). */
    public static final double MIN_SECONDS = 0.1;
    /** Mono or stereo, as the issue and asr_server's AudioLoader (which mixes the first two channels) take them. */
    public static final int MAX_CHANNELS = 2;
    public static final int MIN_RATE = 4_000;
    public static final int MAX_RATE = 384_000;

    public TranscribeParams {
        Objects.requireNonNull(audio, "audio");
        if (audio.length == 0 || audio.length > MAX_AUDIO_BYTES) {
            throw new IllegalArgumentException("a transcription job carries 1 to " + MAX_AUDIO_BYTES + " bytes of audio");
        }
    }

    @Override
    public Task task() {
        return Task.TRANSCRIBE;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TranscribeParams p && java.util.Arrays.equals(audio, p.audio) && Objects.equals(language, p.language);
    }

    @Override
    public int hashCode() {
        return 31 * java.util.Arrays.hashCode(audio) + Objects.hashCode(language);
    }

    /** Names the audio by its digest: identical requests are told apart by what they say, not only by their length. */
    @Override
    public String toString() {
        try {
            byte[] d = java.security.MessageDigest.getInstance("SHA-256").digest(audio);
            return "TranscribeParams[" + audio.length + " bytes sha256=" + java.util.HexFormat.of().formatHex(d) + ", language=" + language + "]";
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
