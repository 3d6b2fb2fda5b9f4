package dev.axfleet.deploy.cli;

import dev.axfleet.gateway.GatewayMain;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;

/** {@code axfleet gateway}. */
@Command(name = "gateway", description = "The REST facades (OpenAI /v1, Ollama /api, AUTOMATIC1111 /sdapi, /health, /metrics); systemd runs it as axfleet-gateway.")
public final class GatewayCommand implements Callable<Integer> {
    @Override
    public Integer call() throws Exception {
        GatewayMain.main(new String[0]);
        return 0;
    }
}
