package dev.axfleet.deploy;

import dev.axfleet.config.BuildInfo;
import dev.axfleet.config.Settings;
import dev.axfleet.deploy.cli.ConfigCommand;
import dev.axfleet.deploy.cli.GatewayCommand;
import dev.axfleet.deploy.cli.LoadCommand;
import dev.axfleet.deploy.cli.UnloadCommand;
import dev.axfleet.deploy.cli.MonitorCommand;
import dev.axfleet.deploy.cli.PlanCommand;
import dev.axfleet.deploy.cli.PsCommand;
import dev.axfleet.deploy.cli.RunCommand;
import dev.axfleet.deploy.cli.UpCommand;
import dev.axfleet.deploy.UserError;
import dev.axfleet.deploy.cli.WorkerCommand;
import dev.axfleet.deploy.doctor.DoctorCommand;
import dev.axfleet.deploy.models.ModelsCommand;
import java.io.InputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ScopeType;
import picocli.CommandLine.Spec;

/**
 * The {@code axfleet} command line (picocli). Adding a command is one class, named in {@code subcommands} below;
 * it reaches the settings and the output through {@link #settings()} and {@link #out()} of its parent.
 * Every command answers {@code -h}/{@code --help} with exit 0; an error ends in one line on stderr and exit 1
 * (a mistyped command line: the message and the usage, exit 2), never a stack trace ({@code AXFLEET_DEBUG=1}
 * shows it).
 */
@Command(name = "axfleet", mixinStandardHelpOptions = true, scope = ScopeType.INHERIT, versionProvider = Axfleet.Version.class,
        usageHelpAutoWidth = true,
        description = "Generative AI from the AX650 card over MQTT: resident workers, a gateway with the OpenAI, Ollama and "
                + "AUTOMATIC1111 APIs, a card monitor. Settings: /etc/axfleet/axfleet.conf (AXFLEET_CONFIG) and AXFLEET_* variables.",
        subcommands = {UpCommand.class, WorkerCommand.class, GatewayCommand.class, MonitorCommand.class, ModelsCommand.class,
                PlanCommand.class, LoadCommand.class, UnloadCommand.class, PsCommand.class, RunCommand.class, ConfigCommand.class,
                DoctorCommand.class, CommandLine.HelpCommand.class})
public final class Axfleet implements Runnable {
    @Spec
    CommandSpec spec;

    private Settings settings;
    private InputStream in;
    private PrintStream out;
    private PrintStream err;

    public static void main(String[] args) {
        System.exit(run(args, null, System.out, System.err));
    }

    /**
     * Runs one command line; returns its exit status. {@code settings} null: read them when a command first asks
     * ({@code AXFLEET_CONFIG}, /etc/axfleet/axfleet.conf, the environment).
     */
    public static int run(String[] args, Settings settings, PrintStream out, PrintStream err) {
        return run(args, settings, System.in, out, err);
    }

    /** As {@link #run(String[], Settings, PrintStream, PrintStream)}, reading a person's input from {@code in}. */
    public static int run(String[] args, Settings settings, InputStream in, PrintStream out, PrintStream err) {
        Axfleet root = new Axfleet();
        root.settings = settings;
        root.in = in;
        root.out = out;
        root.err = err;
        CommandLine cl = new CommandLine(root);
        cl.setOut(new PrintWriter(out, true, StandardCharsets.UTF_8));
        cl.setErr(new PrintWriter(err, true, StandardCharsets.UTF_8));
        cl.setExecutionExceptionHandler((e, line, parsed) -> {
            err.println(line.getCommandSpec().qualifiedName() + ": " + UserError.describe(e));
            if (System.getenv("AXFLEET_DEBUG") != null) {
                e.printStackTrace(err);
            }
            return e instanceof UserError u ? u.exitCode() : 1;
        });
        return cl.execute(args);
    }

    /** The settings every command reads, loaded once. */
    public Settings settings() {
        if (settings == null) {
            settings = Settings.fromEnvironment();
        }
        return settings;
    }

    public InputStream in() {
        return in;
    }

    public PrintStream out() {
        return out;
    }

    public PrintStream err() {
        return err;
    }

    @Override
    public void run() {
        spec.commandLine().usage(out);
    }

    /** {@code axfleet --version}: axfleet's version and the commit it was built from (BuildInfo). */
    public static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            return new String[] {"axfleet " + BuildInfo.current().describe(), "Java " + System.getProperty("java.version")};
        }
    }
}
