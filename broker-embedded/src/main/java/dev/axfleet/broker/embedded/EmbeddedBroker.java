package dev.axfleet.broker.embedded;

import com.hivemq.embedded.EmbeddedHiveMQ;
import dev.axfleet.broker.BrokerAddress;
import dev.axfleet.config.LogConfigurator;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An MQTT 5 broker inside this JVM (HiveMQ Community Edition, embedded), for runs with no Mosquitto
 * configured and for fast tests. Installations use Mosquitto (deploy/mosquitto/axfleet.conf).
 */
public final class EmbeddedBroker implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(EmbeddedBroker.class);

    private final EmbeddedHiveMQ hivemq;
    private final BrokerAddress address;

    private EmbeddedBroker(EmbeddedHiveMQ hivemq, BrokerAddress address) {
        this.hivemq = hivemq;
        this.address = address;
    }

    /**
     * Starts a broker listening on {@code bind}:{@code port}.
     *
     * @param home       folder for its configuration and data
     * @param persistent keep sessions and queued jobs on disk in {@code home} across restarts
     */
    public static EmbeddedBroker start(String bind, int port, Path home, boolean persistent) {
        try {
            Path conf = Files.createDirectories(home.resolve("conf"));
            Path data = Files.createDirectories(home.resolve("data"));
            Path extensions = Files.createDirectories(home.resolve("extensions"));
            Files.writeString(conf.resolve("config.xml"), config(bind, port, persistent));
            Files.writeString(conf.resolve("logback.xml"), LogConfigurator.XML);
            EmbeddedHiveMQ hivemq = EmbeddedHiveMQ.builder()
                    .withConfigurationFolder(conf)
                    .withDataFolder(data)
                    .withExtensionsFolder(extensions)
                    .build();
            hivemq.start().get(60, TimeUnit.SECONDS);
            BrokerAddress address = new BrokerAddress(bind, port, null, null);
            log.info("embedded MQTT 5 broker (HiveMQ CE) listening on {} persistence={}", address,
                    persistent ? "file:" + data : "in-memory");
            return new EmbeddedBroker(hivemq, address);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (Exception e) {
            throw new IllegalStateException("embedded broker did not start on " + bind + ":" + port, e);
        }
    }

    public BrokerAddress address() {
        return address;
    }

    @Override
    public void close() {
        try {
            hivemq.stop().get(30, TimeUnit.SECONDS);
            hivemq.close();
        } catch (Exception e) {
            log.warn("embedded broker stop: {}", e.toString());
        }
    }

    /**
     * Queue limits are raised well above the default 1000 so a burst of jobs waits in the broker instead
     * of being dropped; usage statistics are off (an installation's network is its own).
     */
    private static String config(String bind, int port, boolean persistent) {
        return """
                <?xml version="1.0"?>
                <hivemq>
                  <listeners>
                    <tcp-listener>
                      <port>%d</port>
                      <bind-address>%s</bind-address>
                    </tcp-listener>
                  </listeners>
                  <mqtt>
                    <queued-messages>
                      <max-queue-size>100000</max-queue-size>
                      <strategy>discard</strategy>
                    </queued-messages>
                  </mqtt>
                  <persistence>
                    <mode>%s</mode>
                  </persistence>
                  <anonymous-usage-statistics>
                    <enabled>false</enabled>
                  </anonymous-usage-statistics>
                </hivemq>
                """.formatted(port, bind, persistent ? "file" : "in-memory");
    }
}
