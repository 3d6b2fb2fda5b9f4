package dev.axfleet.broker;

import java.util.Optional;
import java.util.regex.Pattern;

/**
 * Every MQTT topic axfleet uses, in one place. Nobody else spells a topic.
 *
 * <pre>
 * axfleet/v1/jobs/{model}               jobs for a model, priority normal (devices and the gateway publish, workers share)
 * axfleet/v1/jobs/{model}/high|low      jobs of priority high or low
 * axfleet/v1/handoff/{model}/{worker}   a job one worker hands to a worker of the model to run next (itself included)
 * axfleet/v1/cancel/{model}             cancel requests {"id": ...} (all workers of the model)
 * axfleet/v1/status/{model}/{job}       job state transitions (running, done, ...), QoS 0
 * axfleet/v1/workers/{model}/{worker}   retained worker state, "offline" as last will
 * axfleet/v1/reply/{client}/{job}       reply topics for clients that have no own namespace
 * axfleet/v1/results/{model}/{job}      where results go when a job names no reply topic
 * axfleet/v1/cards/{host}/{card}        retained card health from the monitor, "lost" as its last will
 * axfleet/v1/events/cards/{host}/{card} what the monitor did for a card (recovery steps), QoS 1
 * axfleet/v1/control/cards/{host}/{card}       reset requests; only the monitor acts on them
 * axfleet/v1/control/workers/{model}/{worker}  requests to one worker (restart its runtime), from the monitor
 * axfleet/v1/voice                     voice turns from devices (a gateway takes each: transcription, answer and speech)
 * </pre>
 */
public final class Topics {
    public static final String ROOT = "axfleet/v1";

    private static final Pattern SEGMENT = Pattern.compile("[A-Za-z0-9._:-]{1,128}");
    private static final int MAX_TOPIC_LENGTH = 512;

    private Topics() {
    }

    public static String jobs(String model) {
        return ROOT + "/jobs/" + segment("model", model);
    }

    /** The job topic of a priority: {@link #jobs(String)} itself for {@code normal}, else {@code jobs/{model}/high} or {@code /low}. */
    public static String jobs(String model, Priority priority) {
        return priority == Priority.NORMAL ? jobs(model) : jobs(model) + "/" + priority.wire();
    }

    /** The shared subscription the workers of one model take jobs from; the broker hands each job to one of them. */
    public static String jobsShared(String model) {
        return jobsShared(model, Priority.NORMAL);
    }

    /** As {@link #jobsShared(String)}, for the jobs of one priority. */
    public static String jobsShared(String model, Priority priority) {
        return "$share/axfleet-" + segment("model", model) + "/" + jobs(model, priority);
    }

    /** Where a worker of {@code model} takes the jobs handed to it to run next (docs/protocol.md, "Handoffs"). */
    public static String handoff(String model, String workerId) {
        return ROOT + "/handoff/" + segment("model", model) + "/" + segment("worker", workerId);
    }

    public static boolean isHandoff(String topic) {
        return topic.startsWith(ROOT + "/handoff/");
    }

    public static String cancel(String model) {
        return ROOT + "/cancel/" + segment("model", model);
    }

    public static String status(String model, String jobId) {
        return ROOT + "/status/" + segment("model", model) + "/" + segment("id", jobId);
    }

    public static String statusAll() {
        return ROOT + "/status/+/+";
    }

    /** The job id of a status topic, or empty when {@code topic} is not one. */
    public static Optional<String> jobOfStatusTopic(String topic) {
        String prefix = ROOT + "/status/";
        if (!topic.startsWith(prefix)) {
            return Optional.empty();
        }
        String[] parts = topic.substring(prefix.length()).split("/", -1);
        return parts.length == 2 ? Optional.of(parts[1]) : Optional.empty();
    }

    /** Where the workers of a model tell each other the jobs they answered (worker AnsweredJobs; docs/protocol.md). */
    public static String answered(String model) {
        return ROOT + "/answered/" + segment("model", model);
    }

    public static String workerState(String model, String workerId) {
        return ROOT + "/workers/" + segment("model", model) + "/" + segment("worker", workerId);
    }

    public static String workerStates() {
        return ROOT + "/workers/+/+";
    }

    /** Whether a topic is a worker's state topic ({@link #workerState}). */
    public static boolean isWorkerState(String topic) {
        return topic.startsWith(ROOT + "/workers/");
    }

    public static String reply(String clientId, String jobId) {
        return ROOT + "/reply/" + segment("client", clientId) + "/" + segment("id", jobId);
    }

    public static String replies(String clientId) {
        return ROOT + "/reply/" + segment("client", clientId) + "/#";
    }

    public static String defaultResult(String model, String jobId) {
        return ROOT + "/results/" + segment("model", model) + "/" + segment("id", jobId);
    }

    public static String card(CardRef card) {
        return ROOT + "/cards/" + segment("host", card.host()) + "/" + card.index();
    }

    public static String cards() {
        return ROOT + "/cards/+/+";
    }

    /** Whether a topic is a card's health topic ({@link #card}). */
    public static boolean isCard(String topic) {
        return topic.startsWith(ROOT + "/cards/");
    }

