package dalle2.deploy;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerPort;
import io.fabric8.kubernetes.api.model.EnvFromSource;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.HTTPGetAction;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.Probe;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServicePort;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.autoscaling.v2.HorizontalPodAutoscaler;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * Checks a rendered set of Kubernetes documents the way an API server would not until apply time, and beyond:
 * every built-in object is read into its Kubernetes API type (fabric8's model) and any field the type does not
 * have is reported, so a misspelt field fails instead of being dropped; KEDA's ScaledObjects, a CRD, are checked
 * against the fields KEDA 2.x defines. Then the references between objects: env and envFrom to ConfigMaps and
 * Secrets, Services and probes to container ports, autoscalers and budgets to Deployments, images to roles, and
 * every {@code DALLE2_*} variable to one the code reads.
 */
final class ManifestValidator {

    private static final Map<String, Class<?>> TYPES = Map.of(
            "v1/Namespace", Namespace.class,
            "v1/ConfigMap", ConfigMap.class,
            "v1/Secret", Secret.class,
            "v1/Service", Service.class,
            "v1/PersistentVolumeClaim", PersistentVolumeClaim.class,
            "apps/v1/Deployment", Deployment.class,
            "autoscaling/v2/HorizontalPodAutoscaler", HorizontalPodAutoscaler.class,
            "policy/v1/PodDisruptionBudget", PodDisruptionBudget.class);

    private static final String SCALED_OBJECT = "keda.sh/v1alpha1/ScaledObject";
    /** ScaledObject spec fields of KEDA 2.x (keda.sh/v1alpha1). */
    private static final Set<String> SCALED_OBJECT_SPEC = Set.of("scaleTargetRef", "pollingInterval",
            "cooldownPeriod", "initialCooldownPeriod", "idleReplicaCount", "minReplicaCount", "maxReplicaCount",
            "fallback", "advanced", "triggers");
    private static final Set<String> SCALE_TARGET_REF = Set.of("apiVersion", "kind", "name", "envSourceContainerName");
    private static final Set<String> TRIGGER = Set.of("type", "name", "metadata", "authenticationRef",
            "metricType", "useCachedMetrics");
    /** The Kafka scaler's metadata, those this project needs first. */
    private static final Set<String> KAFKA_REQUIRED = Set.of("bootstrapServers", "consumerGroup", "topic",
            "lagThreshold");
    private static final Set<String> KAFKA_METADATA = Set.of("bootstrapServers", "consumerGroup", "topic",
            "lagThreshold", "activationLagThreshold", "offsetResetPolicy", "allowIdleConsumers",
            "scaleToZeroOnInvalidOffset", "excludePersistentLag", "limitToPartitionsWithLag", "partitionLimitation",
            "version", "sasl", "tls");

    private final ObjectMapper mapper = new ObjectMapper()
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);
    private final Set<String> knownVariables;
    /** Secrets the operator creates (deploy/k8s/base/secret.example.yaml): name to keys. */
    private final Map<String, Set<String>> externalSecrets;

    ManifestValidator(Set<String> knownVariables, Map<String, Set<String>> externalSecrets) {
        this.knownVariables = knownVariables;
        this.externalSecrets = externalSecrets;
    }

    /** What is wrong with these documents, one line each; empty when nothing is. */
    List<String> problems(List<Map<String, Object>> documents) {
        Manifests m = new Manifests();
        List<String> problems = new ArrayList<>();
        for (Map<String, Object> doc : documents) {
            read(doc, m, problems);
        }
        m.secrets.putAll(externalSecrets);
        m.deployments.values().forEach(d -> checkDeployment(d, m, problems));
        m.configMaps.forEach((name, keys) -> keys.stream().filter(k -> k.startsWith("DALLE2_"))
                .filter(k -> !knownVariables.contains(k))
                .forEach(k -> problems.add("ConfigMap " + name + ": " + k + " is read by no process")));
        m.services.forEach(s -> checkService(s, m, problems));
        m.autoscalers.forEach(h -> checkAutoscaler(h, m, problems));
        m.budgets.forEach(b -> checkBudget(b, m, problems));
        m.scaledObjects.forEach(so -> checkScaledObject(so, m, problems));
        checkEveryPoolScales(m, problems);
        return problems;
    }

    private void read(Map<String, Object> doc, Manifests m, List<String> problems) {
        String apiVersion = Objects.toString(doc.get("apiVersion"), null);
        String kind = Objects.toString(doc.get("kind"), null);
        Object metadata = doc.get("metadata");
        String name = metadata instanceof Map<?, ?> meta ? Objects.toString(meta.get("name"), null) : null;
        if (apiVersion == null || kind == null || name == null) {
            problems.add("a document lacks apiVersion, kind or metadata.name: " + doc.keySet());
            return;
        }
        String type = apiVersion + "/" + kind;
        String where = kind + " " + name;
        if (type.equals(SCALED_OBJECT)) {
            m.scaledObjects.add(doc);
            return;
        }
        Class<?> javaType = TYPES.get(type);
        if (javaType == null) {
            problems.add(where + ": no schema for " + type + " here (add its type to ManifestValidator)");
            return;
        }
        Object typed;
        try {
            typed = mapper.convertValue(quantitiesAsText(doc), javaType);
        } catch (IllegalArgumentException e) {
            problems.add(where + ": not a valid " + type + ": " + e.getMessage().lines().findFirst().orElse(""));
            return;
        }
        unknownFields(typed, kind, where, problems);
        if (typed instanceof Deployment d) {
            m.deployments.put(name, d);
        } else if (typed instanceof ConfigMap c) {
            m.configMaps.put(name, c.getData() == null ? Set.of() : c.getData().keySet());
            m.configMapData.put(name, c.getData() == null ? Map.of() : c.getData());
        } else if (typed instanceof Secret s) {
            Set<String> keys = new java.util.HashSet<>();
            if (s.getData() != null) {
                keys.addAll(s.getData().keySet());
            }
            if (s.getStringData() != null) {
                keys.addAll(s.getStringData().keySet());
            }
            m.secrets.put(name, keys);
        } else if (typed instanceof Service s) {
            m.services.add(s);
        } else if (typed instanceof HorizontalPodAutoscaler h) {
            m.autoscalers.add(h);
        } else if (typed instanceof PodDisruptionBudget b) {
            m.budgets.add(b);
        } else if (typed instanceof PersistentVolumeClaim claim) {
            m.claims.add(name);
            if (claim.getSpec() == null || claim.getSpec().getAccessModes() == null
                    || claim.getSpec().getAccessModes().isEmpty() || claim.getSpec().getResources() == null
                    || claim.getSpec().getResources().getRequests() == null
                    || !claim.getSpec().getResources().getRequests().containsKey("storage")) {
                problems.add(where + ": a claim needs accessModes and resources.requests.storage");
            }
        }
    }

    /**
     * The API server takes a resource quantity written as a YAML number ({@code nvidia.com/gpu: 1}); fabric8's
     * Quantity is read from text only, so the numbers under requests and limits are handed over as text.
     */
    @SuppressWarnings("unchecked")
    private static Object quantitiesAsText(Object node) {
        if (node instanceof Map<?, ?> map) {
            Map<String, Object> copy = new LinkedHashMap<>();
            map.forEach((k, v) -> {
                boolean quantities = "requests".equals(k) || "limits".equals(k);
                if (quantities && v instanceof Map<?, ?> amounts) {
                    Map<String, Object> text = new LinkedHashMap<>();
                    amounts.forEach((name, amount) -> text.put(String.valueOf(name),
                            amount instanceof Number ? amount.toString() : amount));
                    copy.put(String.valueOf(k), text);
                } else {
                    copy.put(String.valueOf(k), quantitiesAsText(v));
                }
            });
            return copy;
        }
        if (node instanceof List<?> list) {
            return list.stream().map(ManifestValidator::quantitiesAsText).toList();
        }
        return node;
    }

    /**
     * fabric8's types keep fields they do not know in {@code additionalProperties} instead of failing: any entry
     * there is a field the Kubernetes API does not have at that place.
     */
    private static void unknownFields(Object node, String path, String where, List<String> problems) {
        if (node == null) {
            return;
        }
        if (node instanceof Collection<?> items) {
            int i = 0;
            for (Object item : items) {
                unknownFields(item, path + "[" + i++ + "]", where, problems);
            }
            return;
        }
        if (node instanceof Map<?, ?> map) {
            map.forEach((k, v) -> unknownFields(v, path + "." + k, where, problems));
            return;
        }
        if (!node.getClass().getName().startsWith("io.fabric8.")) {
            return;
        }
        for (Method getter : node.getClass().getMethods()) {
            if (getter.getParameterCount() != 0 || Modifier.isStatic(getter.getModifiers())
                    || !getter.getName().startsWith("get") || getter.getName().equals("getClass")) {
                continue;
            }
            Object value;
            try {
                value = getter.invoke(node);
            } catch (ReflectiveOperationException e) {
                continue;
            }
            if (getter.getName().equals("getAdditionalProperties")) {
                if (value instanceof Map<?, ?> extra && !extra.isEmpty()) {
                    problems.add(where + ": unknown field(s) " + extra.keySet() + " at " + path);
                }
            } else if (value != null && !(value instanceof String) && !(value instanceof Number)
                    && !(value instanceof Boolean)) {
                String property = Character.toLowerCase(getter.getName().charAt(3)) + getter.getName().substring(4);
                unknownFields(value, path + "." + property, where, problems);
            }
        }
    }

    private void checkDeployment(Deployment d, Manifests m, List<String> problems) {
        String where = "Deployment " + d.getMetadata().getName();
        Map<String, String> selector = d.getSpec().getSelector().getMatchLabels();
        Map<String, String> labels = d.getSpec().getTemplate().getMetadata().getLabels();
        if (selector == null || labels == null || !labels.entrySet().containsAll(selector.entrySet())) {
            problems.add(where + ": selector " + selector + " does not match its pod labels " + labels);
        }
        var pod = d.getSpec().getTemplate().getSpec();
        Set<String> volumes = new java.util.HashSet<>();
        for (Volume v : pod.getVolumes()) {
            volumes.add(v.getName());
            if (v.getPersistentVolumeClaim() != null && !m.claims.contains(v.getPersistentVolumeClaim().getClaimName())) {
                problems.add(where + ": volume " + v.getName() + " claims " + v.getPersistentVolumeClaim().getClaimName()
                        + ", which no PersistentVolumeClaim here is");
            }
        }
        Map<String, String> annotations = d.getSpec().getTemplate().getMetadata().getAnnotations();
        for (Container c : pod.getContainers()) {
            String at = where + " container " + c.getName();
            Map<String, Integer> ports = new LinkedHashMap<>();
            for (ContainerPort p : c.getPorts()) {
                ports.put(p.getName() == null ? "" : p.getName(), p.getContainerPort());
            }
            checkImage(c, at, ports, problems);
            for (EnvFromSource from : c.getEnvFrom()) {
                if (from.getConfigMapRef() != null && !m.configMaps.containsKey(from.getConfigMapRef().getName())) {
                    problems.add(at + ": envFrom names ConfigMap " + from.getConfigMapRef().getName()
                            + ", which does not exist");
                }
                if (from.getSecretRef() != null && !m.secrets.containsKey(from.getSecretRef().getName())) {
                    problems.add(at + ": envFrom names Secret " + from.getSecretRef().getName()
                            + ", which neither the manifests nor secret.example.yaml define");
                }
            }
            for (EnvVar e : c.getEnv()) {
                if (e.getName().startsWith("DALLE2_") && !knownVariables.contains(e.getName())) {
                    problems.add(at + ": " + e.getName() + " is read by no process");
                }
                if (e.getValueFrom() != null && e.getValueFrom().getConfigMapKeyRef() != null) {
                    var ref = e.getValueFrom().getConfigMapKeyRef();
                    if (!m.configMaps.getOrDefault(ref.getName(), Set.of()).contains(ref.getKey())) {
                        problems.add(at + ": " + e.getName() + " refers to ConfigMap key " + ref.getName() + "/"
                                + ref.getKey() + ", which does not exist");
                    }
                }
                if (e.getValueFrom() != null && e.getValueFrom().getSecretKeyRef() != null) {
                    var ref = e.getValueFrom().getSecretKeyRef();
                    if (!m.secrets.getOrDefault(ref.getName(), Set.of()).contains(ref.getKey())) {
                        problems.add(at + ": " + e.getName() + " refers to Secret key " + ref.getName() + "/"
                                + ref.getKey() + ", which does not exist");
                    }
                }
            }
            for (Probe probe : new Probe[] {c.getStartupProbe(), c.getLivenessProbe(), c.getReadinessProbe()}) {
                if (probe != null && probe.getHttpGet() != null) {
                    HTTPGetAction get = probe.getHttpGet();
                    if (resolve(get.getPort(), ports).isEmpty()) {
                        problems.add(at + ": a probe's port " + portText(get.getPort()) + " is none of its ports "
                                + ports);
                    }
                }
            }
            for (VolumeMount mount : c.getVolumeMounts()) {
                if (!volumes.contains(mount.getName())) {
                    problems.add(at + ": mounts volume " + mount.getName() + ", which the pod does not have");
                }
            }
            if (annotations != null && annotations.containsKey("prometheus.io/port")
                    && !ports.containsValue(Integer.parseInt(annotations.get("prometheus.io/port")))) {
                problems.add(at + ": prometheus.io/port " + annotations.get("prometheus.io/port")
                        + " is none of its ports " + ports);
            }
        }
    }

    /** A container runs its role's image (or the GPU decoder image) and listens on the role's port. */
    private static void checkImage(Container c, String at, Map<String, Integer> ports, List<String> problems) {
        Optional<Role> role = Role.named(c.getName());
        if (role.isEmpty()) {
            problems.add(at + ": no role of that name " + java.util.Arrays.toString(Role.values()));
            return;
        }
        String image = c.getImage() == null ? "" : c.getImage();
        boolean gpuDecoder = role.get() == Role.DECODER_WORKER && Role.isGpuImage(image);
        if (!gpuDecoder && !Role.ofImage(image).equals(role)) {
            problems.add(at + ": runs image " + image + ", not " + role.get().image());
        }
        if (!image.substring(image.lastIndexOf('/') + 1).contains(":")) {
            problems.add(at + ": image " + image + " has no tag, so nodes would pull :latest");
        }
        if (!ports.containsValue(role.get().port)) {
            problems.add(at + ": does not declare its port " + role.get().port + " (declares " + ports + ")");
        }
    }

    private static void checkService(Service s, Manifests m, List<String> problems) {
        String where = "Service " + s.getMetadata().getName();
        Map<String, String> selector = s.getSpec().getSelector();
        List<Deployment> selected = m.deployments.values().stream().filter(d -> selects(selector, d)).toList();
        if (selected.isEmpty()) {
            problems.add(where + ": its selector " + selector + " matches no Deployment's pods");
            return;
        }
        for (ServicePort port : s.getSpec().getPorts()) {
            IntOrString target = port.getTargetPort() != null ? port.getTargetPort() : new IntOrString(port.getPort());
            for (Deployment d : selected) {
                Map<String, Integer> ports = new HashMap<>();
                d.getSpec().getTemplate().getSpec().getContainers().forEach(c -> c.getPorts().forEach(p ->
                        ports.put(p.getName() == null ? "" : p.getName(), p.getContainerPort())));
                if (resolve(target, ports).isEmpty()) {
                    problems.add(where + ": targetPort " + portText(target) + " is none of Deployment "
                            + d.getMetadata().getName() + "'s container ports " + ports);
                }
            }
        }
    }

    private static void checkAutoscaler(HorizontalPodAutoscaler h, Manifests m, List<String> problems) {
        var ref = h.getSpec().getScaleTargetRef();
        if (!"Deployment".equals(ref.getKind()) || !m.deployments.containsKey(ref.getName())) {
            problems.add("HorizontalPodAutoscaler " + h.getMetadata().getName() + ": scales " + ref.getKind() + " "
                    + ref.getName() + ", which is no Deployment here");
        }
    }

    private static void checkBudget(PodDisruptionBudget b, Manifests m, List<String> problems) {
        Map<String, String> selector = b.getSpec().getSelector().getMatchLabels();
        if (m.deployments.values().stream().noneMatch(d -> selects(selector, d))) {
            problems.add("PodDisruptionBudget " + b.getMetadata().getName() + ": its selector " + selector
                    + " matches no Deployment's pods");
        }
    }

    @SuppressWarnings("unchecked")
    private static void checkScaledObject(Map<String, Object> so, Manifests m, List<String> problems) {
        String name = String.valueOf(((Map<String, Object>) so.get("metadata")).get("name"));
        String where = "ScaledObject " + name;
        unknownKeys(so, Set.of("apiVersion", "kind", "metadata", "spec", "status"), where, problems);
        if (!(so.get("spec") instanceof Map<?, ?> rawSpec)) {
            problems.add(where + ": no spec");
            return;
        }
        Map<String, Object> spec = (Map<String, Object>) rawSpec;
        unknownKeys(spec, SCALED_OBJECT_SPEC, where + " spec", problems);
        if (!(spec.get("scaleTargetRef") instanceof Map<?, ?> rawRef) || rawRef.get("name") == null) {
            problems.add(where + ": spec.scaleTargetRef.name is required");
            return;
        }
        Map<String, Object> ref = (Map<String, Object>) rawRef;
        unknownKeys(ref, SCALE_TARGET_REF, where + " scaleTargetRef", problems);
        String target = String.valueOf(ref.get("name"));
        if (!m.deployments.containsKey(target) || !"Deployment".equals(ref.getOrDefault("kind", "Deployment"))) {
            problems.add(where + ": scaleTargetRef names " + target + ", which is no Deployment here");
        }
        int min = integer(spec.getOrDefault("minReplicaCount", 0), where, "minReplicaCount", problems);
        int max = integer(spec.getOrDefault("maxReplicaCount", 100), where, "maxReplicaCount", problems);
        if (min > max) {
            problems.add(where + ": minReplicaCount " + min + " > maxReplicaCount " + max);
        }
        if (!(spec.get("triggers") instanceof List<?> triggers) || triggers.isEmpty()) {
            problems.add(where + ": spec.triggers is required and not empty");
            return;
        }
        Optional<Role> role = Role.named(target);
        for (Object t : triggers) {
            if (!(t instanceof Map<?, ?> rawTrigger) || rawTrigger.get("type") == null) {
                problems.add(where + ": a trigger without a type");
                continue;
            }
            Map<String, Object> trigger = (Map<String, Object>) rawTrigger;
            unknownKeys(trigger, TRIGGER, where + " trigger", problems);
            if (!"kafka".equals(trigger.get("type"))) {
                continue;
            }
            Map<String, Object> meta = trigger.get("metadata") instanceof Map<?, ?> mm
                    ? (Map<String, Object>) mm : Map.of();
            unknownKeys(meta, KAFKA_METADATA, where + " kafka trigger", problems);
            KAFKA_REQUIRED.stream().filter(k -> meta.get(k) == null)
                    .forEach(k -> problems.add(where + ": kafka trigger lacks metadata." + k));
            if (role.isPresent() && role.get().isWorker()) {
                Role pool = role.get();
                if (!pool.topic.equals(meta.get("topic")) || !pool.consumerGroup.equals(meta.get("consumerGroup"))) {
                    problems.add(where + ": scales " + target + " on " + meta.get("consumerGroup") + "@"
                            + meta.get("topic") + ", but that pool is group " + pool.consumerGroup + " on "
                            + pool.topic);
                }
                if (max > pool.partitions()) {
                    problems.add(where + ": maxReplicaCount " + max + " > the " + pool.partitions()
                            + " partitions of " + pool.topic + " (the extra replicas would get no work)");
                }
            }
            Object kafka = m.configMapValue("dalle2-config", "DALLE2_KAFKA");
            if (kafka != null && !kafka.equals(meta.get("bootstrapServers"))) {
                problems.add(where + ": bootstrapServers " + meta.get("bootstrapServers")
                        + " is not the workers' DALLE2_KAFKA " + kafka);
            }
            m.scaledTargets.add(target);
        }
    }

    /** Every worker pool scales on its lag (KEDA); the gateway on CPU (an HPA). */
    private static void checkEveryPoolScales(Manifests m, List<String> problems) {
        for (String name : m.deployments.keySet()) {
            Optional<Role> role = Role.named(name);
            if (role.isPresent() && role.get().isWorker() && !m.scaledTargets.contains(name)) {
                problems.add("Deployment " + name + ": no KEDA ScaledObject scales this pool on its lag");
            }
            if (role.isPresent() && !role.get().isWorker() && m.autoscalers.stream()
                    .noneMatch(h -> name.equals(h.getSpec().getScaleTargetRef().getName()))) {
                problems.add("Deployment " + name + ": no HorizontalPodAutoscaler scales it");
            }
        }
    }

    private static void unknownKeys(Map<String, Object> map, Set<String> allowed, String where,
                                    List<String> problems) {
        map.keySet().stream().filter(k -> !allowed.contains(k))
                .forEach(k -> problems.add(where + ": unknown field " + k + " (known: " + allowed + ")"));
    }

    private static int integer(Object value, String where, String field, List<String> problems) {
        if (value instanceof Integer i) {
            return i;
        }
        problems.add(where + ": " + field + " must be an integer, got " + value);
        return 0;
    }

    private static boolean selects(Map<String, String> selector, Deployment d) {
        Map<String, String> labels = d.getSpec().getTemplate().getMetadata().getLabels();
        return selector != null && !selector.isEmpty() && labels != null
                && labels.entrySet().containsAll(selector.entrySet());
    }

    private static Optional<Integer> resolve(IntOrString port, Map<String, Integer> ports) {
        if (port == null) {
            return Optional.empty();
        }
        if (port.getIntVal() != null) {
            return ports.containsValue(port.getIntVal()) ? Optional.of(port.getIntVal()) : Optional.empty();
        }
        return Optional.ofNullable(ports.get(port.getStrVal()));
    }

    private static String portText(IntOrString port) {
        return port == null ? "null" : port.getIntVal() != null ? port.getIntVal().toString() : port.getStrVal();
    }

    /** The objects of one rendering, by kind. */
    private static final class Manifests {
        final Map<String, Deployment> deployments = new LinkedHashMap<>();
        final Map<String, Set<String>> configMaps = new LinkedHashMap<>();
        final Map<String, Map<String, String>> configMapData = new HashMap<>();
        final Map<String, Set<String>> secrets = new LinkedHashMap<>();
        final List<Service> services = new ArrayList<>();
        final List<HorizontalPodAutoscaler> autoscalers = new ArrayList<>();
        final List<PodDisruptionBudget> budgets = new ArrayList<>();
        final Set<String> claims = new java.util.HashSet<>();
        final List<Map<String, Object>> scaledObjects = new ArrayList<>();
        final Set<String> scaledTargets = new java.util.HashSet<>();

        Object configMapValue(String configMap, String key) {
            return configMapData.getOrDefault(configMap, Map.of()).get(key);
        }
    }
}
