package dev.axfleet.broker;

/** What a job asks a worker to do. Image tasks join this set with the image worker. */
public enum Task implements WireName {
    CHAT
}
