package dev.axfleet.gateway;

import com.hivemq.client.mqtt.MqttGlobalPublishFilter;
import com.hivemq.client.mqtt.datatypes.MqttQos;
import com.hivemq.client.mqtt.mqtt5.Mqtt5AsyncClient;
import com.hivemq.client.mqtt.mqtt5.message.publish.Mqtt5Publish;
import dev.axfleet.broker.BrokerAddress;
import dev.axfleet.broker.CardCodec;
import dev.axfleet.broker.JobResult;
import dev.axfleet.broker.MqttClients;
import dev.axfleet.broker.Reply;
import dev.axfleet.broker.Topics;
import dev.axfleet.broker.WireCodec;
import dev.axfleet.gateway.page.CardHistory;
import dev.axfleet.gateway.page.JobLog;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Watches the bus for the metrics, on a connection of its own (the job client's subscriptions and ordering stay
 * untouched): every job's final status, whoever sent it (a gateway or an MQTT device directly), and every result
 * on the reply and default result topics for its token counts and times. Results on a device's own topic outside
 * {@code axfleet/v1/} are not readable by the gateway (the ACL): such jobs are counted, their tokens are not.
 * The same messages feed the page's last jobs ({@link JobLog}), and the cards' retained health its chart
 * ({@link CardHistory}). At QoS 0: a lost message costs a sample, never a job.
 */
final class BusWatch implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(BusWatch.class);
    static final String RESULTS = Topics.ROOT + "/results/#";
    static final String REPLIES = Topics.ROOT + "/reply/#";

    private final Mqtt5AsyncClient client;
    private final Metrics metrics;
    private final JobLog jobs;
    private final CardHistory cards;

    BusWatch(BrokerAddress broker, String gatewayId, Metrics metrics, JobLog jobs, CardHistory cards) {
        this.metrics = metrics;
        this.jobs = jobs;
        this.cards = cards;
        this.client = MqttClients.builder(broker, "axfleet-gateway-" + gatewayId + "-metrics")
                .addConnectedListener(ctx -> subscribe())
                .buildAsync();
    }

    void start() {
        client.publishes(MqttGlobalPublishFilter.ALL, this::onPublish);
        client.connectWith().cleanStart(true).send();
    }

    private void subscribe() {
        client.subscribeWith()
                .addSubscription().topicFilter(Topics.statusAll()).qos(MqttQos.AT_MOST_ONCE).applySubscription()
                .addSubscription().topicFilter(REPLIES).qos(MqttQos.AT_MOST_ONCE).applySubscription()
                .addSubscription().topicFilter(RESULTS).qos(MqttQos.AT_MOST_ONCE).applySubscription()
                .addSubscription().topicFilter(Topics.cards()).qos(MqttQos.AT_MOST_ONCE).applySubscription()
                .send()
                .whenComplete((ack, e) -> {
                    if (e != null) {
                        log.warn("metrics: watching the bus failed: {}", e.toString());
                    } else if (ack.getReasonCodes().stream().anyMatch(c -> c.isError())) {
                        log.warn("metrics: the broker refused some of {}, {}, {}, {}: {} (is the gateway's ACL current?)",
                                Topics.statusAll(), REPLIES, RESULTS, Topics.cards(), ack.getReasonCodes());
                    }
                });
    }

    private void onPublish(Mqtt5Publish p) {
        try {
            String topic = p.getTopic().toString();
            if (topic.startsWith(Topics.ROOT + "/status/")) {
                dev.axfleet.broker.JobStatus status = WireCodec.decodeStatus(p.getPayloadAsBytes());
                metrics.status(status);
                jobs.status(status);
            } else if (Topics.isCard(topic)) {
                if (p.getPayloadAsBytes().length > 0) {
                    cards.record(CardCodec.decodeHealth(p.getPayloadAsBytes()));
                }
            } else {
                Reply r = WireCodec.decodeReply(p.getPayloadAsBytes());
                if (r instanceof JobResult result) {
                    metrics.result(result);
                    jobs.result(result);
                }
            }
        } catch (RuntimeException e) {
            // Not ours to judge: the job's own caller gets the error. A sample fewer.
            log.debug("metrics: skipped a message on {}: {}", p.getTopic(), e.toString());
        }
    }

    @Override
    public void close() {
        client.disconnect();
    }
}
