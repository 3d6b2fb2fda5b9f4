package dev.axfleet.worker;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.hivemq.client.mqtt.mqtt5.message.publish.Mqtt5Publish;
import dev.axfleet.broker.AudioChunk;
import dev.axfleet.broker.BrokerAddress;
import dev.axfleet.broker.JobResult;
import dev.axfleet.broker.Outcome;
import dev.axfleet.broker.audio.Wav;
import dev.axfleet.broker.speech.Speech;
import dev.axfleet.broker.testing.TestMqttClient;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * A speech worker over MQTT, its runtime the emulated StackFlow melotts unit behind llm-sys: whole WAV in the result,
 * or ordered audio messages that fit a microcontroller's 256-byte buffer, the last one marked; OpenAI's voice names and
 * the model's own are taken, others refused listing them; braces in the text survive llm-sys's framing.
 */
class SpeechWorkerTest extends WorkerHarness {
    static final String MODEL = "melotts-en-default";

    @Override
    WorkerConfig config(BrokerAddress broker, Path dir) {
        return EmulatedWorkers.melotts(broker, MODEL, "melotts-en-default-axcl", dir, EmulatedWorkers.FAST);
    }

    @Test
    void aWholeWavComesInTheResultAtTheRateAsked() throws Exception {
        JobResult r = ask("s1", "speak", "{\"input\":\"Hello visitors. Welcome {to} the den!\",\"voice\":\"alloy\",\"sample_rate\":22050}", false)
                .result();
        assertEquals(Outcome.DONE, r.outcome(), String.valueOf(r.error()));
        Speech s = r.output(Speech.class);
        assertEquals("en-default", s.voice(), "an OpenAI name maps onto the model's one voice");
        Wav.Info info = Wav.info(s.audio());
        assertEquals(22_050, info.sampleRate());
        assertEquals(1, info.channels());
        assertEquals(16, info.bitsPerSample());
        assertEquals(s.durationMs(), Math.round(info.seconds() * 1000), 2);
        assertTrue(s.durationMs() > 1500, "two phrases of tone bursts: " + s.durationMs());
    }

    @Test
    void chunksFitA256ByteBufferAndArriveInOrderWithTheLastMarked() throws Exception {
        String topic = "devices/lamp1/say";
        int chunkBytes = 256 - 7 - topic.length();
        java.util.concurrent.BlockingQueue<Mqtt5Publish> inbox = device.subscribe(topic);
        device.publish(dev.axfleet.broker.Topics.jobs(MODEL), "{\"id\":\"b1\",\"task\":\"speak\",\"reply_to\":\"" + topic
                + "\",\"stream\":true,\"params\":{\"input\":\"Hi.\",\"response_format\":\"pcm\",\"sample_rate\":8000,\"chunk_bytes\":"
                + chunkBytes + "}}");
        TestMqttClient.Answer a = TestMqttClient.await(inbox, WAIT);
        assertEquals(Outcome.DONE, a.result().outcome(), String.valueOf(a.result().error()));
        assertTrue(a.audio().size() > 10, "many small messages: " + a.audio().size());
        for (int i = 0; i < a.audio().size(); i++) {
            AudioChunk c = a.audio().get(i);
            assertEquals(i, c.seq());
            assertEquals(i == a.audio().size() - 1, c.last());
        }
        a.raw().stream().limit(a.audio().size()).forEach(p -> assertTrue(p.getPayloadAsBytes().length <= chunkBytes,
                "each message fits: " + p.getPayloadAsBytes().length));
        Speech s = a.result().output(Speech.class);
        assertNull(s.audio(), "the audio went in the messages");
        assertEquals(a.audio().size(), s.chunks());
        assertEquals(s.bytes(), a.streamedAudio().length);
        assertEquals(8000, s.sampleRate());
        JobResult whole = ask("b2", "speak", "{\"input\":\"Hi.\",\"response_format\":\"pcm\",\"sample_rate\":8000}", false).result();
        assertArrayEquals(whole.output(Speech.class).audio(), a.streamedAudio(), "the same text gives the same audio, streamed or whole");
    }

    @Test
    void aJobCancelledMidSpeechEndsAndTheNextIsAnsweredWholeDespiteTheUnitFinishingTheFirst() throws Exception {
        String reply = dev.axfleet.broker.Topics.reply("device", "c1");
        java.util.concurrent.BlockingQueue<Mqtt5Publish> inbox = device.subscribe(reply);
        device.publish(dev.axfleet.broker.Topics.jobs(MODEL), "{\"id\":\"c1\",\"task\":\"speak\",\"reply_to\":\"" + reply
                + "\",\"stream\":true,\"params\":{\"input\":\"" + "One more phrase, and another. ".repeat(60) + "\",\"response_format\":\"pcm\"}}");
        Mqtt5Publish first = inbox.poll(30, java.util.concurrent.TimeUnit.SECONDS);
        assertNotNull(first, "the first phrase streams");
        device.publish(dev.axfleet.broker.Topics.cancel(MODEL), new String(dev.axfleet.broker.WireCodec.encodeCancel("c1")));
        TestMqttClient.Answer cancelled = TestMqttClient.await(inbox, WAIT);
        assertEquals(Outcome.CANCELLED, cancelled.result().outcome());
        JobResult next = ask("c2", "speak", "{\"input\":\"Still here.\"}", false).result();
        assertEquals(Outcome.DONE, next.outcome(), String.valueOf(next.error()));
        assertTrue(next.output(Speech.class).durationMs() > 0);
    }

    @Test
    void unknownVoicesAreRefusedListingTheModelsAndOpenAisNames() throws Exception {
        JobResult r = ask("v1", "speak", "{\"input\":\"Hi.\",\"voice\":\"darth\"}", false).result();
        assertEquals("params.voice", r.error().field());
        assertTrue(r.error().message().contains("en-default") && r.error().message().contains("shimmer"), r.error().message());
        JobResult own = ask("v2", "speak", "{\"input\":\"Hi.\",\"voice\":\"en-default\",\"speed\":1.5}", false).result();
        assertEquals(Outcome.DONE, own.outcome(), String.valueOf(own.error()));
        JobResult normal = ask("v3", "speak", "{\"input\":\"Hi.\"}", false).result();
        assertTrue(own.output(Speech.class).durationMs() < normal.output(Speech.class).durationMs(),
                "faster speech is shorter: the unit set up again at 1.5 times its speed");
        assertNotNull(normal.output(Speech.class).audio());
    }
}
