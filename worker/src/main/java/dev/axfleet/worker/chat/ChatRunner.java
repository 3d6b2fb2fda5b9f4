package dev.axfleet.worker.chat;

import dev.axfleet.broker.Capability;
import dev.axfleet.broker.ErrorCode;
import dev.axfleet.broker.Job;
import dev.axfleet.broker.JobError;
import dev.axfleet.broker.Kind;
import dev.axfleet.broker.TaskOutput;
import dev.axfleet.broker.Usage;
import dev.axfleet.broker.chat.ChatOutput;
import dev.axfleet.broker.chat.ChatParams;
import dev.axfleet.broker.chat.FinishReason;
import dev.axfleet.broker.chat.TokenEstimate;
import dev.axfleet.broker.chat.ToolChoice;
import dev.axfleet.worker.JobFailure;
import dev.axfleet.worker.RunContext;
import dev.axfleet.worker.Runner;
import dev.axfleet.worker.WorkerConfig;
import dev.axfleet.worker.runtime.ChatOutcome;
import dev.axfleet.worker.runtime.ChatRuntime;
import dev.axfleet.worker.runtime.EngineException;
import dev.axfleet.worker.runtime.Generation;
import java.util.concurrent.CancellationException;

/**
 * A chat job: the conversation made to fit the model's context, the answer generated with stop sequences and the
 * token limit applied as it comes (streamed when the job asks), thinking kept apart, token counts from the runtime
 * or estimated.
 */
public final class ChatRunner implements Runner {
    private final ChatRuntime chat;
    private final int defaultMaxTokens;
    private final WorkerConfig.ContextOverflow overflow;

    public ChatRunner(ChatRuntime chat, int defaultMaxTokens, WorkerConfig.ContextOverflow overflow) {
        this.chat = chat;
        this.defaultMaxTokens = defaultMaxTokens;
        this.overflow = overflow;
    }

    @Override
    public Kind kind() {
        return Kind.CHAT;
    }

    @Override
    public TaskOutput run(Job job, RunContext context) throws EngineException, JobFailure {
        ChatParams params = (ChatParams) job.params();
        int maxTokens = params.maxTokens() != null ? params.maxTokens() : defaultMaxTokens;
        ContextFit.Result fit = ContextFit.fit(params.messages(), chat.contextTokens(), maxTokens, overflow);
        if (fit.refusal() != null) {
            throw new JobFailure(JobError.of(ErrorCode.CONTEXT_LENGTH_EXCEEDED, fit.refusal()));
        }
        if (params.imageCount() > 0 && !chat.capabilities().contains(Capability.VISION)) {
            throw new JobFailure(JobError.invalid("messages", job.model() + " takes no images: it is a text model (a vision model's "
                    + "config.json names its vlm_type); send text only, or ask a vision model"));
        }
        if (!params.tools().isEmpty() && params.toolChoice().mode() != ToolChoice.Mode.NONE
                && !chat.capabilities().contains(Capability.TOOLS)) {
            throw new JobFailure(JobError.invalid("tools", job.model() + " takes no tools: the runtime renders tools only for the Qwen3 family "
                    + "and MiniCPM-V-4.6 (ax-llm docs/tool_calling.md), and would answer as if none were given"));
        }
        if (params.responseFormat().json() && !params.tools().isEmpty()) {
            throw new JobFailure(JobError.invalid("response_format", "a JSON answer and tools in one request are not supported here: "
                    + "the runtime's one way to force JSON is a tool of its own; ask for one or the other"));
        }
        if (params.think() && !chat.thinks()) {
            throw new JobFailure(JobError.invalid("think", job.model() + " cannot think on the " + chat.kind()
                    + " runtime; send think false or leave it out"));
        }
        ChatParams sent = fit.dropped() == 0 ? params : params.withMessages(fit.messages());
        if (params.responseFormat().json()) {
            return structured(job, sent, maxTokens, fit.dropped(), context);
        }
        long start = System.nanoTime();
        Generation generation = new Generation(params.stop(), maxTokens, text -> context.delta(text, false), context::cancelled);
        if (params.think()) {
            generation.keepThinking(text -> context.delta(text, true));
        }
        ChatOutcome out = chat.chat(sent, generation);
        if (generation.isCancelled()) {
            throw new CancellationException();
        }
        generation.warnings().forEach(context::warn);
        if (out.malformedToolCall() != null) {
            throw new JobFailure(new JobError(ErrorCode.TOOL_CALL_MALFORMED, "the model wrote a tool call that could not be read ("
                    + out.malformedToolCall() + "); no call is returned half-read", null, out.text()));
        }
        Usage usage = out.usage() != null ? out.usage() : new Usage(TokenEstimate.of(sent.messages()), generation.tokens(), true);
        Long firstTokenMs = generation.firstTextNanos() == 0 ? null : (generation.firstTextNanos() - start) / 1_000_000;
        return new ChatOutput(out.text(), out.finishReason(), usage, firstTokenMs, fit.dropped(), generation.thinking(), out.toolCalls());
    }

