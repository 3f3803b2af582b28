package dalle2.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The README's per-stage training commands are the recipe script's stages: the same trainers with the same
 * options, so a reader who runs them by hand trains what the project ships.
 */
class TrainingRecipeDocsTest {

    private static final Path ROOT = Path.of("..");
    private static final Pattern STEPS_DEFAULT = Pattern.compile("(\\w+)=\"\\$\\{\\w+:-([^}]+)}\"");

    @Test
    void theReadmesTrainingCommandsAreTheRecipesStagesOptionForOption() throws IOException {
        String script = Files.readString(ROOT.resolve("scripts/train-shipped-models.sh"));
        Map<String, String> defaults = new TreeMap<>();
        Matcher m = STEPS_DEFAULT.matcher(script);
        while (m.find()) {
            defaults.put(m.group(1), m.group(2));
        }
        List<Map<String, String>> recipe = new ArrayList<>();
        for (String command : commands(script, "retry ./dalle2 train ")) {
            for (Map.Entry<String, String> d : defaults.entrySet()) {
                command = command.replace("\"$" + d.getKey() + "\"", d.getValue());
            }
            command = command.replace("\"$runs/", "runs/").replace("\"$data\"", "data").replaceAll("(runs/\\S+?)\"", "$1");
            Map<String, String> options = options(command);
            options.remove("--data-dir");        // the script's DATA, the README's default
            recipe.add(options);
        }
        String readme = Files.readString(ROOT.resolve("README.md"));
        String block = readme.substring(readme.indexOf("The shipped models come from exactly these commands"));
        block = block.substring(block.indexOf("```bash"), block.indexOf("```", block.indexOf("```bash") + 7));
        List<Map<String, String>> documented = new ArrayList<>();
        for (String command : commands(block, "./dalle2 train ")) {
            documented.add(options(command));
        }

        assertFalse(recipe.isEmpty(), "the recipe has training stages");
        assertEquals(recipe, documented);
    }

    /** Each command starting with {@code prefix}, its continuation lines joined, comments dropped. */
    private static List<String> commands(String text, String prefix) {
        List<String> commands = new ArrayList<>();
        String joined = text.replace("\\\n", " ");
        for (String line : joined.split("\n")) {
            String trimmed = line.strip();
            if (trimmed.startsWith(prefix)) {
                int comment = trimmed.indexOf(" #");
                commands.add((comment < 0 ? trimmed : trimmed.substring(0, comment))
                        .substring(prefix.length() - "train ".length()));
            }
        }
        return commands;
    }

    /** "train MODEL --a 1 --flag --b 2" as {model: MODEL, --a: 1, --flag: "", --b: 2}. */
    private static Map<String, String> options(String command) {
        String[] words = command.strip().split("\\s+");
        Map<String, String> options = new TreeMap<>();
        options.put("model", words[1]);
        for (int i = 2; i < words.length; i++) {
            boolean hasValue = i + 1 < words.length && !words[i + 1].startsWith("--");
            options.put(words[i], hasValue ? words[++i] : "");
        }
        return options;
    }
}
