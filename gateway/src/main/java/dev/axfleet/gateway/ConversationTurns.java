package dev.axfleet.gateway;

import dev.axfleet.broker.chat.ChatParams;
import dev.axfleet.broker.JobResult;
import dev.axfleet.gateway.bus.Submission;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Turns of the conversations kept on the server ({@link Conversations}): the Ollama routes for a model named in
 * {@code gateway.conversational_models}, and the legacy session API on port 8000, which speaks for the first of
 * them. A turn sends the whole conversation plus the new prompt; only an answered turn is kept.
 */
public final class ConversationTurns {
    private final JobRunner runner;
    private final ModelRegistry registry;
    private final GatewayConfig config;
    private final Conversations conversations;
    private final Map<String, Submission> current = new ConcurrentHashMap<>();

    public ConversationTurns(JobRunner runner, ModelRegistry registry, GatewayConfig config, Conversations conversations) {
        this.runner = runner;
        this.registry = registry;
        this.config = config;
        this.conversations = conversations;
    }

    /** Whether {@code name} (as the client wrote it) keeps its conversation on the server. */
    public boolean conversational(String name) {
        return name != null && config.conversational().contains(name);
    }

    /** The conversation the legacy session API speaks for: the first conversational model, else the first model. */
    String legacyName() {
        return !config.conversational().isEmpty() ? config.conversational().get(0)
                : config.models().isEmpty() ? "default" : config.models().keySet().iterator().next();
    }

    /**
     * Runs one turn: {@code prompt} after the conversation so far, with {@code template}'s sampling. Streams to
     * {@code sink} when given. Returns the result (null when a streaming caller went away).
     */
    public JobResult turn(String name, String model, ChatParams template, String prompt, JobRunner.StreamSink sink, RequestLog log)
            throws ApiException {
        Conversations.Conversation c = conversations.get(name);
        c.turn().lock();
        try {
            int maxTokens = template.maxTokens() != null ? template.maxTokens() : config.conversationMaxTokens();
            ChatParams params = new ChatParams(c.messages(prompt, registry.contextTokens(model), maxTokens), template.temperature(),
                    template.topP(), template.topK(), maxTokens, template.stop(), template.seed(), template.presencePenalty(),
                    template.frequencyPenalty(), template.repeatPenalty(), template.think());
            JobResult r;
            if (sink == null) {
                r = runner.callAlone(model, params, log, s -> current.put(name, s));
            } else {
                r = runner.stream(model, params, sink, log, s -> current.put(name, s));
            }
            if (r != null) {
                c.answered(prompt, r.chat().text());
            }
            return r;
        } finally {
            current.remove(name);
            c.turn().unlock();
        }
    }

    /** Stops the answer running in {@code name}'s conversation, if any; harmless when idle. */
    void stop(String name) {
        Submission s = current.get(name);
        if (s != null) {
            s.interrupt();
        }
    }

    /** Stops what runs and starts the conversation again with {@code systemPrompt} (null: the one it had). */
    void reset(String name, String systemPrompt) {
        stop(name);
        Conversations.Conversation c = conversations.get(name);
        c.turn().lock();
        try {
            c.reset(systemPrompt);
        } finally {
            c.turn().unlock();
        }
    }
}
