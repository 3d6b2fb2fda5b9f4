package dev.axfleet.monitor;

import dev.axfleet.broker.BrokerAddress;
import dev.axfleet.broker.Topics;
import dev.axfleet.config.Settings;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Everything the monitor needs, read once at start ({@link Settings}: file + AXFLEET_* environment) and
 * printed by {@link #describe()}. Defaults: the design documents' thresholds and the field notes' timings
 * (../shared/axera.md §8).
 *
 * @param host           this Pi's name on the bus ({@code card.host}, shared with the workers)
 * @param cards          the card indexes to watch ({@code axcl-smi -d N})
 * @param probe          {@code axcl-smi} or {@code libaxcl} (JNA over libaxcl_rt.so; holds the card open)
 * @param lostAfter      consecutive failed probes before a card counts as lost
 * @param bootGrace      no recovery this soon after the monitor starts or a reset (the card may still be coming up)
 * @param strikes        jobs past their time limit, within {@code strikeWindow}, that start the recovery ladder
 * @param settle         how long to wait for the card after the gentle steps (runtimes, strays)
 * @param driverReload   {@code auto} (only as root), {@code on}, or {@code off}
 * @param hostReboot     the command for the last step; empty (the default) leaves that step out
 * @param emulated       true when the card is axfleet's emulated card (said in every health message)
 * @param homeAssistant  Home Assistant's discovery prefix the cards are announced under (docs/home-assistant.md); empty: not announced
 */
public record MonitorConfig(
        String host,
        List<Integer> cards,
        BrokerAddress broker,
        String probe,
        List<String> axclSmi,
        String libaxcl,
        Duration interval,
        Duration probeTimeout,
        double hotC,
        double resumeC,
        int lostAfter,
        Duration bootGrace,
        int strikes,
        Duration strikeWindow,
        Duration settle,
        Duration rebootWait,
        int rebootAttempts,
        Duration reloadWait,
        int maxRecoveries,
        Duration recoveryWindow,
        List<String> modprobe,
        String driverReload,
        List<String> hostReboot,
        Path deviceNode,
        Duration stopGrace,
        boolean emulated,
        String homeAssistant) {

    public MonitorConfig {
        if (!Topics.isSegment(host)) {
            throw new IllegalArgumentException("card.host must match [A-Za-z0-9._:-]{1,128}: " + host);
        }
        if (cards.isEmpty()) {
            throw new IllegalArgumentException("monitor.cards must name at least one card index, e.g. 0");
        }
        if (!List.of("axcl-smi", "libaxcl").contains(probe)) {
            throw new IllegalArgumentException("monitor.probe must be axcl-smi or libaxcl, not " + probe);
        }
        if (!List.of("auto", "on", "off").contains(driverReload)) {
            throw new IllegalArgumentException("monitor.driver_reload must be auto, on or off, not " + driverReload);
        }
        if (!homeAssistant.isEmpty() && !homeAssistant.matches("[A-Za-z0-9_-]+(/[A-Za-z0-9_-]+)*")) {
            throw new IllegalArgumentException("monitor.homeassistant_prefix must be a topic without wildcards, e.g. homeassistant: " + homeAssistant);
        }
        if (resumeC >= hotC) {
            throw new IllegalArgumentException("monitor.resume_c (" + resumeC + ") must be below monitor.hot_c (" + hotC + ")");
        }
    }

    public static MonitorConfig from(Settings s) {
        BrokerAddress broker = BrokerAddress.parse(s.string("broker.url", "mqtt://127.0.0.1:1883"));
        String user = s.string("monitor.mqtt_username", null);
        if (user != null) {
            broker = broker.withCredentials(user, s.string("monitor.mqtt_password", null));
        }
        List<Integer> cards = new ArrayList<>();
        for (String c : s.string("monitor.cards", "0").split("[,\\s]+")) {
            if (!c.isBlank()) {
                cards.add(Integer.parseInt(c.strip()));
            }
        }
        return new MonitorConfig(
                s.string("card.host", Settings.hostname()),
                List.copyOf(cards),
                broker,
                s.string("monitor.probe", "axcl-smi"),
                words(s.string("monitor.axcl_smi", defaultSmi())),
                s.string("monitor.libaxcl", "axcl_rt"),
                s.duration("monitor.interval", Duration.ofSeconds(5)),
                s.duration("monitor.probe_timeout", Duration.ofSeconds(5)),
                s.decimal("monitor.hot_c", 80),
                s.decimal("monitor.resume_c", 70),
                s.integer("monitor.lost_after", 3),
                s.duration("monitor.boot_grace", Duration.ofSeconds(15)),
                s.integer("monitor.strikes", 3),
                s.duration("monitor.strike_window", Duration.ofMinutes(10)),
                s.duration("monitor.settle", Duration.ofSeconds(20)),
                s.duration("monitor.reboot_wait", Duration.ofSeconds(60)),
                s.integer("monitor.reboot_attempts", 2),
                s.duration("monitor.reload_wait", Duration.ofSeconds(30)),
                s.integer("monitor.max_recoveries", 3),
                s.duration("monitor.recovery_window", Duration.ofHours(1)),
                words(s.string("monitor.modprobe", "/usr/sbin/modprobe")),
                s.string("monitor.driver_reload", "auto"),
                words(s.string("monitor.host_reboot", "")),
                Path.of(s.string("monitor.device_node", "/dev/axcl_host")),
                s.duration("monitor.stop_grace", Duration.ofSeconds(10)),
                s.bool("monitor.emulated", false),
                s.bool("monitor.homeassistant", true) ? s.string("monitor.homeassistant_prefix", "homeassistant") : "");
    }

    /** axcl-smi from the package's folder when it is there, else from PATH (../shared/axera.md §2.1). */
    private static String defaultSmi() {
        return Files.isExecutable(Path.of("/usr/bin/axcl/axcl-smi")) ? "/usr/bin/axcl/axcl-smi" : "axcl-smi";
    }

    private static List<String> words(String s) {
        return s.isBlank() ? List.of() : List.copyOf(Arrays.asList(s.strip().split("\\s+")));
    }

    /** The settings in force, one per line, for the start-up log. */
    public List<String> describe() {
        return List.of(
                "card.host=" + host + (emulated ? "  (EMULATED card: not an AX650)" : ""),
                "monitor.cards=" + cards,
                "broker.url=" + broker,
                "monitor.probe=" + probe + " (" + (probe.equals("axcl-smi") ? String.join(" ", axclSmi) : libaxcl) + ")",
                "monitor.interval=" + interval + " probe_timeout=" + probeTimeout,
                "monitor.hot_c=" + hotC + " resume_c=" + resumeC,
                "monitor.lost_after=" + lostAfter + " probes, boot_grace=" + bootGrace,
                "monitor.strikes=" + strikes + " within " + strikeWindow,
                "recovery: settle=" + settle + " reboot_wait=" + rebootWait + " x" + rebootAttempts + " reload_wait=" + reloadWait,
                "recovery limit: " + maxRecoveries + " per " + recoveryWindow,
                "monitor.driver_reload=" + driverReload + " (" + String.join(" ", modprobe) + ")",
                "monitor.host_reboot=" + (hostReboot.isEmpty() ? "off" : String.join(" ", hostReboot)),
                "monitor.device_node=" + deviceNode,
                "monitor.homeassistant=" + (homeAssistant.isEmpty() ? "off" : "on, discovery under " + homeAssistant + "/sensor/axfleet_..."));
    }
}
