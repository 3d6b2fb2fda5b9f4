package dev.axfleet.monitor.probe;

import dev.axfleet.broker.CardReadings;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;

/**
 * Probes a card with {@code axcl-smi} (≈ 0.47 s per call on a Pi 5: ../shared/axera.md §8.1, so once every
 * few seconds, never per job). The default table gives everything; when a field is missing from it the
 * {@code info --temp} / {@code info --cmm} forms are asked for that field. Each call has a time limit: a tool
 * that does not answer in time means the card does not.
 */
public final class SmiProbe implements DeviceProbe {
    private final List<String> smi;
    private final Duration timeout;

    /** @param smi the command that runs axcl-smi (e.g. {@code /usr/bin/axcl/axcl-smi}) */
    public SmiProbe(List<String> smi, Duration timeout) {
        this.smi = List.copyOf(smi);
        this.timeout = timeout;
    }

    @Override
    public String name() {
        return "axcl-smi";
    }

    @Override
    public boolean holdsCard() {
        return false;
    }

    /** How often a run that finds another axcl-smi running is tried, and the pause between tries. */
    static final int BUSY_TRIES = 4;
    static final Duration BUSY_PAUSE = Duration.ofMillis(500);

    @Override
    public DeviceHealth probe(int card) {
        Tool.Result table = runSmi(smi);
        if (table.startError() == null && !table.timedOut() && SmiParser.busy(table.output())) {
            return DeviceHealth.failed(DeviceHealth.Status.UNREADABLE, "axcl-smi refused " + BUSY_TRIES + " times: another axcl-smi is running ("
                    + Tool.oneLine(table.output(), 120) + ")", List.of());
        }
        if (table.startError() != null) {
            return DeviceHealth.failed(DeviceHealth.Status.NOT_FOUND, "axcl-smi cannot run: " + table.startError(), List.of());
        }
        if (table.timedOut()) {
            return DeviceHealth.failed(DeviceHealth.Status.HUNG, "axcl-smi did not answer within " + timeout.toMillis() + " ms", List.of());
        }
        DeviceHealth h = SmiParser.table(table.output(), card);
        if (h.status() != DeviceHealth.Status.ANSWERING) {
            return h;
        }
        List<String> warnings = new ArrayList<>(h.warnings());
        CardReadings r = h.readings();
        Double temp = r.temperatureC();
        Long cmmUsed = r.cmmUsedMiB();
        Long cmmTotal = r.cmmTotalMiB();
        Integer deviceId = null;
        if (temp == null) {
            OptionalLong milli = info(card, "--temp").map(SmiParser::tempMilliC).orElse(OptionalLong.empty());
            temp = milli.isPresent() ? milli.getAsLong() / 1000.0 : null;
        }
        if (cmmUsed == null || cmmTotal == null) {
            SmiParser.CmmInfo cmm = info(card, "--cmm").map(SmiParser::cmm).orElse(new SmiParser.CmmInfo(null, null, null));
            deviceId = cmm.deviceId();
            cmmUsed = cmm.usedMiB();
            cmmTotal = cmm.totalMiB();
        }
        if (temp == null) {
            warnings.add("axcl-smi: temperature not found in the table or in info --temp");
        }
        return new DeviceHealth(h.status(), new CardReadings(deviceId, temp, r.memoryUsedMiB(), r.memoryTotalMiB(), cmmUsed, cmmTotal,
                r.cpuPercent(), r.npuPercent(), r.processes()), null, warnings);
    }

    private java.util.Optional<String> info(int card, String what) {
        List<String> command = new ArrayList<>(smi);
        command.addAll(List.of("info", what, "-d", String.valueOf(card)));
        Tool.Result r = runSmi(command);
        return r.ok() ? java.util.Optional.of(r.output()) : java.util.Optional.empty();
    }

    /**
     * Runs axcl-smi; while it answers {@code %s is already running, please try later.} (a person's {@code watch axcl-smi}
     * holds it), tries again shortly, a few times: that is not the card failing.
     */
    private Tool.Result runSmi(List<String> command) {
        Tool.Result r = Tool.run(command, null, timeout);
        for (int attempt = 1; attempt < BUSY_TRIES && r.startError() == null && !r.timedOut() && SmiParser.busy(r.output()); attempt++) {
            try {
                Thread.sleep(BUSY_PAUSE.toMillis());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return r;
            }
            r = Tool.run(command, null, timeout);
        }
        return r;
    }
}