    /**
     * A JSON answer ({@link StructuredOutput}): asked, validated, asked again with what was wrong at most
     * {@link StructuredOutput#RETRIES} times, then repaired conservatively; nothing is streamed until it is valid, then
     * the whole JSON goes as one delta. Still invalid: {@link ErrorCode#JSON_VALIDATION_FAILED} with the last text.
     */
    private ChatOutput structured(Job job, ChatParams sent, int maxTokens, int dropped, RunContext context) throws EngineException, JobFailure {
        StructuredOutput form = new StructuredOutput(sent.responseFormat(), chat.capabilities().contains(Capability.TOOLS));
        if (sent.think()) {
            context.warn("thinking is off for a JSON answer (the answer must be the JSON alone)");
        }
        long start = System.nanoTime();
        ChatParams ask = form.firstAsk(sent);
        String lastText = "";
        String problem = null;
        int prompt = 0;
        int completion = 0;
        for (int attempt = 0; attempt <= StructuredOutput.RETRIES; attempt++) {
            Generation generation = new Generation(sent.stop(), maxTokens, text -> { }, context::cancelled);
            ChatOutcome out = chat.chat(ask, generation);
            if (generation.isCancelled()) {
                throw new CancellationException();
            }
            prompt += out.usage() != null ? out.usage().promptTokens() : TokenEstimate.of(ask.messages());
            completion += out.usage() != null ? out.usage().completionTokens() : generation.tokens();
            boolean called = form.viaTool() && !out.toolCalls().isEmpty();
            String candidate = called ? out.toolCalls().get(0).arguments() : StructuredOutput.extract(out.text());
            lastText = called ? candidate : out.text();
            problem = form.problem(candidate);
            if (problem == null) {
                return answered(candidate, attempt, prompt, completion, out.usage() == null, start, dropped, context);
            }
            ask = form.again(ask, lastText, problem);
        }
        String repaired = StructuredOutput.repair(lastText);
        if (repaired != null && form.problem(repaired) == null) {
            context.warn("the model's JSON was repaired (code fences, trailing commas or unclosed brackets)");
            return answered(repaired, StructuredOutput.RETRIES, prompt, completion, true, start, dropped, context);
        }
        throw new JobFailure(new JobError(ErrorCode.JSON_VALIDATION_FAILED, "the model's answer was not valid JSON"
                + (sent.responseFormat().schema() == null ? "" : " for the schema") + " after " + (StructuredOutput.RETRIES + 1)
                + " tries: " + problem + " (validate-and-retry: the card's runtime cannot constrain its sampling)", "response_format", lastText));
    }

    private static ChatOutput answered(String json, int retries, int prompt, int completion, boolean estimated, long start, int dropped,
                                       RunContext context) {
        if (retries > 0) {
            context.warn("JSON valid after " + (retries + 1) + " tries");
        }
        context.delta(json, false);
        return new ChatOutput(json, FinishReason.STOP, new Usage(prompt, completion, estimated), (System.nanoTime() - start) / 1_000_000,
                dropped, null);
    }
}
