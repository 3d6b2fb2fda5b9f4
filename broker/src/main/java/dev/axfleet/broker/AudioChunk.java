package dev.axfleet.broker;

/**
 * A piece of a streamed audio answer (a speech job), published in order before the result: {@code seq} counts from 0 and
 * the last piece says so, so a microcontroller that cannot receive the result (larger than its buffer) still knows the
 * audio has ended. Its size is bounded by the job ({@code chunk_bytes}), envelope included.
 */
public record AudioChunk(String id, int seq, byte[] audio, boolean last) implements Reply {

    /** How many audio bytes fit a message of at most {@code payloadBytes} for job {@code id} at {@code seq} (0 when none do). */
    public static int capacity(String id, int seq, boolean last, int payloadBytes) {
        int envelope = WireCodec.encodeAudio(new AudioChunk(id, seq, new byte[0], last)).length;
        int chars = payloadBytes - envelope;
        return chars < 4 ? 0 : chars / 4 * 3;
    }

    @Override
    public String toString() {
        return "AudioChunk[" + id + " #" + seq + " " + audio.length + " bytes" + (last ? " last" : "") + "]";
    }
}
