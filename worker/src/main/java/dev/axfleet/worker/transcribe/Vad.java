package dev.axfleet.worker.transcribe;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * An energy-based voice-activity detector that cuts long audio at silences into pieces no longer than the runtime's
 * window. Frames of 30 ms are voiced when their level is more than {@value #ABOVE_FLOOR_DB} dB over the audio's noise
 * floor (its 10th-percentile frame; at most {@value #BELOW_PEAK_DB} dB under its loudest, so audio with no pause is all
 * speech) and above {@value #ABSOLUTE_FLOOR_DBFS} dBFS; a stretch of speech ends after
 * {@value #END_SILENCE_MS} ms of unvoiced frames, keeps {@value #PAD_MS} ms of margin each side (never past the middle of
 * the gap to the next), and one longer than the window is cut at its quietest frame in the window's second half. No
 * model is involved (Silero VAD, which sherpa-onnx's AXCL build pairs with SenseVoice, ends speech after 100 ms of silence by
 * default; a quarter second keeps a stop consonant's hush inside its word): the runtime's own slicing (SenseVoice) or its 30 s window (Whisper, whose mel is cut to 3000 frames:
 * ax_asr_api cpp/src/asr/whisper.cpp WHISPER_FRAME_NUM) decides nothing about where words are.
 */
final class Vad {
    static final int FRAME_MS = 30;
    static final double ABOVE_FLOOR_DB = 12;
    static final double ABSOLUTE_FLOOR_DBFS = -50;
    static final double BELOW_PEAK_DB = 20;
    static final int END_SILENCE_MS = 250;
    static final int PAD_MS = 150;
    static final int MIN_SPEECH_MS = 90;

    private Vad() {
    }

    /** A stretch of the audio, in samples: {@code [start, end)}. */
    record Span(int start, int end) {
        int length() {
            return end - start;
        }
    }

    /** The stretches of speech in {@code samples} at {@code rate}, each at most {@code windowSeconds} long, in order. */
    static List<Span> speech(float[] samples, int rate, double windowSeconds) {
        int frame = rate * FRAME_MS / 1000;
        int frames = samples.length / frame;
        if (frames == 0) {
            return List.of();
        }
        double[] db = new double[frames];
        for (int f = 0; f < frames; f++) {
            double sum = 0;
            for (int i = f * frame; i < (f + 1) * frame; i++) {
                sum += (double) samples[i] * samples[i];
            }
            db[f] = 10 * Math.log10(sum / frame + 1e-12);
        }
        double[] sorted = db.clone();
        Arrays.sort(sorted);
        double floor = sorted[frames / 10];
        double peak = sorted[frames - 1];
        // Audio with no quiet stretch (a floor near its peak) is all speech, not all silence.
        double threshold = Math.max(ABSOLUTE_FLOOR_DBFS, Math.min(floor + ABOVE_FLOOR_DB, peak - BELOW_PEAK_DB));
        int endSilence = END_SILENCE_MS / FRAME_MS;
        int minSpeech = Math.max(1, MIN_SPEECH_MS / FRAME_MS);
        List<int[]> runs = new ArrayList<>();
        int start = -1;
        int lastVoiced = -1;
        for (int f = 0; f < frames; f++) {
            if (db[f] > threshold) {
                if (start < 0) {
                    start = f;
                }
                lastVoiced = f;
            } else if (start >= 0 && f - lastVoiced >= endSilence) {
                runs.add(new int[] {start, lastVoiced + 1});
                start = -1;
            }
        }
        if (start >= 0) {
            runs.add(new int[] {start, lastVoiced + 1});
        }
        runs.removeIf(r -> r[1] - r[0] < minSpeech);
        int pad = PAD_MS / FRAME_MS;
        List<Span> out = new ArrayList<>();
        int window = (int) Math.floor(windowSeconds * 1000 / FRAME_MS);
        for (int i = 0; i < runs.size(); i++) {
            int[] r = runs.get(i);
            int from = i == 0 ? Math.max(0, r[0] - pad) : Math.max(r[0] - pad, (runs.get(i - 1)[1] + r[0] + 1) / 2);
            int to = i == runs.size() - 1 ? Math.min(frames, r[1] + pad) : Math.min(r[1] + pad, (r[1] + runs.get(i + 1)[0]) / 2);
            while (to - from > window) {
                int cut = quietest(db, from + window / 2, from + window);
                out.add(new Span(from * frame, cut * frame));
                from = cut;
            }
            int end = to == frames ? samples.length : to * frame;
            out.add(new Span(from * frame, end));
        }
        return out;
    }

    private static int quietest(double[] db, int from, int to) {
        int best = to - 1;
        for (int f = to - 1; f >= from; f--) {
            if (db[f] < db[best]) {
                best = f;
            }
        }
        return Math.max(from + 1, best);
    }
}
