package dev.axfleet.gateway;

import dev.axfleet.config.Settings;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** {@code axfleet gateway}: the REST facades. */
public final class GatewayMain {
    private static final Logger log = LoggerFactory.getLogger(GatewayMain.class);

    private GatewayMain() {
    }

    public static void main(String[] args) throws InterruptedException {
        Settings settings = Settings.fromEnvironment();
        GatewayConfig config = GatewayConfig.from(settings);
        log.info("axfleet gateway, settings from {}", settings.source());
        config.describe().forEach(line -> log.info("  {}", line));
        Gateway gateway = Gateway.start(config);
        Runtime.getRuntime().addShutdownHook(new Thread(gateway::close, "shutdown"));
        Thread.currentThread().join();
    }
}
