package dev.axfleet.deploy.cli;

import dev.axfleet.config.Settings;
import picocli.CommandLine.Option;

/** {@code --url}, for the commands that talk to the gateway (a picocli mixin). */
final class GatewayOption {
    @Option(names = "--url", paramLabel = "URL", description = "the gateway (default: from gateway.bind and gateway.port, http://127.0.0.1:8080)")
    String url;

    GatewayApi api(Settings settings) {
        return new GatewayApi(settings, url);
    }
}
