package dev.axfleet.deploy.doctor;

import java.util.List;

/**
 * A check's outcome in this run.
 *
 * @param evidence what the check saw, line by line (tool output, the runtime's log), for the report
 */
public record Result(Check check, Verdict verdict, List<String> evidence, long millis) {
    public Result {
        evidence = List.copyOf(evidence);
    }
}
