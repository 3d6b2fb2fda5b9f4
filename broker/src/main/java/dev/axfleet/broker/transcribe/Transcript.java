package dev.axfleet.broker.transcribe;

import dev.axfleet.broker.Kind;
import dev.axfleet.broker.TaskOutput;
import java.util.List;

/**
 * The text of a transcription, with the stretches of speech it came from. The runtime gives no timestamps (asr_server's
 * verbose_json "不包含 segments、时间戳"): each segment is a stretch of speech the worker cut at silences and sent alone,
 * so its times are the cut's, accurate to the voice-activity detector's 30 ms frames.
 *
 * @param language the language the runtime was asked for (its default when the job named none)
 * @param duration the audio's length in seconds
 * @param hostMs   the worker's own time on it (reading, resampling, cutting, writing each piece)
 * @param runtimeMs the time spent waiting for the runtime (the card's share, and the HTTP hop to it)
 */
public record Transcript(String text, String language, double duration, List<Segment> segments, long hostMs, long runtimeMs)
        implements TaskOutput {
    public Transcript {
        segments = List.copyOf(segments);
    }

    /** One stretch of speech: seconds from the start of the audio, and what the runtime heard in it. */
    public record Segment(double start, double end, String text) {
    }

    @Override
    public Kind kind() {
        return Kind.TRANSCRIPTION;
    }

    @Override
    public String logLine() {
        return String.format(java.util.Locale.ROOT, "audio_s=%.2f segments=%d chars=%d language=%s host_ms=%d runtime_ms=%d", duration,
                segments.size(), text.length(), language, hostMs, runtimeMs);
    }
}
