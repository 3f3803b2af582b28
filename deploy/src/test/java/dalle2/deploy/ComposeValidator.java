package dalle2.deploy;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Checks a compose file without the docker client ({@code docker compose config} is the real check where it
 * exists): known service fields, each role's image and ports, variables a process reads, and references between
 * services and volumes. Variables are taken at their {@code ${NAME:-default}} defaults.
 */
final class ComposeValidator {

    private static final Set<String> TOP_LEVEL = Set.of("name", "services", "volumes", "networks", "configs",
            "secrets", "include");
    /** The service fields this project uses or may reasonably use (compose specification). */
    private static final Set<String> SERVICE = Set.of("image", "build", "command", "entrypoint", "environment",
            "env_file", "ports", "expose", "volumes", "healthcheck", "depends_on", "restart", "stop_grace_period",
            "stop_signal", "deploy", "profiles", "hostname", "user", "networks", "labels", "logging", "ulimits",
            "working_dir", "read_only", "tmpfs", "shm_size", "mem_limit", "cpus", "extra_hosts", "container_name",
            "init", "security_opt", "cap_drop", "cap_add", "devices", "runtime", "scale");
    private static final Pattern VARIABLE = Pattern.compile("\\$\\{([A-Za-z0-9_]+)(?::?-([^}]*))?}");

    private final Set<String> knownVariables;

    ComposeValidator(Set<String> knownVariables) {
        this.knownVariables = knownVariables;
    }

    @SuppressWarnings("unchecked")
    List<String> problems(Map<String, Object> compose) {
        List<String> problems = new ArrayList<>();
        compose.keySet().stream().filter(k -> !TOP_LEVEL.contains(k) && !k.startsWith("x-"))
                .forEach(k -> problems.add("unknown top-level field " + k));
        Map<String, Object> services = compose.get("services") instanceof Map<?, ?> s
                ? (Map<String, Object>) s : Map.of();
        Set<String> volumes = compose.get("volumes") instanceof Map<?, ?> v
                ? ((Map<String, Object>) v).keySet() : Set.of();
        Map<String, String> hostPorts = new HashMap<>();
        services.forEach((name, raw) -> {
            Map<String, Object> service = (Map<String, Object>) raw;
            String where = "service " + name;
            service.keySet().stream().filter(k -> !SERVICE.contains(k) && !k.startsWith("x-"))
                    .forEach(k -> problems.add(where + ": unknown field " + k));
            dependencies(service).stream().filter(d -> !services.containsKey(d))
                    .forEach(d -> problems.add(where + ": depends on " + d + ", which is no service"));
            for (Object mount : list(service.get("volumes"))) {
                String source = resolve(String.valueOf(mount)).split(":")[0];
                if (!source.startsWith("/") && !source.startsWith(".") && !volumes.contains(source)) {
                    problems.add(where + ": mounts volume " + source + ", which is not declared");
                }
            }
            for (Object port : list(service.get("ports"))) {
                String published = resolve(String.valueOf(port));
                String host = published.substring(0, published.lastIndexOf(':'));
                String previous = hostPorts.put(host, name);
                if (previous != null) {
                    problems.add(where + ": publishes " + host + ", as " + previous + " does");
                }
            }
            Role.named(name).ifPresent(role -> checkRole(role, service, where, problems));
        });
        return problems;
    }

    @SuppressWarnings("unchecked")
    private void checkRole(Role role, Map<String, Object> service, String where, List<String> problems) {
        String image = resolve(String.valueOf(service.get("image")));
        if (!Role.ofImage(image).equals(Optional.of(role))) {
            problems.add(where + ": runs image " + image + ", not " + role.image());
        }
        List<Object> command = list(service.get("command"));
        if (!command.isEmpty() && Role.named(String.valueOf(command.get(0))).isPresent()) {
            problems.add(where + ": command starts with a role (" + command.get(0) + "); the image's entrypoint "
                    + "already is `dalle2 " + role.name + "`, so the command holds its options only");
        }
        Map<String, Object> environment = service.get("environment") instanceof Map<?, ?> e
                ? (Map<String, Object>) e : Map.of();
        environment.keySet().stream().filter(k -> k.startsWith("DALLE2_") && !knownVariables.contains(k))
                .forEach(k -> problems.add(where + ": " + k + " is read by no process"));
        if (service.get("healthcheck") instanceof Map<?, ?> health) {
            String test = String.join(" ", list(health.get("test")).stream().map(String::valueOf).toList());
            if (!test.contains(":" + role.port + "/")) {
                problems.add(where + ": healthcheck " + test + " does not ask the role's port " + role.port);
            }
            if (test.contains("curl")) {
                problems.add(where + ": healthcheck uses curl, which the images do not have (busybox wget)");
            }
        } else {
            problems.add(where + ": no healthcheck");
        }
        for (Object port : list(service.get("ports"))) {
            String published = resolve(String.valueOf(port));
            if (!published.endsWith(":" + role.port)) {
                problems.add(where + ": publishes container port " + published + ", not the role's " + role.port);
            }
        }
        if (role.isWorker() && service.get("deploy") instanceof Map<?, ?> deploy
                && deploy.get("replicas") instanceof Integer replicas && replicas > role.partitions()) {
            problems.add(where + ": " + replicas + " replicas > the " + role.partitions() + " partitions of "
                    + role.topic);
        }
    }

    @SuppressWarnings("unchecked")
    private static List<String> dependencies(Map<String, Object> service) {
        Object d = service.get("depends_on");
        if (d instanceof Map<?, ?> map) {
            return ((Map<String, Object>) map).keySet().stream().toList();
        }
        return list(d).stream().map(String::valueOf).toList();
    }

    @SuppressWarnings("unchecked")
    private static List<Object> list(Object value) {
        return value instanceof List<?> l ? (List<Object>) l : value == null ? List.of() : List.of(value);
    }

    /** The text with each {@code ${NAME:-default}} replaced by its default (empty without one). */
    static String resolve(String text) {
        Matcher m = VARIABLE.matcher(text);
        StringBuilder out = new StringBuilder();
        while (m.find()) {
            m.appendReplacement(out, Matcher.quoteReplacement(m.group(2) == null ? "" : m.group(2)));
        }
        m.appendTail(out);
        return out.toString();
    }
}
