package dev.axfleet.deploy.cli;

import dev.axfleet.monitor.MonitorMain;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;

/** {@code axfleet monitor}. */
@Command(name = "monitor", description = "Card health on MQTT, the thermal guard and the recovery ladder; systemd runs it as axfleet-monitor.")
public final class MonitorCommand implements Callable<Integer> {
    @Override
    public Integer call() throws Exception {
        MonitorMain.main(new String[0]);
        return 0;
    }
}
