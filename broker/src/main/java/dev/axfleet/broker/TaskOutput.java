package dev.axfleet.broker;

/** What a finished job produced: one record per kind, in the kind's package, carried by its {@link JobResult}. */
public interface TaskOutput {
    Kind kind();

    /** What the worker's one log line per job says about it, e.g. {@code tokens=12+40 finish=stop}. */
    String logLine();

    /** The tokens the job took, for the kinds that count them (chat, embeddings); null for the others. */
    default Usage usage() {
        return null;
    }
}
