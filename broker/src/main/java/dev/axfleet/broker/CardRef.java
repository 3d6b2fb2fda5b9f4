package dev.axfleet.broker;

/**
 * One AX650 card: the host it is plugged into and its index there ({@code axcl-smi -d N}; the index, not
 * the AXCL device id, which is index + 1 on a single-card Pi: ../shared/axera.md §2.3).
 */
public record CardRef(String host, int index) {
    public CardRef {
        if (!Topics.isSegment(host)) {
            throw new IllegalArgumentException("card host must match [A-Za-z0-9._:-]{1,128}: " + host);
        }
        if (index < 0 || index > 255) {
            throw new IllegalArgumentException("card index must be 0..255: " + index);
        }
    }

    @Override
    public String toString() {
        return host + "/" + index;
    }
}
