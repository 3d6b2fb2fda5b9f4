package dev.axfleet.worker;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.axfleet.broker.BrokerAddress;
import dev.axfleet.broker.ErrorCode;
import dev.axfleet.broker.JobResult;
import dev.axfleet.broker.Outcome;
import dev.axfleet.broker.Task;
import dev.axfleet.broker.embed.EmbedParams;
import dev.axfleet.broker.embed.Embeddings;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * An embedding worker over MQTT, its runtime the emulated {@code axllm serve} in embedding mode: a device's embed
 * job gets one unit vector per input in the model's dimensions, cut to {@code dimensions} when asked, with estimated
 * token counts (the runtime reports zeros), in floats or base64; wrong jobs are answered with the field at fault.
 */
class EmbedWorkerTest extends WorkerHarness {
    static final String MODEL = "qwen3-embedding-0.6b";

    @Override
    WorkerConfig config(BrokerAddress broker, Path dir) {
        return EmulatedWorkers.axllmEmbeddings(broker, MODEL, dir, Map.of("AXFLEET_EMULATOR_TIME_SCALE", "0.01"));
    }

    private Embeddings embed(String id, String params) throws InterruptedException {
        JobResult r = ask(id, "embed", params, false).result();
        assertEquals(Outcome.DONE, r.outcome(), String.valueOf(r.error()));
        assertEquals(Task.EMBED, r.task());
        return r.output(Embeddings.class);
    }

    private static double norm(float[] v) {
        double s = 0;
        for (float x : v) {
            s += x * x;
        }
        return Math.sqrt(s);
    }

    @Test
    void aDeviceGetsOneUnitVectorPerInputInTheModelsDimensions() throws Exception {
        Embeddings e = embed("e1", "{\"input\":[\"a red fox\",\"a grey wolf\",\"a red fox\"]}");
        assertEquals(3, e.vectors().size());
        assertEquals(1024, e.dimensions(), "Qwen3-Embedding-0.6B's tokens_embed_size");
        e.vectors().forEach(v -> assertEquals(1.0, norm(v), 1e-5));
        assertArrayEquals(e.vectors().get(0), e.vectors().get(2), "the same text, the same vector");
        assertFalse(java.util.Arrays.equals(e.vectors().get(0), e.vectors().get(1)));
        assertTrue(e.usage().estimated(), "axllm serve reports usage 0: the worker estimates");
        assertTrue(e.usage().promptTokens() > 0);
        assertEquals(EmbedParams.Format.FLOAT, e.format());
    }

    @Test
    void dimensionsCutAndNormaliseAndBase64CarriesTheSameValues() throws Exception {
        float[] full = embed("d1", "{\"input\":\"a red fox\"}").vectors().get(0);
        Embeddings cut = embed("d2", "{\"input\":\"a red fox\",\"dimensions\":64,\"encoding_format\":\"base64\"}");
        assertEquals(EmbedParams.Format.BASE64, cut.format());
        float[] v = cut.vectors().get(0);
        assertEquals(64, v.length);
        assertEquals(1.0, norm(v), 1e-5);
        double scale = norm(java.util.Arrays.copyOf(full, 64));
        for (int i = 0; i < 64; i++) {
            assertEquals(full[i] / scale, v[i], 1e-6, "the first 64 values, normalised again");
        }
    }

    @Test
    void wrongEmbedJobsAreAnsweredWithTheFieldAtFault() throws Exception {
        JobResult tooMany = ask("w1", "embed", "{\"input\":\"x\",\"dimensions\":4096}", false).result();
        assertEquals(ErrorCode.INVALID_JOB, tooMany.error().code());
        assertEquals("params.dimensions", tooMany.error().field());
        JobResult empty = ask("w2", "embed", "{\"input\":[]}", false).result();
        assertEquals("params.input", empty.error().field());
        JobResult chat = ask("w3", "chat", "{\"prompt\":\"hello\"}", false).result();
        assertEquals("task", chat.error().field());
        assertTrue(chat.error().message().contains("it takes embed"), chat.error().message());
        String longText = "word ".repeat(4000);
        JobResult refused = ask("w4", "embed", "{\"input\":\"" + longText + "\",\"truncate\":false}", false).result();
        assertEquals(ErrorCode.CONTEXT_LENGTH_EXCEEDED, refused.error().code());
        Embeddings cut = embed("w5", "{\"input\":\"" + longText + "\"}");
        assertEquals(1, cut.vectors().size(), "truncate (the default) cuts the input to the context instead");
    }
}
