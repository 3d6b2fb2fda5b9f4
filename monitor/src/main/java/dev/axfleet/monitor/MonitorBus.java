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
import dev.axfleet.monitor.homeassistant.Discovery;
import java.nio.charset.StandardCharsets;
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
    /** Home Assistant discovery, or null when off; the worker topics announced, by their state topic. */
    private final Discovery discovery;
    private final Map<String, String> announced = new ConcurrentHashMap<>();

    MonitorBus(MonitorConfig config, Clock clock, BiConsumer<Integer, Command> onCommand) {
        this.config = config;
        this.clock = clock;
        this.onCommand = onCommand;
        this.discovery = config.homeAssistant().isEmpty() ? null : new Discovery(config.homeAssistant(), config.host(),
                new CardRef(config.host(), config.cards().get(0)), config.emulated(), dev.axfleet.config.BuildInfo.current().version());
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
        if (discovery != null) {
            // Retained, so Home Assistant finds them whenever it starts; sent again on each connection (a broker without persistence).
            for (int index : config.cards()) {
                discovery.card(new CardRef(config.host(), index)).forEach(this::retain);
            }
            announced.clear();
            workers.values().forEach(this::announce);
        }
    }

    private void retain(String topic, com.google.gson.JsonObject payload) {
        client.publishWith().topic(topic).qos(MqttQos.AT_LEAST_ONCE).retain(true)
                .payload(payload == null ? new byte[0] : payload.toString().getBytes(StandardCharsets.UTF_8)).send();
    }

    /** Announces a worker on one of this host's cards to Home Assistant, once per connection. */
    private void announce(WorkerState w) {
        if (discovery == null || w.card() == null || !w.card().host().equals(config.host()) || !config.cards().contains(w.card().index())) {
            return;
        }
        String topic = discovery.workerTopic(w);
        if (!topic.equals(announced.put(Topics.workerState(w.model(), w.worker()), topic))) {
            retain(topic, discovery.worker(w));
        }
    }

    private void onMessage(Mqtt5Publish p) {
        String topic = p.getTopic().toString();
        byte[] payload = p.getPayloadAsBytes();
        if (Topics.isWorkerState(topic)) {
            if (payload.length == 0) {
                workers.remove(topic);
                // The worker was taken away (its retained state cleared): so is its sensor.
                String sensor = announced.remove(topic);
                if (sensor != null) {
                    retain(sensor, null);
                }
                return;
            }
            try {
                WorkerState w = WireCodec.decodeWorkerState(payload);
                workers.put(topic, w);
                announce(w);
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
