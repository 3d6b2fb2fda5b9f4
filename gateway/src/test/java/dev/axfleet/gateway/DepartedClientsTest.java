package dev.axfleet.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.hivemq.client.mqtt.mqtt5.message.publish.Mqtt5Publish;
import dev.axfleet.broker.chat.ChatOutput;
import dev.axfleet.broker.chat.FinishReason;
import dev.axfleet.broker.Job;
import dev.axfleet.broker.JobResult;
import dev.axfleet.broker.Topics;
import dev.axfleet.broker.Usage;
import dev.axfleet.broker.WireCodec;
import dev.axfleet.broker.testing.TestBroker;
import dev.axfleet.broker.testing.TestMqttClient;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Clients that stop waiting: a job whose every client has closed its connection is dropped (cancelled on the
 * bus, so a worker drops it before it runs) unless an identical request takes it over within the grace, and
 * a client that is still connected is never taken for gone. The "worker" is a plain MQTT client answering
 * as a worker does; the clients are raw sockets, so a test closes a connection exactly when it means to.
 */
class DepartedClientsTest {
    static final String MODEL = "qwen3-1.7b";
    static final long GRACE_MS = SameRequests.ABANDON_GRACE.toMillis();

    @TempDir
    static Path dir;
    static TestBroker broker;
    static Gateway gateway;
    static TestMqttClient worker;
    BlockingQueue<Mqtt5Publish> jobs;
    BlockingQueue<Mqtt5Publish> cancels;

    @BeforeAll
    static void start() {
        broker = TestBroker.embedded(dir);
        gateway = TestGateways.start(broker, Map.of("gateway.models", MODEL, "gateway.request_timeout", "60s"));
        worker = TestMqttClient.connect(broker.address(), "fake-worker");
    }

    @AfterAll
    static void stop() {
        worker.close();
        gateway.close();
        broker.close();
    }

    @BeforeEach
    void listen() {
        jobs = worker.subscribe(Topics.jobs(MODEL));
        cancels = worker.subscribe(Topics.cancel(MODEL));
        jobs.clear();
        cancels.clear();
    }

    static String chat(String text) {
        String body = "{\"model\":\"" + MODEL + "\",\"messages\":[{\"role\":\"user\",\"content\":\"" + text + "\"}]}";
        return "POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: "
                + body.getBytes(StandardCharsets.UTF_8).length + "\r\n\r\n" + body;
    }

    static Socket send(String request) throws IOException {
        Socket s = new Socket("127.0.0.1", gateway.port());
        s.setSoTimeout(20_000);
        s.getOutputStream().write(request.getBytes(StandardCharsets.UTF_8));
        s.getOutputStream().flush();
        return s;
    }

    Job nextJob() throws Exception {
        Mqtt5Publish p = jobs.poll(10, TimeUnit.SECONDS);
        assertNotNull(p, "the request became a job");
        return TestMqttClient.job(p);
    }

    static void answer(Job job, String text) {
        JobResult r = JobResult.done(job, new ChatOutput(text, FinishReason.STOP, new Usage(3, 2, false), 5L, 0, null), 0L, 5, "fake-worker");
        worker.publish(job.replyTo(), new String(WireCodec.encodeResult(r), StandardCharsets.UTF_8));
    }

    /** The id of the next cancel within {@code ms}, or null. */
    String cancelWithin(long ms) throws Exception {
        Mqtt5Publish c = cancels.poll(ms, TimeUnit.MILLISECONDS);
        return c == null ? null : WireCodec.decodeCancel(c.getPayloadAsBytes()).orElseThrow();
    }

    /** Reads from {@code in} until {@code marker} has been seen {@code times} times (bounded by the socket timeout). */
    static String readUntil(InputStream in, String marker, int times) throws IOException {
        ByteArrayOutputStream got = new ByteArrayOutputStream();
        byte[] buf = new byte[4096];
        while (count(got.toString(StandardCharsets.UTF_8), marker) < times) {
            int n = in.read(buf);
            if (n < 0) {
                break;
            }
            got.write(buf, 0, n);
        }
        return got.toString(StandardCharsets.UTF_8);
    }

    static int count(String s, String marker) {
        int n = 0;
        for (int i = s.indexOf(marker); i >= 0; i = s.indexOf(marker, i + 1)) {
            n++;
        }
        return n;
    }

