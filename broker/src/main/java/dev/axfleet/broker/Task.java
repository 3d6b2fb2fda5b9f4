package dev.axfleet.broker;

/** What a job asks a worker to do; the chat worker takes {@code chat}, the image worker the rest. */
public enum Task implements WireName {
    CHAT, TXT2IMG, IMG2IMG, INTERROGATE;

    public boolean isImage() {
        return this != CHAT;
    }
}
