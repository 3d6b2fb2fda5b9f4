package dev.axfleet.broker.voice;

import dev.axfleet.broker.Range;
import java.util.List;

/**
 * What a voice turn asks: the visitor's {@code audio} heard, answered in {@code conversation} and the answer spoken.
 *
 * @param audio        a 16-bit or float WAV within transcription's bounds (TranscribeCodec.checkAudio)
 * @param conversation the conversation kept on the server that the turn continues (a conversational model's name is its
 *                     conversation: the coyote's qwen3-ax650 and its persona)
 * @param system       the persona; a conversation with another one starts again with it (null: as it is)
 * @param reset        start the conversation again
 * @param sampleRate   the rate of the answer's 16-bit mono PCM
 * @param chunkBytes   over MQTT, the largest audio message, envelope included
 * @param firstWords   the first phrase is cut after this many words even where the text has no mark, for a sooner first
 *                     audio (0: phrases end only where the speech model's own cuts are)
 * @param models       the models to use, each null for the gateway's choice
 */
public record VoiceParams(byte[] audio, String conversation, String language, String system, boolean reset, String voice, double speed,
                          int sampleRate, int chunkBytes, Integer maxTokens, Double temperature, List<String> stop, int firstWords,
                          Models models) {
    public static final Range MAX_TOKENS = new Range(1, 4096);
    public static final Range FIRST_WORDS = new Range(0, 64);
    public static final int MAX_SYSTEM_CHARS = 32_768;
    /** MeloTTS's own rate (StackFlow's mode files, docs/hardware.md F54). */
    public static final int DEFAULT_SAMPLE_RATE = 16_000;

    public VoiceParams {
        stop = stop == null ? List.of() : List.copyOf(stop);
        models = models == null ? Models.NONE : models;
    }

    /** The transcription, chat and speech models a turn names; each null for the gateway's choice. */
    public record Models(String transcription, String chat, String speech) {
        public static final Models NONE = new Models(null, null, null);
    }
}
