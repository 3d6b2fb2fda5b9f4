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
import dev.axfleet.broker.chat.TokenEstimate;
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
        if (params.think() && !chat.thinks()) {
            throw new JobFailure(JobError.invalid("think", job.model() + " cannot think on the " + chat.kind()
                    + " runtime; send think false or leave it out"));
        }
        ChatParams sent = fit.dropped() == 0 ? params : params.withMessages(fit.messages());
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
        Usage usage = out.usage() != null ? out.usage() : new Usage(TokenEstimate.of(sent.messages()), generation.tokens(), true);
        Long firstTokenMs = generation.firstTextNanos() == 0 ? null : (generation.firstTextNanos() - start) / 1_000_000;
        return new ChatOutput(out.text(), out.finishReason(), usage, firstTokenMs, fit.dropped(), generation.thinking());
    }
}
