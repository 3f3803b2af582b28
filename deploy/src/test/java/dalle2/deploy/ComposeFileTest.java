package dalle2.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** deploy/compose/compose.yaml against {@link ComposeValidator}, and the validator against broken files. */
class ComposeFileTest {

    private final ComposeValidator validator = new ComposeValidator(Repository.knownVariables());

    @Test
    void theComposeFileIsConsistent() throws IOException {
        String yaml = Files.readString(Repository.deploy().resolve("compose/compose.yaml"));
        List<Map<String, Object>> documents = Kustomize.documents(yaml);
        assertEquals(1, documents.size());
        assertEquals(List.of(), validator.problems(documents.get(0)));
        Set<String> services = ((Map<String, ?>) documents.get(0).get("services")).keySet();
        for (Role role : Role.values()) {
            assertTrue(services.contains(role.name), "no compose service for " + role.name + ": " + services);
        }
    }

    @Test
    void mistakesAreReported() {
        String valid = """
                services:
                  decoder-worker:
                    image: ${DALLE2_REGISTRY:-}dalle2-decoder-worker:${DALLE2_TAG:-0.1.0}
                    command: ["--device", "cpu"]
                    environment: {DALLE2_DEVICE: cpu}
                    healthcheck: {test: ["CMD", "busybox", "wget", "-q", "http://127.0.0.1:9102/readyz"]}
                    depends_on: {kafka: {condition: service_healthy}}
                    deploy: {replicas: 2}
                  kafka:
                    image: apache/kafka:4.4.0
                    volumes: ["kafka-data:/var/lib/kafka/data"]
                volumes:
                  kafka-data:
                """;
        assertEquals(List.of(), validator.problems(Kustomize.documents(valid).get(0)));
        Map<String, String> mistakes = Map.of(
                "dalle2-decoder-worker:", "dalle2-prior-worker:",
                "command: [\"--device\"", "command: [\"decoder-worker\", \"--device\"",
                "DALLE2_DEVICE", "DALLE2_DEVISE",
                "9102/readyz", "9101/readyz",
                "depends_on: {kafka", "depends_on: {zookeeper",
                "replicas: 2", "replicas: 13",
                "kafka-data:/var", "kafka-logs:/var",
                "    healthcheck:", "    healthchek:");
        mistakes.forEach((good, bad) -> {
            assertTrue(valid.contains(good), good);
            List<String> problems = validator.problems(Kustomize.documents(valid.replace(good, bad)).get(0));
            assertTrue(!problems.isEmpty(), "no problem reported for " + bad);
        });
    }
}
