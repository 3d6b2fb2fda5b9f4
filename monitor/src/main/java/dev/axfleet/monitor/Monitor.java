package dev.axfleet.monitor;

import dev.axfleet.broker.CardRef;
import dev.axfleet.broker.Command;
import dev.axfleet.monitor.probe.DeviceProbe;
import dev.axfleet.monitor.probe.SmiProbe;
import dev.axfleet.monitor.probe.AxclProbe;
import java.time.Clock;
import java.util.LinkedHashMap;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The device monitor for one host: a {@link CardWatch} per card on its own thread, one MQTT connection
 * ({@link MonitorBus}), one probe. Reset requests arrive on the cards' control topics; only the monitor
 * acts on them (the shipped Mosquitto ACL lets only the monitor and the gateway's admin path write there).
 */
public final class Monitor implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Monitor.class);

    private final MonitorConfig config;
    private final DeviceProbe probe;
    private final MonitorBus bus;
    private final Map<Integer, CardWatch> watches = new LinkedHashMap<>();
    private final Map<Integer, Thread> threads = new LinkedHashMap<>();

    public Monitor(MonitorConfig config) {
        this.config = config;
        Clock clock = Clock.systemUTC();
        this.probe = config.probe().equals("libaxcl") ? new AxclProbe(config.libaxcl(), config.probeTimeout())
                : new SmiProbe(config.axclSmi(), config.probeTimeout());
        this.bus = new MonitorBus(config, clock, this::onCommand);
        CardUsers users = new CardUsers(config.deviceNode(), config.stopGrace());
        for (int index : config.cards()) {
            watches.put(index, new CardWatch(config, new CardRef(config.host(), index), probe, bus, users, clock));
        }
    }

    public void start() {
        bus.connect();
        watches.forEach((index, watch) -> {
            Thread t = new Thread(watch, "card-" + index);
            t.setDaemon(true);
            threads.put(index, t);
            t.start();
        });
        log.info("monitor watching cards {} on {} with {}{}", config.cards(), config.host(), probe.name(),
                config.emulated() ? " (EMULATED card: not an AX650)" : "");
    }

    private void onCommand(int index, Command c) {
        CardWatch w = watches.get(index);
        if (w != null) {
            w.request(c);
        }
    }

    @Override
    public void close() {
        watches.values().forEach(CardWatch::stop);
        threads.values().forEach(Thread::interrupt);
        for (Thread t : threads.values()) {
            try {
                t.join(5000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        bus.close();
        probe.close();
    }
}
