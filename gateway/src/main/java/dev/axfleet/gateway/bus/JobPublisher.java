package dev.axfleet.gateway.bus;

import com.hivemq.client.mqtt.mqtt5.message.publish.Mqtt5PublishResult;
import com.hivemq.client.mqtt.mqtt5.message.publish.puback.Mqtt5PubAckReasonCode;
import dev.axfleet.broker.ErrorCode;
import dev.axfleet.broker.Job;
import java.time.Clock;
import java.time.Instant;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Publishes jobs on the very topic a device would. A broker that says no one subscribes to the model's jobs (PUBACK
 * reason 16) has dropped the job, so it is published again until the broker grace is over, then its caller is
 * answered 503. Mosquitto 2.0.11 answers so after a restart until the workers have subscribed again (it restores
 * their sessions but not their shared subscriptions), and whenever no worker for the model has ever connected.
 */
final class JobPublisher {
    private static final Logger log = LoggerFactory.getLogger(JobPublisher.class);

    private final BusConnection bus;
    private final Submissions submissions;
    private final ScheduledExecutorService timer;
    private final Clock clock;

    JobPublisher(BusConnection bus, Submissions submissions, ScheduledExecutorService timer, Clock clock) {
        this.bus = bus;
        this.submissions = submissions;
        this.timer = timer;
        this.clock = clock;
    }

    void publish(Job job, Submission s, Instant retryUntil) {
        bus.publishJob(job).whenComplete((r, e) -> {
            if (e != null) {
                log.warn("job={} could not be published: {}", job.id(), e.toString());
                s.deliver(Submissions.gatewayFailure(s, ErrorCode.BROKER_UNAVAILABLE, "the broker did not accept the job"));
            } else if (r instanceof Mqtt5PublishResult.Mqtt5Qos1Result q
                    && q.getPubAck().getReasonCode() == Mqtt5PubAckReasonCode.NO_MATCHING_SUBSCRIBERS
                    && submissions.waits(job.id())) {
                if (clock.instant().isBefore(retryUntil)) {
                    try {
                        timer.schedule(() -> publish(job, s, retryUntil), 250, TimeUnit.MILLISECONDS);
                    } catch (RejectedExecutionException stopping) {
                        s.deliver(Submissions.gatewayFailure(s, ErrorCode.GATEWAY_STOPPING, Bus.STOPPING_MESSAGE));
                    }
                } else {
                    log.warn("job={} not queued: no worker subscribes to {} jobs", job.id(), job.model());
                    s.deliver(Submissions.gatewayFailure(s, ErrorCode.NO_WORKER,
                            "no worker takes jobs for this model right now (none is subscribed, e.g. just after a broker restart)"));
                }
            }
        });
    }
}
