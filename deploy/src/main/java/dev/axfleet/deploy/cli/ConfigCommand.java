package dev.axfleet.deploy.cli;

import dev.axfleet.deploy.Axfleet;
import dev.axfleet.deploy.UserError;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine;

/** {@code axfleet config check [FILE]}. */
@Command(name = "config", description = "The settings file.", subcommands = {CommandLine.HelpCommand.class})
public final class ConfigCommand implements Runnable {
    @ParentCommand
    Axfleet root;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(root.out());
    }

    @Command(name = "check", description = "Name every unknown setting and bad value with its line; exit 0 when there is none.")
    int check(@Parameters(paramLabel = "FILE", arity = "0..1",
            description = "the file (default: AXFLEET_CONFIG, else /etc/axfleet/axfleet.conf)") Path file) throws Exception {
        Path f = file != null ? file : Path.of(System.getenv().getOrDefault("AXFLEET_CONFIG", "/etc/axfleet/axfleet.conf"));
        if (!Files.isRegularFile(f)) {
            throw new UserError(f + " does not exist" + (file == null ? " (the installer writes it; AXFLEET_CONFIG names another)" : ""));
        }
        ConfigCheck checker = ConfigCheck.shipped();
        List<ConfigCheck.Problem> problems = checker.check(f);
        for (ConfigCheck.Problem p : problems) {
            root.out().println(f + (p.line() > 0 ? ":" + p.line() : "") + ": " + p.message());
        }
        root.out().println(f + ": " + (problems.isEmpty() ? "every setting is known and its value valid" : problems.size() + " problem(s)"));
        return problems.isEmpty() ? 0 : 1;
    }
}
