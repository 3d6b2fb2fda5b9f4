package dev.axfleet.worker.embed;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** Shortening a vector to OpenAI's {@code dimensions}: the first values, unit length again. */
class EmbedRunnerTest {
    @Test
    void aShortenedVectorKeepsItsDirectionAndIsUnitLength() {
        float[] v = {0.6f, 0.0f, 0.8f, 0.0f};
        float[] two = EmbedRunner.shorten(v, 2);
        assertEquals(1.0f, two[0], 1e-6);
        assertEquals(0.0f, two[1], 1e-6);
        float[] three = EmbedRunner.shorten(new float[] {3, 4, 12, 1}, 3);
        assertEquals(3 / 13f, three[0], 1e-6);
        assertEquals(4 / 13f, three[1], 1e-6);
        assertEquals(12 / 13f, three[2], 1e-6);
        float[] zero = EmbedRunner.shorten(new float[] {0, 0, 1}, 2);
        assertEquals(0f, zero[0], "a zero prefix stays zero instead of dividing by zero");
    }
}
