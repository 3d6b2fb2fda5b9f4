package dev.axfleet.worker;

/** What a runner may do while its job runs; the job loop publishes it on the job's topics. */
public interface RunContext {
    /** A piece of a streamed answer (published only when the job asked to stream); thinking apart from the answer. */
    void delta(String text, boolean thinking);

    /**
     * A piece of a streamed audio answer (speech), published in order only when the job asked to stream, as audio messages
     * of at most {@code maxMessageBytes} each, envelope included; {@code last} marks the answer's final piece (it may be
     * empty).
     *
     * @return how many messages carried it
     */
    int audio(byte[] audio, boolean last, int maxMessageBytes);

    /** Steps done so far of those the job runs (image jobs; AUTOMATIC1111's /progress follows them). */
    void progress(int done, int total);

    /** True when the job was cancelled or the worker is stopping: the runner ends as soon as it can. */
    boolean cancelled();

    /** Whether any part of the answer went out already (a retry would repeat it). */
    boolean streamed();

    /** Something the job's result should say: a request not honoured, a figure the runtime would not vouch for. */
    void warn(String warning);
}
