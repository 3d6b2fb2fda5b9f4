package dev.axfleet.deploy.doctor;

import java.util.ArrayList;
import java.util.List;

/**
 * Every check, in the order a run takes them: what only reads first (axfleet's services still running), then what
 * disturbs the card (before this process opens libaxcl_rt, which would hold the driver), then what needs the card to
 * itself, the in-process engines before the runtimes (tools on the shared chat runtime, then the vision model, which stops
 * it), and the checks that time the runtime's pace last.
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
        out.addAll(AxllmChecks.paced());
        out.addAll(LegacyChecks.all());
        return List.copyOf(out);
    }
}
