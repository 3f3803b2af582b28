package dalle2.cli;

import dalle2.djl.DjlRuntime;
import picocli.CommandLine.Command;
import picocli.CommandLine;

/** The {@code dalle2} command: one jar, one subcommand per process role or task. */
@Command(name = "dalle2", mixinStandardHelpOptions = true, version = "dalle2 0.1.0",
        description = "DALL-E 2 (unCLIP) text-to-image as a message-driven service.",
        subcommands = {CommandLine.HelpCommand.class, UpCommand.class, GenerateCommand.class, VaryCommand.class, GatewayCommand.class,
                PriorWorkerCommand.class, DecoderWorkerCommand.class, UpsamplerWorkerCommand.class,
                DataCommand.class, TrainCommand.class, TrainCommand.Embed.class, BenchCommand.class,
                TrainClassifierCommand.class, EvalCommand.class, PipelineBenchCommand.class, ClusterCommand.class,
                ModelsCommand.class, TrainerWorkerCommand.class, TrainingsCommand.class})
public final class Main implements Runnable {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    public static void main(String[] args) {
        DjlRuntime.configure();
        int exit = new CommandLine(new Main()).execute(args);
        System.exit(exit);
    }

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }
}