    @Test
    void aJobWhoseOnlyClientHasGoneIsCancelledAfterTheGrace() throws Exception {
        Socket client = send(chat("anyone there?"));
        Job job = nextJob();
        long closed = System.nanoTime();
        client.close();
        String cancelled = cancelWithin(GRACE_MS + 10_000);
        long ms = (System.nanoTime() - closed) / 1_000_000;
        assertEquals(job.id(), cancelled, "the job of the departed client is cancelled on the bus");
        assertTrue(ms >= GRACE_MS, "kept for a retry for the grace first, cancelled after " + ms + " ms");
    }

    @Test
    void aConnectedClientIsNeverTakenForGoneAndItsPipelinedRequestIsAnsweredAfter() throws Exception {
        try (Socket client = send(chat("patience") + "GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")) {
            Job job = nextJob();
            assertNull(cancelWithin(GRACE_MS + 2_000), "a client that waits keeps its job");
            answer(job, "worth the wait");
            String replies = readUntil(client.getInputStream(), "\"broker\"", 1);
            assertTrue(replies.startsWith("HTTP/1.1 200"), replies);
            assertEquals(2, count(replies, "HTTP/1.1 "), "the pipelined /health is answered on the same connection: " + replies);
            assertTrue(replies.indexOf("worth the wait") < replies.lastIndexOf("HTTP/1.1 "), "the chat answer first: " + replies);
        }
    }

    @Test
    void aRetryWithinTheGraceTakesOverTheJobOfTheClientThatLeft() throws Exception {
        Socket first = send(chat("the kiosk asks"));
        Job job = nextJob();
        first.close();
        Thread.sleep(1_000);
        try (Socket retry = send(chat("the kiosk asks"))) {
            assertNull(jobs.poll(GRACE_MS + 1_000, TimeUnit.MILLISECONDS), "the retry queued no second job");
            assertNull(cancelWithin(100), "the job was kept for the retry");
            answer(job, "one picture for both");
            String reply = readUntil(retry.getInputStream(), "one picture for both", 1);
            assertTrue(reply.startsWith("HTTP/1.1 200") && reply.contains("one picture for both"), reply);
        }
    }

    @Test
    void aJobSharedByIdenticalRequestsIsDroppedOnlyWhenTheLastClientLeaves() throws Exception {
        Socket first = send(chat("two of us"));
        Job job = nextJob();
        Socket second = send(chat("two of us"));
        first.close();
        assertNull(cancelWithin(GRACE_MS + 2_000), "one client still waits");
        second.close();
        assertEquals(job.id(), cancelWithin(GRACE_MS + 10_000), "the last client left: the job is dropped");
        assertNull(jobs.poll(100, TimeUnit.MILLISECONDS), "and it ran as one job throughout");
    }

    @Test
    void anAnswerThatFoundNobodyWaitingAnswersARetryWithinTheGraceButAnAnswerTakenIsNeverGivenTwice() throws Exception {
        Socket first = send(chat("answered into the void"));
        Job job = nextJob();
        first.close();
        Thread.sleep(1_000);
        answer(job, "kept for the retry");
        Thread.sleep(500);
        try (Socket retry = send(chat("answered into the void"))) {
            String reply = readUntil(retry.getInputStream(), "kept for the retry", 1);
            assertTrue(reply.startsWith("HTTP/1.1 200") && reply.contains("kept for the retry"), reply);
        }
        assertNull(jobs.poll(200, TimeUnit.MILLISECONDS), "the retry queued no job");
        try (Socket again = send(chat("answered into the void"))) {
            Job second = nextJob();
            assertTrue(!second.id().equals(job.id()), "an answer that reached its client is not an answer for the next request alike");
            answer(second, "a new one");
            assertTrue(readUntil(again.getInputStream(), "a new one", 1).contains("a new one"));
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"/api/chat", "/v1/chat/completions"})
    void aStreamWhoseClientLeavesWhileItsJobWaitsIsCancelledAtOnce(String route) throws Exception {
        String body = "{\"model\":\"" + MODEL + "\",\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"stream to nobody\"}]}";
        Socket client = send("POST " + route + " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: "
                + body.length() + "\r\n\r\n" + body);
        Job job = nextJob();
        client.close();
        assertEquals(job.id(), cancelWithin(5_000), "nothing is shared with a stream: no grace, cancelled within a probe or two");
    }
}
