package dalle2.deploy;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/** Paths in the repository the tests check, and what its sources say. */
final class Repository {

    private static final Pattern VARIABLE = Pattern.compile("\\bDALLE2_[A-Z0-9_]*[A-Z0-9]\\b");

    private Repository() {
    }

    static Path root() {
        return Path.of(System.getProperty("dalle2.repository", "..")).toAbsolutePath().normalize();
    }

    static Path deploy() {
        return root().resolve("deploy");
    }

    static Path images() {
        return deploy().resolve("target").resolve("images");
    }

    /**
     * Every {@code DALLE2_*} name the Java sources mention (the CLI's options and the gateway's entry point read
     * them), and the ones the images' and the launcher's java command line expands ({@code DALLE2_JAVA_OPTS},
     * {@code DALLE2_THREADS}): a manifest setting a variable outside this set sets nothing, most likely a typo.
     */
    static Set<String> knownVariables() {
        Set<String> names = new TreeSet<>();
        // each module's main sources only: the repository root also holds data sets and training runs
        try (Stream<Path> modules = Files.list(root())) {
            for (Path sources : modules.map(m -> m.resolve("src/main/java")).filter(Files::isDirectory).toList()) {
                try (Stream<Path> files = Files.walk(sources)) {
                    files.filter(f -> f.toString().endsWith(".java")).forEach(f -> {
                        Matcher m = VARIABLE.matcher(read(f));
                        while (m.find()) {
                            names.add(m.group());
                        }
                    });
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        for (Path launcher : new Path[] {root().resolve("pom.xml"), root().resolve("dalle2")}) {
            Matcher m = VARIABLE.matcher(read(launcher));
            while (m.find()) {
                names.add(m.group());
            }
        }
        return names;
    }

    private static String read(Path file) {
        try {
            return Files.readString(file);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
