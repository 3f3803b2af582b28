package dalle2.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

/** The validator bites: each deliberate mistake in an otherwise valid decoder pool is reported. */
class ManifestValidatorTest {

    private static final String VALID = """
            apiVersion: v1
            kind: ConfigMap
            metadata: {name: dalle2-config}
            data: {DALLE2_KAFKA: "kafka:9092", DALLE2_BUCKET: images}
            ---
            apiVersion: apps/v1
            kind: Deployment
            metadata: {name: decoder-worker}
            spec:
              selector: {matchLabels: {app: decoder-worker}}
              template:
                metadata:
                  labels: {app: decoder-worker}
                  annotations: {prometheus.io/port: "9102"}
                spec:
                  containers:
                    - name: decoder-worker
                      image: dalle2-decoder-worker:0.1.0
                      ports: [{name: ops, containerPort: 9102}]
                      envFrom: [{configMapRef: {name: dalle2-config}}, {secretRef: {name: dalle2-s3}}]
                      env: [{name: DALLE2_THREADS, value: "4"}]
                      readinessProbe: {httpGet: {path: /readyz, port: ops}}
                      volumeMounts: [{name: djl-cache, mountPath: /var/cache/djl}]
                  volumes: [{name: djl-cache, emptyDir: {}}]
            ---
            apiVersion: keda.sh/v1alpha1
            kind: ScaledObject
            metadata: {name: decoder-worker}
            spec:
              scaleTargetRef: {name: decoder-worker}
              minReplicaCount: 1
              maxReplicaCount: 12
              triggers:
                - type: kafka
                  metadata: {bootstrapServers: "kafka:9092", consumerGroup: decoder, topic: generation.embeddings,
                             lagThreshold: "4"}
            """;

    private final ManifestValidator validator = new ManifestValidator(
            Set.of("DALLE2_KAFKA", "DALLE2_BUCKET", "DALLE2_THREADS"),
            Map.of("dalle2-s3", Set.of("DALLE2_S3_KEY", "DALLE2_S3_SECRET")));

    @Test
    void theValidPoolHasNoProblems() {
        assertEquals(List.of(), validator.problems(Kustomize.documents(VALID)));
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        // a misspelt field, which kubectl apply --validate=false or an old client would drop silently
        "containers:|contianers:|unknown field(s) [contianers]",
        "readinessProbe:|readinesProbe:|unknown field(s) [readinesProbe]",
        // a value of the wrong type
        "minReplicaCount: 1|minReplicaCount: one|minReplicaCount must be an integer",
        "containerPort: 9102|containerPort: ninety|not a valid apps/v1/Deployment",
        // references to what does not exist
        "scaleTargetRef: {name: decoder-worker}|scaleTargetRef: {name: decoder}|which is no Deployment here",
        "{configMapRef: {name: dalle2-config}}|{configMapRef: {name: dalle2-conf}}|ConfigMap dalle2-conf, which does not exist",
        "{secretRef: {name: dalle2-s3}}|{secretRef: {name: dalle2-s4}}|Secret dalle2-s4, which neither",
        "port: ops}}|port: http}}|a probe's port http is none of its ports",
        "prometheus.io/port: \"9102\"|prometheus.io/port: \"9101\"|prometheus.io/port 9101 is none",
        "mountPath: /var/cache/djl|mountPath: /var/cache/djl}, {name: models, mountPath: /m|mounts volume models",
        // a variable no process reads
        "DALLE2_THREADS|DALLE2_THREAD|DALLE2_THREAD is read by no process",
        // the wrong image, pool or bounds
        "image: dalle2-decoder-worker:0.1.0|image: dalle2-prior-worker:0.1.0|not dalle2-decoder-worker",
        "image: dalle2-decoder-worker:0.1.0|image: dalle2-decoder-worker|has no tag",
        "maxReplicaCount: 12|maxReplicaCount: 13|> the 12 partitions of generation.embeddings",
        "consumerGroup: decoder|consumerGroup: prior|but that pool is group decoder",
        "bootstrapServers: \"kafka:9092\"|bootstrapServers: \"kafka:9093\"|is not the workers' DALLE2_KAFKA",
        "lagThreshold: \"4\"|lagThresold: \"4\"|unknown field lagThresold",
    })
    void aMistakeIsReported(String valid, String broken, String expected) {
        assertTrue(VALID.contains(valid), "the valid pool has no '" + valid + "' to break");
        List<String> problems = validator.problems(Kustomize.documents(VALID.replace(valid, broken)));
        assertTrue(problems.stream().anyMatch(p -> p.contains(expected)),
                "expected a problem containing '" + expected + "', got " + problems);
    }

    @Test
    void aPoolWithoutAScaledObjectIsReported() {
        String withoutScaler = VALID.substring(0, VALID.indexOf("---\napiVersion: keda.sh"));
        List<String> problems = validator.problems(Kustomize.documents(withoutScaler));
        assertTrue(problems.contains("Deployment decoder-worker: no KEDA ScaledObject scales this pool on its lag"),
                problems.toString());
    }

    @Test
    void aKindWithoutASchemaIsReportedNotSkipped() {
        List<String> problems = validator.problems(Kustomize.documents(VALID + """
                ---
                apiVersion: batch/v1
                kind: CronJob
                metadata: {name: sweep}
                """));
        assertTrue(problems.stream().anyMatch(p -> p.contains("no schema for batch/v1/CronJob")), problems.toString());
    }

    @Test
    void aVolumeClaimThatIsNotThereOrIsIncompleteIsReported() {
        String withClaim = VALID.replace("volumes: [{name: djl-cache, emptyDir: {}}]",
                "volumes: [{name: djl-cache, emptyDir: {}}, {name: data, persistentVolumeClaim: {claimName: datasets}}]")
                + """
                ---
                apiVersion: v1
                kind: PersistentVolumeClaim
                metadata: {name: datasets}
                spec: {accessModes: [ReadOnlyMany], resources: {requests: {storage: 20Gi}}}
                """;
        assertEquals(List.of(), validator.problems(Kustomize.documents(withClaim)));
        List<String> misnamed = validator.problems(Kustomize.documents(withClaim.replace("claimName: datasets",
                "claimName: dataset")));
        assertTrue(misnamed.stream().anyMatch(p -> p.contains("claims dataset, which no PersistentVolumeClaim")),
                misnamed.toString());
        List<String> sizeless = validator.problems(Kustomize.documents(withClaim.replace(
                ", resources: {requests: {storage: 20Gi}}", "")));
        assertTrue(sizeless.stream().anyMatch(p -> p.contains("needs accessModes and resources.requests.storage")),
                sizeless.toString());
    }
}
