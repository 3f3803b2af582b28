package dalle2.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import dalle2.messages.HyperParameters;
import dalle2.trainer.worker.TrainingSettings;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import picocli.CommandLine;

/**
 * Every hyper-parameter a training job takes is an option of {@code dalle2 train <model>} (snake_case for
 * kebab-case), and a job that leaves it out gets the command line's default: the same settings train the same model
 * either way.
 */
class TrainerWorkerDefaultsTest {

    @ParameterizedTest
    @ValueSource(strings = {"clip", "prior", "decoder", "upsampler"})
    void eachHyperParameterIsATrainOptionWithTheSameDefault(String model) {
        CommandLine.Model.CommandSpec train = new CommandLine(new Main()).getSubcommands().get("train")
                .getSubcommands().get(model).getCommandSpec();
        Map<String, Object> workerDefaults = TrainingSettings.defaults(model);
        assertEquals(HyperParameters.of(model).keySet(), workerDefaults.keySet(), "a default for each hyper-parameter");
        for (Map.Entry<String, HyperParameters.Kind> p : HyperParameters.of(model).entrySet()) {
            String flag = "--" + p.getKey().replace('_', '-');
            CommandLine.Model.OptionSpec option = train.findOption(flag);
            assertNotNull(option, model + " jobs take " + p.getKey() + " but dalle2 train " + model + " has no " + flag);
            String cliDefault = option.defaultValue();
            if (model.equals("upsampler") && p.getKey().equals("image_size")) {
                cliDefault = Integer.toString(TrainCommand.UpsamplerTrainer.DEFAULT_IMAGE_SIZE); // set in call()
            }
            assertEquals(parsed(p.getValue(), cliDefault), normalised(workerDefaults.get(p.getKey())),
                    model + " " + flag);
        }
    }

    private static Object parsed(HyperParameters.Kind kind, String text) {
        return switch (kind) {
            case INTEGER -> Long.parseLong(text);
            case NUMBER -> Double.parseDouble(text);
            case BOOLEAN -> text != null && Boolean.parseBoolean(text);
            case STRING -> text;
            case INTEGER_LIST -> Arrays.stream(text.split(",")).map(String::trim).map(Integer::parseInt).toList();
            case STRING_LIST -> Arrays.stream(text.split(",")).map(String::trim).toList();
        };
    }

    private static Object normalised(Object value) {
        if (value instanceof Integer i) {
            return (long) i;
        }
        return value instanceof List<?> list ? List.copyOf(list) : value;
    }
}
