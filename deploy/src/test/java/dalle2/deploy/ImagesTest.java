package dalle2.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The images the {@code images} profile builds (deploy/target/images/dalle2-ROLE.tar), read from their tarballs:
 * entrypoint, non-root user, exposed port and environment, and what they carry: the gateway no model runtime,
 * the workers libtorch and the shipped models. Skipped where the images were not built.
 */
class ImagesTest {

    @ParameterizedTest(name = "{0}")
    @EnumSource(Role.class)
    void theImageIsConfiguredForItsRole(Role role) throws IOException {
        ImageTarball image = image(role);
        JsonNode c = image.container();
        assertEquals(List.of(role.image() + ":" + manifestsTag(role)), image.tags,
                "the image's name and tag must be the ones the Kubernetes manifests pull");

        String user = c.path("User").asText("");
        assertFalse(user.isEmpty(), "no User: the container would run as root");
        assertNotEquals("0", user.split(":")[0]);
        assertNotEquals("root", user.split(":")[0]);
        assertEquals("10001:10001", user);

        List<String> entrypoint = new ArrayList<>();
        c.path("Entrypoint").forEach(a -> entrypoint.add(a.asText()));
        assertEquals("/bin/sh", entrypoint.get(0), entrypoint.toString());
        String command = entrypoint.get(2);
        assertTrue(command.startsWith("exec java "), "java must be PID 1 to get SIGTERM: " + command);
        assertTrue(command.contains("-Dai.djl.offline=true"), command);
        assertTrue(command.contains("-cp @/app/jib-classpath-file"), command);
        String main = role == Role.GATEWAY ? "dalle2.gateway.GatewayMain" : "dalle2.cli.Main " + role.name + " \"$@\"";
        assertTrue(command.contains(main), "expected " + main + " in " + command);
        assertTrue(c.path("Cmd").isMissingNode() || c.path("Cmd").isNull() || c.path("Cmd").isEmpty(),
                "arguments are the role's options; the image needs none: " + c.path("Cmd"));

        assertTrue(c.path("ExposedPorts").has(role.port + "/tcp"), c.path("ExposedPorts").toString());
        assertEquals("/app", c.path("WorkingDir").asText());

        Map<String, String> env = environment(c);
        assertEquals("-XX:MaxRAMPercentage=50", env.get("DALLE2_JAVA_OPTS"));
        if (role == Role.GATEWAY) {
            assertEquals("0.0.0.0", env.get("DALLE2_HOST"), "a gateway on loopback is unreachable in a pod");
            assertEquals(String.valueOf(role.port), env.get("DALLE2_PORT"));
        } else {
            assertEquals("true", env.get("DJL_OFFLINE"));
            assertEquals("true", env.get("OPT_OUT_TRACKING"));
            assertEquals("/var/cache/djl", env.get("DJL_CACHE_DIR"));
            assertEquals("/app/trained_models", env.get("DALLE2_MODELS"));
        }
        if (role == Role.TRAINER_WORKER) {
            assertEquals("/app/trained_models/clip", env.get("DALLE2_CLIP"), "the shipped CLIP for prior and decoder jobs");
            assertEquals("/data", env.get("DALLE2_DATA_DIR"), "the datasets volume the manifests mount");
            assertTrue(env.get("DALLE2_TRAINER_WORK_DIR").startsWith("/tmp/"), "writable with a read-only root");
            assertEquals("/tmp/.cache", env.get("XDG_CACHE_HOME"), "fontconfig's cache, writable by any uid");
        }
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(Role.class)
    void theImageCarriesWhatItsRoleNeedsAndNoMore(Role role) throws IOException {
        List<String> files = image(role).files();
        assertTrue(files.contains("app/jib-classpath-file"), "the entrypoint's -cp @/app/jib-classpath-file");
        assertTrue(files.contains("opt/java/bin/java"));
        assertTrue(files.contains("bin/sh"));
        assertTrue(files.contains("var/cache/djl/"), "DJL's cache folder");
        List<String> modelRuntime = files.stream()
                .filter(f -> f.startsWith("app/libs/") && (f.contains("djl") || f.contains("pytorch")
                        || f.startsWith("app/libs/api-0") || f.contains("tokenizers-")))
                .toList();
        if (role == Role.GATEWAY) {
            assertEquals(List.of(), modelRuntime, "the gateway image must carry no model runtime");
            assertTrue(files.stream().noneMatch(f -> f.startsWith("app/trained_models/")), "no models either");
            assertTrue(files.contains("app/logback.xml"));
        } else {
            assertTrue(modelRuntime.stream().anyMatch(f -> f.matches("app/libs/pytorch-native-cpu-.*\\.jar")),
                    "libtorch comes in DJL's native jar (DJL never downloads it): " + modelRuntime);
            for (String model : new String[] {"clip", "prior", "decoder", "upsampler"}) {
                assertTrue(files.contains("app/trained_models/" + model + "/weights.safetensors"),
                        "the shipped " + model + " model");
            }
            List<String> notForWorkers = files.stream().filter(f -> f.startsWith("app/libs/")
                    && (f.contains("kafka_2.13") || f.contains("s3proxy") || f.contains("scala-library")
                    || f.contains("jclouds") || f.matches("app/libs/embedded-.*"))).toList();
            assertEquals(List.of(), notForWorkers, "a worker image carries no embedded broker or S3 server");
        }
        boolean fonts = files.stream().anyMatch(f -> f.startsWith("usr/share/fonts/truetype/dejavu/"));
        assertEquals(role == Role.TRAINER_WORKER, fonts, "fonts only where text is drawn (the trainer's loss plots)");
    }

    private static ImageTarball image(Role role) throws IOException {
        Path tar = Repository.images().resolve(role.image() + ".tar");
        assumeTrue(Files.isRegularFile(tar), tar + " is not built: run deploy/images/build-base-image.sh, then "
                + "mvn -B -Pimages -DskipTests -pl gateway,worker-images -am package (deploy/README.md, \"Images\")");
        return ImageTarball.read(tar);
    }

    /** The tag the kustomization that deploys this role gives its image. */
    @SuppressWarnings("unchecked")
    private static String manifestsTag(Role role) throws IOException {
        String kustomization = switch (role) {
            case UPSAMPLER_WORKER -> "k8s/components/upsampler/kustomization.yaml";
            case TRAINER_WORKER -> "k8s/components/trainer/kustomization.yaml";
            default -> "k8s/base/kustomization.yaml";
        };
        Map<String, Object> k = Kustomize.documents(Files.readString(Repository.deploy().resolve(kustomization)))
                .get(0);
        for (Object entry : (List<Object>) k.get("images")) {
            Map<String, Object> image = (Map<String, Object>) entry;
            if (role.image().equals(image.get("name"))) {
                return String.valueOf(image.get("newTag"));
            }
        }
        throw new AssertionError(kustomization + " names no image " + role.image());
    }

    private static Map<String, String> environment(JsonNode container) {
        Map<String, String> env = new HashMap<>();
        container.path("Env").forEach(e -> {
            String[] kv = e.asText().split("=", 2);
            env.put(kv[0], kv.length > 1 ? kv[1] : "");
        });
        return env;
    }
}