    public static String cardEvents(CardRef card) {
        return ROOT + "/events/cards/" + segment("host", card.host()) + "/" + card.index();
    }

    public static String cardEventsAll() {
        return ROOT + "/events/cards/+/+";
    }

    public static String cardControl(CardRef card) {
        return ROOT + "/control/cards/" + segment("host", card.host()) + "/" + card.index();
    }

    /** Reset requests for every card of one host: what that host's monitor subscribes to. */
    public static String cardControls(String host) {
        return ROOT + "/control/cards/" + segment("host", host) + "/+";
    }

    /** The card a {@link #card}, {@link #cardEvents} or {@link #cardControl} topic names, or empty. */
    public static Optional<CardRef> cardOfTopic(String topic) {
        String[] parts = topic.split("/");
        if (parts.length < 4 || !parts[parts.length - 1].matches("\\d{1,3}") || !isSegment(parts[parts.length - 2])) {
            return Optional.empty();
        }
        int index = Integer.parseInt(parts[parts.length - 1]);
        return index > 255 ? Optional.empty() : Optional.of(new CardRef(parts[parts.length - 2], index));
    }

    /** Where devices ask for voice turns (docs/protocol.md "Voice turns"); the gateways take them from {@link #voiceShared()}. */
    public static String voice() {
        return ROOT + "/voice";
    }

    /** The shared subscription the gateways take voice turns from: the broker hands each turn to one of them. */
    public static String voiceShared() {
        return "$share/axfleet-voice/" + voice();
    }

    public static String workerControl(String model, String workerId) {
        return ROOT + "/control/workers/" + segment("model", model) + "/" + segment("worker", workerId);
    }

    /** The model named by a job topic of any priority, or empty when the topic is not a job topic. */
    public static Optional<String> modelOfJobTopic(String topic) {
        String prefix = ROOT + "/jobs/";
        if (!topic.startsWith(prefix)) {
            return Optional.empty();
        }
        String[] parts = topic.substring(prefix.length()).split("/", -1);
        boolean priority = parts.length == 2 && Priority.parse(parts[1]).filter(p -> p != Priority.NORMAL && p.wire().equals(parts[1])).isPresent();
        return isSegment(parts[0]) && (parts.length == 1 || priority) ? Optional.of(parts[0]) : Optional.empty();
    }

    /** The priority of a job topic ({@code normal} for the plain one), or empty when the topic is not a job topic. */
    public static Optional<Priority> priorityOfJobTopic(String topic) {
        return modelOfJobTopic(topic).map(m -> topic.equals(jobs(m)) ? Priority.NORMAL : Priority.parse(topic.substring(topic.lastIndexOf('/') + 1)).orElseThrow());
    }

    public static boolean isSegment(String value) {
        return value != null && SEGMENT.matcher(value).matches();
    }

    /**
     * Why a topic may not be used as a reply topic, or empty when it may. Workers publish results to
     * whatever a job names, so the names are bounded: no wildcards, no {@code $} topics, and nothing
     * inside axfleet's own tree except the reply and result namespaces.
     */
    public static Optional<String> replyTopicProblem(String topic) {
        if (topic.isEmpty() || topic.length() > MAX_TOPIC_LENGTH) {
            return Optional.of("must be 1 to " + MAX_TOPIC_LENGTH + " characters");
        }
        if (topic.contains("+") || topic.contains("#") || topic.indexOf('\0') >= 0) {
            return Optional.of("must not contain wildcards or NUL");
        }
        int refused = topic.codePoints().filter(Topics::shouldNotBeInTopic).findFirst().orElse(-1);
        if (refused >= 0) {
            return Optional.of(String.format("must not contain U+%04X (MQTT 5 section 1.5.4: control characters and "
                    + "non-characters); a broker drops the connection that publishes it", refused));
        }
        if (topic.startsWith("$")) {
            return Optional.of("must not start with '$'");
        }
        if (topic.startsWith("axfleet/") && !topic.startsWith(ROOT + "/reply/") && !topic.startsWith(ROOT + "/results/")) {
            return Optional.of("inside axfleet/ only " + ROOT + "/reply/... and " + ROOT + "/results/... are allowed");
        }
        return Optional.empty();
    }

    /**
     * The code points MQTT 5 section 1.5.4 says a UTF-8 string SHOULD NOT hold, and lone surrogates (ill-formed).
     * HiveMQ CE closes the connection of a client publishing to such a topic, so a worker answering there would lose
     * its job connection, get the job again and loop (FuzzTest found it).
     */
    private static boolean shouldNotBeInTopic(int cp) {
        return cp <= 0x1F || (cp >= 0x7F && cp <= 0x9F) || (cp >= 0xD800 && cp <= 0xDFFF)
                || (cp >= 0xFDD0 && cp <= 0xFDEF) || (cp & 0xFFFE) == 0xFFFE;
    }

    private static String segment(String what, String value) {
        if (!isSegment(value)) {
            throw new IllegalArgumentException(what + " must match " + SEGMENT.pattern() + ": " + value);
        }
        return value;
    }
}
