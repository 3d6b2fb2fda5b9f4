package dev.axfleet.broker;

/**
 * What a job asks a worker to do: the wire's {@code task} field, on jobs and on results. A job without one is a
 * chat job (microcontrollers send just a prompt). Each task belongs to one {@link Kind}.
 */
public enum Task implements WireName {
    CHAT(Kind.CHAT),
    TXT2IMG(Kind.IMAGE),
    IMG2IMG(Kind.IMAGE),
    INTERROGATE(Kind.INTERROGATION),
    EMBED(Kind.EMBEDDING),
    TRANSCRIBE(Kind.TRANSCRIPTION),
    SPEAK(Kind.SPEECH);

    private final Kind kind;

    Task(Kind kind) {
        this.kind = kind;
    }

    public Kind kind() {
        return kind;
    }

    /** Every task's wire name, for error messages. */
    public static String known() {
        return String.join(", ", java.util.Arrays.stream(values()).map(Task::wire).toList());
    }
}
