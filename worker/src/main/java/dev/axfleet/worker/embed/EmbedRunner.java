package dev.axfleet.worker.embed;

import dev.axfleet.broker.ErrorCode;
import dev.axfleet.broker.Job;
import dev.axfleet.broker.JobError;
import dev.axfleet.broker.Kind;
import dev.axfleet.broker.TaskOutput;
import dev.axfleet.broker.Usage;
import dev.axfleet.broker.chat.TokenEstimate;
import dev.axfleet.broker.embed.EmbedParams;
import dev.axfleet.broker.embed.Embeddings;
import dev.axfleet.worker.JobFailure;
import dev.axfleet.worker.RunContext;
import dev.axfleet.worker.Runner;
import dev.axfleet.worker.runtime.EngineException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CancellationException;

/**
 * An embedding job: inputs longer than the model's context cut to fit or refused (the job's {@code truncate}),
 * embedded in batches (a cancel is seen between them), vectors cut to {@code dimensions} and normalised again
 * (axllm serve ignores the field: docs/hardware.md F31), token counts estimated when the runtime reports zeros.
 */
public final class EmbedRunner implements Runner {
    /** Inputs per request to the runtime: it embeds them one after another, and a cancel waits for at most one batch. */
    static final int BATCH = 16;

    private final EmbedRuntime runtime;

    public EmbedRunner(EmbedRuntime runtime) {
        this.runtime = runtime;
    }

    @Override
    public Kind kind() {
        return Kind.EMBEDDING;
    }

    @Override
    public TaskOutput run(Job job, RunContext context) throws EngineException, JobFailure {
        EmbedParams params = (EmbedParams) job.params();
        List<String> inputs = fit(params);
        List<float[]> vectors = new ArrayList<>(inputs.size());
        int counted = 0;
        for (int from = 0; from < inputs.size(); from += BATCH) {
            if (context.cancelled()) {
                throw new CancellationException("after " + from + " of " + inputs.size() + " inputs");
            }
            EmbedRuntime.Vectors batch = runtime.embed(inputs.subList(from, Math.min(inputs.size(), from + BATCH)));
            vectors.addAll(batch.vectors());
            counted += batch.promptTokens();
            context.progress(vectors.size(), inputs.size());
        }
        if (vectors.size() != inputs.size()) {
            throw new EngineException(EngineException.Kind.UNAVAILABLE, "the runtime returned " + vectors.size() + " vectors for "
                    + inputs.size() + " inputs");
        }
        if (params.dimensions() != null) {
            int own = vectors.get(0).length;
            if (params.dimensions() > own) {
                throw new JobFailure(JobError.invalid("params.dimensions", job.model() + " makes vectors of " + own
                        + " dimensions; ask for " + own + " or fewer"));
            }
            vectors.replaceAll(v -> shorten(v, params.dimensions()));
        }
        // axllm serve's encoder writes usage 0 whatever it read (openai-api.cpp EmbeddingsJSONEncoder): never trust a zero.
        Usage usage = counted > 0 ? new Usage(counted, 0, false)
                : new Usage(inputs.stream().mapToInt(TokenEstimate::of).sum(), 0, true);
        return new Embeddings(vectors, usage, params.format());
    }

    /** The inputs, each within the model's context: cut (about four characters a token) or refused. */
    private List<String> fit(EmbedParams params) throws JobFailure {
        int context = runtime.contextTokens();
        if (context <= 0) {
            return params.input();
        }
        List<String> out = new ArrayList<>(params.input().size());
        for (int i = 0; i < params.input().size(); i++) {
            String s = params.input().get(i);
            int tokens = TokenEstimate.of(s);
            if (tokens <= context) {
                out.add(s);
            } else if (params.truncate()) {
                out.add(s.substring(0, s.offsetByCodePoints(0, Math.min(s.codePointCount(0, s.length()), context * 4))));
            } else {
                throw new JobFailure(JobError.of(ErrorCode.CONTEXT_LENGTH_EXCEEDED, "input " + i + " is about " + tokens
                        + " tokens; the model's context holds " + context + " (send truncate true to cut it)"));
            }
        }
        return out;
    }

    /** The first {@code n} values, made unit length again (what OpenAI's {@code dimensions} does to its own models' vectors). */
    static float[] shorten(float[] v, int n) {
        double sum = 0;
        for (int i = 0; i < n; i++) {
            sum += (double) v[i] * v[i];
        }
        double norm = Math.sqrt(sum);
        float[] out = new float[n];
        for (int i = 0; i < n; i++) {
            out[i] = norm == 0 ? 0 : (float) (v[i] / norm);
        }
        return out;
    }
}
