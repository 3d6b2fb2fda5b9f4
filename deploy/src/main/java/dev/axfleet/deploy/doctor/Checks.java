package dev.axfleet.deploy.doctor;

import java.util.ArrayList;
import java.util.List;

/**
 * Every check, in the order a run takes them: what only reads first (axfleet's services still running), then what
 * disturbs the card (before this process opens libaxcl_rt, which would hold the driver), then what needs the card to
 * itself, the in-process engines before the runtimes (tools on the shared chat runtime, then the vision model, which stops
 * it), two chat models coming and going (the first stays as the paced chat runtime), the checks that time the runtime's pace,
 * then speech: asr_server and the melotts unit, each with the card's CMM to itself, and last the three models on the NPU at once.
 */
final class Checks {
    private Checks() {
    }

    static List<Check> all() {
        List<Check> out = new ArrayList<>();
        out.addAll(CardChecks.readOnly());
        out.addAll(FleetChecks.all());
        out.addAll(CardChecks.disruptive());
        out.addAll(ImageChecks.all().subList(0, 1));
        out.addAll(CardChecks.idle());
        out.addAll(ImageChecks.all().subList(1, 4));
        out.addAll(AxllmChecks.unpaced());
        out.addAll(ToolChecks.all());
        out.addAll(VisionChecks.all());
        out.addAll(ResidencyChecks.all());
        out.addAll(AxllmChecks.paced());
        out.addAll(LegacyChecks.all());
        out.addAll(TranscribeChecks.all());
        out.addAll(SpeechChecks.all());
        out.addAll(NpuChecks.all());
        return List.copyOf(out);
    }
}
