package dev.axfleet.worker.runtime;

import java.time.Duration;
import java.util.List;

/**
 * A runtime that is {@code axllm serve} run for another kind of work than chat (images, embeddings): the process is
 * kept exactly as {@link AxllmServeRuntime} keeps a chat model's, and the subclass adds the routes of its kind.
 */
public abstract class AxllmUpstream implements ModelRuntime {
    protected final AxllmServeRuntime process;

    protected AxllmUpstream(AxllmServeRuntime.Config config) {
        this.process = new AxllmServeRuntime(config);
    }

    @Override
    public void start(Duration timeout) throws RuntimeStartException {
        process.start(timeout);
    }

    @Override
    public boolean healthy() {
        return process.healthy();
    }

    @Override
    public void restart(String why, Duration timeout) throws RuntimeStartException {
        process.restart(why, timeout);
    }

    @Override
    public boolean emulated() {
        return process.emulated();
    }

    @Override
    public List<Long> pids() {
        return process.pids();
    }

    @Override
    public int contextTokens() {
        return process.contextTokens();
    }

    @Override
    public void close() {
        process.close();
    }
}
