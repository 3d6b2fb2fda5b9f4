package dev.axfleet.broker;

/** A process using the card, as {@code axcl-smi} lists it: pid, name and its NPU memory in KiB. */
public record CardProcess(long pid, String name, long npuMemoryKiB) {
}
