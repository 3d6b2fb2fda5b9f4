package dev.axfleet.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import com.hivemq.client.mqtt.mqtt5.message.publish.Mqtt5Publish;
import dev.axfleet.broker.Job;
import dev.axfleet.broker.ErrorCode;
import dev.axfleet.broker.JobError;
import dev.axfleet.broker.JobResult;
import dev.axfleet.broker.JobState;
import dev.axfleet.broker.JobStatus;
import dev.axfleet.broker.Outcome;
import dev.axfleet.broker.Topics;
import dev.axfleet.broker.WireCodec;
import dev.axfleet.broker.testing.TestBroker;
import dev.axfleet.broker.testing.TestMqttClient;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * AUTOMATIC1111's /sdapi/v1/progress follows a running image job's steps from its status topic, and
 * /sdapi/v1/interrupt cancels it on the bus. The "worker" is a plain MQTT client doing what an image worker does.
 */
class ImageProgressTest {
    static final String MODEL = "sd15-lcm";
    final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    @Test
    void progressShowsTheStepsAndInterruptCancelsTheJob(@TempDir Path dir) throws Exception {
        try (TestBroker broker = TestBroker.embedded(dir);
             TestMqttClient worker = TestMqttClient.connect(broker.address(), "fake-image-worker")) {
            Gateway gateway = TestGateways.start(broker, Map.of("gateway.models", MODEL, "gateway.image_model", MODEL));
            try {
                String base = "http://127.0.0.1:" + gateway.port();
                BlockingQueue<Mqtt5Publish> jobs = worker.subscribe(Topics.jobsShared(MODEL));
                BlockingQueue<Mqtt5Publish> cancels = worker.subscribe(Topics.cancel(MODEL));
                CompletableFuture<HttpResponse<String>> caller = http.sendAsync(HttpRequest.newBuilder(URI.create(base + "/sdapi/v1/txt2img"))
                        .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString("{\"prompt\":\"a slow fox\"}")).build(),
                        HttpResponse.BodyHandlers.ofString());
                Mqtt5Publish p = jobs.poll(10, TimeUnit.SECONDS);
                assertNotNull(p, "the image job reached the bus");
                Job job = TestMqttClient.job(p);
                worker.publish(Topics.status(MODEL, job.id()), new String(WireCodec.encodeStatus(new JobStatus(job.id(), MODEL, JobState.RUNNING,
                        "fake-image-worker", Instant.now(), 1, 4)), StandardCharsets.UTF_8));
                JsonObject progress = null;
                for (int i = 0; i < 100; i++) {
                    progress = JsonParser.parseString(http.send(HttpRequest.newBuilder(URI.create(base + "/sdapi/v1/progress")).build(),
                            HttpResponse.BodyHandlers.ofString()).body()).getAsJsonObject();
                    if (progress.get("progress").getAsDouble() > 0) {
                        break;
                    }
                    Thread.sleep(50);
                }
                assertEquals(0.25, progress.get("progress").getAsDouble(), 1e-9, progress.toString());
                assertEquals(1, progress.getAsJsonObject("state").get("sampling_step").getAsInt());
                assertEquals(4, progress.getAsJsonObject("state").get("sampling_steps").getAsInt());
                assertEquals(1, progress.getAsJsonObject("state").get("job_count").getAsInt());

                assertEquals(200, http.send(HttpRequest.newBuilder(URI.create(base + "/sdapi/v1/interrupt")).POST(HttpRequest.BodyPublishers.noBody())
                        .build(), HttpResponse.BodyHandlers.ofString()).statusCode());
                Mqtt5Publish cancel = cancels.poll(10, TimeUnit.SECONDS);
                assertNotNull(cancel, "interrupt cancels the running image job on the bus");
                assertEquals(job.id(), WireCodec.decodeCancel(cancel.getPayloadAsBytes()).orElseThrow());
                worker.publish(job.replyTo(), new String(WireCodec.encodeResult(JobResult.failed(job, Outcome.CANCELLED,
                        JobError.of(ErrorCode.CANCELLED, "cancelled while running: cancelled after 1 of 4 steps"), 0L, 5, "fake-image-worker")),
                        StandardCharsets.UTF_8));
                HttpResponse<String> r = caller.get(10, TimeUnit.SECONDS);
                assertTrue(r.statusCode() >= 400 && r.statusCode() < 500, r.statusCode() + " " + r.body());
                assertTrue(JsonParser.parseString(r.body()).getAsJsonObject().get("detail").getAsString().contains("cancelled"), r.body());
            } finally {
                gateway.close();
            }
        }
    }
}
