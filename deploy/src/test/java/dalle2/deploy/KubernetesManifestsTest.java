package dalle2.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Every kustomization under deploy/k8s renders, and what it renders passes {@link ManifestValidator}. */
class KubernetesManifestsTest {

    private static final Path K8S = Repository.deploy().resolve("k8s");

    @BeforeAll
    static void kubectlIsThere() {
        assumeTrue(Kustomize.available(), "kubectl is not installed here: the Kubernetes manifests are not rendered "
                + "or checked (install kubectl 1.27+ for its built-in kustomize)");
    }

    /** The kustomizations that can be applied: base and every overlay (a Component is rendered through one). */
    static Stream<Path> kustomizations() throws IOException {
        return kustomizationFiles().filter(f -> read(f).contains("kind: Kustomization")).map(Path::getParent);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("kustomizations")
    void rendersToValidManifests(Path dir) throws IOException {
        List<Map<String, Object>> documents = Kustomize.render(dir);
        assertFalse(documents.isEmpty(), dir + " renders nothing");
        List<String> problems = validator().problems(documents);
        assertEquals(List.of(), problems, "kubectl kustomize " + K8S.getParent().getParent().relativize(dir));
    }

    @Test
    void everyComponentIsPartOfAnOverlay() throws IOException {
        List<Path> components = kustomizationFiles().filter(f -> read(f).contains("kind: Component"))
                .map(Path::getParent).toList();
        assertFalse(components.isEmpty());
        for (Path component : components) {
            String relative = "components/" + component.getFileName();
            boolean used = kustomizations().anyMatch(k -> read(k.resolve("kustomization.yaml")).contains(relative));
            assertTrue(used, component + " is rendered by no overlay, so it is never checked");
        }
    }

    @Test
    void theUpsamplerOverlayAddsThePoolAndTellsTheGateways() throws IOException {
        List<Map<String, Object>> documents = Kustomize.render(K8S.resolve("overlays/upsampler"));
        Map<String, String> kinds = new TreeMap<>();
        for (Map<String, Object> doc : documents) {
            kinds.put(doc.get("kind") + "/" + ((Map<?, ?>) doc.get("metadata")).get("name"), "");
        }
        assertTrue(kinds.containsKey("Deployment/upsampler-worker"), kinds.keySet().toString());
        assertTrue(kinds.containsKey("ScaledObject/upsampler-worker"), kinds.keySet().toString());
        Map<?, ?> config = documents.stream().filter(d -> "ConfigMap".equals(d.get("kind"))).findFirst()
                .map(d -> (Map<?, ?>) d.get("data")).orElseThrow();
        assertEquals("true", config.get("DALLE2_UPSAMPLER"));
    }

    @Test
    void theTrainingOverlayAddsTrainersThatScaleToZeroOnTheirJobsAndMountTheDatasets() throws IOException {
        List<Map<String, Object>> documents = Kustomize.render(K8S.resolve("overlays/training"));
        Map<String, Map<String, Object>> byKind = new TreeMap<>();
        for (Map<String, Object> doc : documents) {
            byKind.put(doc.get("kind") + "/" + ((Map<?, ?>) doc.get("metadata")).get("name"), doc);
        }
        assertTrue(byKind.containsKey("Deployment/trainer-worker"), byKind.keySet().toString());
        assertTrue(byKind.containsKey("PersistentVolumeClaim/dalle2-training-data"), byKind.keySet().toString());
        Map<?, ?> scaler = (Map<?, ?>) byKind.get("ScaledObject/trainer-worker").get("spec");
        assertEquals(0, scaler.get("minReplicaCount"), "no trainer runs while no training waits or runs");
        String trainer = documents.stream().filter(d -> d == byKind.get("Deployment/trainer-worker")).findFirst()
                .map(Object::toString).orElseThrow();
        assertTrue(trainer.contains("image=dalle2-trainer-worker:0.1.0"), trainer);
        assertTrue(trainer.contains("mountPath=/data, name=datasets"), trainer);
    }

    static ManifestValidator validator() throws IOException {
        return new ManifestValidator(Repository.knownVariables(), exampleSecrets());
    }

    /** The Secrets the operator creates, as secret.example.yaml lists them: name to keys. */
    static Map<String, Set<String>> exampleSecrets() throws IOException {
        Map<String, Set<String>> secrets = new HashMap<>();
        for (Map<String, Object> doc : Kustomize.documents(read(K8S.resolve("base/secret.example.yaml")))) {
            Set<String> keys = new HashSet<>();
            for (String field : new String[] {"data", "stringData"}) {
                if (doc.get(field) instanceof Map<?, ?> data) {
                    data.keySet().forEach(k -> keys.add(String.valueOf(k)));
                }
            }
            secrets.put(String.valueOf(((Map<?, ?>) doc.get("metadata")).get("name")), keys);
        }
        return secrets;
    }

    private static Stream<Path> kustomizationFiles() throws IOException {
        try (Stream<Path> files = Files.walk(K8S)) {
            return files.filter(f -> f.getFileName().toString().equals("kustomization.yaml")).sorted().toList()
                    .stream();
        }
    }

    private static String read(Path file) {
        try {
            return Files.readString(file);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
