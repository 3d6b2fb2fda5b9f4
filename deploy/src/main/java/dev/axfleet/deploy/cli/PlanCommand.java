package dev.axfleet.deploy.cli;

import dev.axfleet.deploy.Axfleet;
import dev.axfleet.deploy.models.ModelsCommand;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

/** {@code axfleet plan [MODEL...]}. */
@Command(name = "plan", description = "Whether models fit on the card together (7040 MiB of CMM, keeping models.margin_mib free); "
        + "exit 0 when they do, 1 when not.")
public final class PlanCommand implements Callable<Integer> {
    @ParentCommand
    Axfleet root;

    @Parameters(paramLabel = "MODEL", arity = "0..*", description = "model ids or aliases (none: the models pulled here)")
    List<String> models = List.of();

    @Override
    public Integer call() {
        return ModelsCommand.plan(root.settings(), models, root.out());
    }
}
