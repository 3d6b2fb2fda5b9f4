package dev.axfleet.deploy.doctor;

import dev.axfleet.worker.transcribe.AsrServerRuntime;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

/**
 * A transcription model's folder as asr_server reads it (docs/hardware.md U34): {@code --model_path} must hold
 * {@code whisper/SIZE/} or {@code sensevoice/} with the files {@link AsrServerRuntime#modelFiles} names, as ax_asr_api's
 * download_models.sh lays them out; {@code axfleet models pull} leaves the Hugging Face repository as it is
 * ({@code models-ax650/SIZE/} in AXERA-TECH/Whisper, download_models.sh copies {@code Whisper/models-ax650/*} into
 * {@code whisper/}). Doctor says which, and runs its asr_server checks on a folder of links when the pull's layout is not
 * the one asr_server reads.
 */
final class AsrFolder {
    private AsrFolder() {
    }

    /** The files asr_server opens for {@code asrModel} that {@code dir} lacks, relative to it. */
    static List<Path> missing(Path dir, String asrModel) {
        return AsrServerRuntime.modelFiles(asrModel).stream().filter(f -> !Files.isRegularFile(dir.resolve(f))).toList();
    }

    /** The folder inside {@code dir} that holds every file asr_server opens for {@code asrModel} (by name), or null. */
    static Path locate(Path dir, String asrModel) {
        List<Path> files = AsrServerRuntime.modelFiles(asrModel);
        String first = files.get(0).getFileName().toString();
        try (Stream<Path> all = Files.walk(dir, 5)) {
            return all.filter(p -> p.getFileName() != null && p.getFileName().toString().equals(first) && Files.isRegularFile(p))
                    .map(Path::getParent)
                    .filter(d -> files.stream().allMatch(f -> Files.isRegularFile(d.resolve(f.getFileName()))))
                    .sorted().findFirst().orElse(null);
        } catch (IOException e) {
            return null;
        }
    }

    /** The folder asr_server wants its files in, under {@code --model_path}: {@code whisper/SIZE} or {@code sensevoice}. */
    static Path wanted(String asrModel) {
        return AsrServerRuntime.modelFiles(asrModel).get(0).getParent();
    }

    /**
     * The commands that make {@code dir} what asr_server reads, when its files are in {@code found}: a link named as
     * asr_server wants ({@code whisper} to the repository's {@code models-ax650}, or {@code whisper/SIZE} to a size's folder).
     */
    static String fix(Path dir, String asrModel, Path found) {
        Path wanted = wanted(asrModel);
        if (wanted.getNameCount() == 2 && found.getFileName().equals(wanted.getFileName())) {
            return "sudo ln -sfn " + found.getParent() + " " + dir.resolve(wanted.getParent());
        }
        return (wanted.getNameCount() == 2 ? "sudo mkdir -p " + dir.resolve(wanted.getParent()) + " && " : "") + "sudo ln -sfn " + found + " "
                + dir.resolve(wanted);
    }

    /**
     * What to give asr_server as {@code --model_path} for {@code asrModel} in {@code dir}: {@code dir} itself when it is laid
     * out as asr_server reads it; else a folder of links under {@code linksRoot} (doctor's own) to where the files are; null
     * when they are nowhere in {@code dir}.
     */
    static Path serverPath(Path dir, String asrModel, Path linksRoot) {
        if (missing(dir, asrModel).isEmpty()) {
            return dir;
        }
        Path found = locate(dir, asrModel);
        if (found == null) {
            return null;
        }
        Path root = linksRoot.resolve(asrModel);
        Path link = root.resolve(wanted(asrModel));
        try {
            Files.createDirectories(link.getParent());
            Files.deleteIfExists(link);
            Files.createSymbolicLink(link, found.toAbsolutePath());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot link " + link + " to " + found + ": " + e.getMessage(), e);
        }
        return root;
    }
}
