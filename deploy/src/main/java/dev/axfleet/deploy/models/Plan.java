package dev.axfleet.deploy.models;

import java.util.List;

/**
 * Whether models fit resident together on the card: the sum of their measured CMM footprints against the
 * card's 7040 MiB, keeping a margin (axllm's memory guard keeps 128 MiB free by default, and loading past the
 * card's memory can crash the driver: ../shared/axera.md §1.6, §8.5).
 */
record Plan(List<ModelCatalog.Entry> models, int totalMib, int marginMib) {

    int usedMib() {
        return models.stream().mapToInt(ModelCatalog.Entry::cmmMib).sum();
    }

    boolean fits() {
        return usedMib() + marginMib <= totalMib;
    }

    String describe() {
        StringBuilder sb = new StringBuilder();
        for (ModelCatalog.Entry m : models) {
            sb.append(String.format("  %-18s %5d MiB%s%n", m.id(), m.cmmMib(), m.estimated() ? "  (estimated, not measured)" : ""));
            sb.append(String.format("  %-18s           from %s%n", "", m.source()));
        }
        sb.append(String.format("  %-18s %5d MiB of %d MiB (keeping %d MiB free): %s%n", "together", usedMib(), totalMib, marginMib,
                fits() ? "fits" : "does NOT fit; run fewer models at once"));
        if (models.stream().anyMatch(ModelCatalog.Entry::estimated)) {
            sb.append("  an estimated footprint is a guess: check with axcl-smi info --cmm once the models are loaded\n");
        }
        return sb.toString();
    }
}
