package dalle2.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

class CommandsTest {

    @Test
    void everyPipelineRoleIsASubcommand() {
        CommandLine cli = new CommandLine(new Main());
        for (String name : new String[] {"up", "generate", "gateway", "prior-worker", "decoder-worker"}) {
            assertTrue(cli.getSubcommands().containsKey(name), name);
        }
    }

    @Test
    void withoutTheModelsTheFactoryRefusesNamingTheMissingOne() {
        ModelFactory.ModelsUnavailableException e = assertThrows(ModelFactory.ModelsUnavailableException.class,
                () -> ModelFactory.load(Path.of("target/no-models")));
        assertTrue(e.getMessage().startsWith("no clip model in"), e.getMessage());
    }

    @Test
    void generateFailsWithTheModelsMessageBeforeStartingAnything() {
        StringWriter err = new StringWriter();
        CommandLine cli = new CommandLine(new Main()).setErr(new PrintWriter(err));
        int code = cli.execute("generate", "a cat", "--n", "1", "--data-dir", "target/never-created",
                "--models", "target/no-models");
        assertEquals(1, code);
        assertTrue(err.toString().contains("no clip model in"), err.toString());
        assertTrue(!java.nio.file.Files.exists(Path.of("target/never-created")));
    }
}
