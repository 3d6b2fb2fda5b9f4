package dev.axfleet.monitor;

import com.hivemq.client.mqtt.MqttGlobalPublishFilter;
import com.hivemq.client.mqtt.datatypes.MqttQos;
import com.hivemq.client.mqtt.mqtt5.Mqtt5AsyncClient;
import com.hivemq.client.mqtt.mqtt5.message.publish.Mqtt5Publish;
import dev.axfleet.broker.CardCodec;
import dev.axfleet.broker.CardEvent;
import dev.axfleet.broker.CardHealth;
import dev.axfleet.broker.CardRef;
import dev.axfleet.broker.Command;
import dev.axfleet.broker.MqttClients;
import dev.axfleet.broker.Topics;
import dev.axfleet.broker.WireCodec;
import dev.axfleet.broker.WorkerState;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.BiConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The monitor's MQTT connection: retained card health (the first card's "monitor offline" as last will),
 * recovery events, restart requests to workers, the workers' retained states, and reset requests from the
 * control topic of this host's cards.
 */
final class MonitorBus implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(MonitorBus.class);
    private static final Logger events = LoggerFactory.getLogger("events");

    private final MonitorConfig config;
    private final Clock clock;
    private final Mqtt5AsyncClient client;
    private final Map<String, WorkerState> workers = new ConcurrentHashMap<>();
    private final BiConsumer<Integer, Command> onCommand;

    MonitorBus(MonitorConfig config, Clock clock, BiConsumer<Integer, Command> onCommand) {
        this.config = config;
        this.clock = clock;
        this.onCommand = onCommand;
        this.client = MqttClients.builder(config.broker(), "axfleet-monitor-" + config.host())
                .addConnectedListener(ctx -> subscribe())
                .buildAsync();
    }

    void connect() {
        client.publishes(MqttGlobalPublishFilter.ALL, this::onMessage);
        CardRef first = new CardRef(config.host(), config.cards().get(0));
        client.connectWith().cleanStart(true)
                .willPublish().topic(Topics.card(first)).qos(MqttQos.AT_LEAST_ONCE).retain(true).payload(CardCodec.unwatched(first))
                .applyWillPublish()
                .send()
                .whenComplete((a, e) -> {
                    if (e != null) {
                        log.warn("broker {} not reachable yet ({}); retrying in the background", config.broker(), e.getMessage());
                    }
                });
    }

    private void subscribe() {
        log.info("connected to {}", config.broker());
        client.subscribeWith()
                .addSubscription().topicFilter(Topics.workerStates()).qos(MqttQos.AT_LEAST_ONCE).applySubscription()
                .addSubscription().topicFilter(Topics.cardControls(config.host())).qos(MqttQos.AT_LEAST_ONCE).applySubscription()
                .send();
    }

    private void onMessage(Mqtt5Publish p) {
        String topic = p.getTopic().toString();
        byte[] payload = p.getPayloadAsBytes();
        if (Topics.isWorkerState(topic)) {
            if (payload.length == 0) {
                workers.remove(topic);
                return;
            }
            try {
                workers.put(topic, WireCodec.decodeWorkerState(payload));
            } catch (RuntimeException e) {
                log.debug("unreadable worker state on {}: {}", topic, e.toString());
            }
            return;
        }
        Topics.cardOfTopic(topic).filter(c -> c.host().equals(config.host()) && config.cards().contains(c.index()))
                .ifPresent(card -> CardCodec.decodeCommand(payload).ifPresentOrElse(
                        c -> onCommand.accept(card.index(), c),
                        () -> log.warn("ignored an unreadable control message on {}", topic)));
    }

    void health(CardHealth h) {
        client.publishWith().topic(Topics.card(h.card())).qos(MqttQos.AT_LEAST_ONCE).retain(true).payload(CardCodec.encodeHealth(h))
                .send();
    }

    /** Publishes one recovery step and logs it: the event log is the ladder's record. */
    void event(CardRef card, String step, String result, String detail) {
        events.info("card={} step={} result={}{}", card, step, result, detail == null ? "" : " detail=\"" + detail + "\"");
        client.publishWith().topic(Topics.cardEvents(card)).qos(MqttQos.AT_LEAST_ONCE)
                .payload(CardCodec.encodeEvent(new CardEvent(card, step, result, detail, clock.instant()))).send();
    }

    void restartRuntime(WorkerState w, String reason) {
        client.publishWith().topic(Topics.workerControl(w.model(), w.worker())).qos(MqttQos.AT_LEAST_ONCE)
                .payload(CardCodec.encodeCommand(new Command(Command.RESTART_RUNTIME, reason, "monitor", clock.instant()))).send();
    }

    /** The live workers (not offline) whose runtime runs on {@code card}. */
    List<WorkerState> workersOn(CardRef card) {
        return workers.values().stream().filter(w -> card.equals(w.card()) && w.phase() != WorkerState.Phase.OFFLINE).toList();
    }

    @Override
    public void close() {
        try {
            for (int index : config.cards()) {
                CardRef card = new CardRef(config.host(), index);
                client.publishWith().topic(Topics.card(card)).qos(MqttQos.AT_LEAST_ONCE).retain(true).payload(CardCodec.unwatched(card))
                        .send().get(2, TimeUnit.SECONDS);
            }
            client.disconnect().get(2, TimeUnit.SECONDS);
        } catch (Exception e) {
            log.debug("disconnect: {}", e.toString());
        }
    }
}
