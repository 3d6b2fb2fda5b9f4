package dev.axfleet.worker.transcribe;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/** The voice-activity detector: pauses cut, silence heard as none, speech with no pause cut to the window at its quietest. */
class VadTest {
    static final int RATE = 16_000;

    static float[] audio(double[] voiced) {
        int total = 0;
        for (double d : voiced) {
            total += (int) (d * RATE);
        }
        float[] s = new float[total];
        int at = 0;
        boolean on = false;
        for (double d : voiced) {
            int n = (int) (d * RATE);
            for (int i = 0; i < n; i++) {
                s[at + i] = on ? (float) (0.3 * Math.sin(2 * Math.PI * 200 * (at + i) / RATE)) : (float) (1e-4 * Math.sin(at + i));
            }
            at += n;
            on = !on;
        }
        return s;
    }

    @Test
    void pausesCutAndSilenceIsNone() {
        List<Vad.Span> spans = Vad.speech(audio(new double[] {0.5, 1.0, 0.4, 2.0, 0.2, 0.6, 0.5}), RATE, 30);
        assertEquals(2, spans.size(), "a 0.4 s pause cuts, a 0.2 s one does not: " + spans);
        assertEquals(0.5 - 0.15, spans.get(0).start() / (double) RATE, 0.04);
        assertEquals(0, Vad.speech(new float[RATE * 3], RATE, 30).size());
    }

    @Test
    void speechWithNoPauseIsCutToTheWindow() {
        float[] s = audio(new double[] {0, 70});
        List<Vad.Span> spans = Vad.speech(s, RATE, 30);
        assertTrue(spans.size() >= 3, spans.toString());
        int end = 0;
        for (Vad.Span span : spans) {
            assertTrue(span.length() <= 30 * RATE, "within the window: " + span);
            assertEquals(end, span.start(), "no audio lost between pieces");
            end = span.end();
        }
        assertEquals(s.length, end);
    }
}
