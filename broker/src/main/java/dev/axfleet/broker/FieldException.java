package dev.axfleet.broker;

/** A JSON field at fault, named the way the request spelled it (e.g. {@code params.messages[2].role}). */
public final class FieldException extends Exception {
    private final String field;

    public FieldException(String field, String message) {
        super(message);
        this.field = field;
    }

    public String field() {
        return field;
    }
}
