package dalle2.data;

import java.util.ArrayList;
import java.util.Collection;
import java.util.EnumMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * Counts the items a dataset skipped, by reason, and keeps the first few as examples a person can look at.
 * Thread-safe: images decode lazily, possibly on several threads. A report made with {@link #combined} is a
 * read-only view over the reports of the datasets in a mixture.
 */
public final class DatasetReport {

    /** Why an item was skipped. */
    public enum Reason {
        MISSING_FILE("missing file"),
        CORRUPT_IMAGE("corrupt image"),
        EMPTY_CAPTION("empty caption"),
        BAD_JSON("unreadable JSON line"),
        BAD_LABEL("label out of range"),
        NO_IMAGE("caption without image"),
        NO_CAPTION("image without caption"),
        BAD_PATH("image path outside the dataset folder"),
        CORRUPT_ARCHIVE("unreadable archive"),
        UNKNOWN_EMOJI("no emoji name for the drawing"),
        DUPLICATE("drawing of an emoji already drawn");

        private final String label;

        Reason(String label) {
            this.label = label;
        }

        public String label() {
            return label;
        }
    }

    /** One skipped item. */
    public record Skip(String source, String itemId, Reason reason, String detail) {
        @Override
        public String toString() {
            return source + " " + itemId + ": " + reason.label() + (detail == null || detail.isBlank() ? "" : " (" + detail + ")");
        }
    }

    public static final int MAX_EXAMPLES = 20;

    private final Map<Reason, Long> counts = new EnumMap<>(Reason.class);
    private final List<Skip> examples = new ArrayList<>();
    private final List<DatasetReport> parts;

    public DatasetReport() {
        this.parts = List.of();
    }

    private DatasetReport(List<DatasetReport> parts) {
        this.parts = parts;
    }

    /** A live, read-only sum of several reports (the same report given twice counts once). */
    public static DatasetReport combined(Collection<DatasetReport> reports) {
        Set<DatasetReport> leaves = new LinkedHashSet<>();
        for (DatasetReport r : reports) {
            leaves.addAll(Objects.requireNonNull(r).leaves());
        }
        if (leaves.size() == 1) {
            return leaves.iterator().next();
        }
        return new DatasetReport(List.copyOf(leaves));
    }

    private List<DatasetReport> leaves() {
        return parts.isEmpty() ? List.of(this) : parts;
    }

    public void skip(String source, String itemId, Reason reason, String detail) {
        if (!parts.isEmpty()) {
            throw new IllegalStateException("a combined report is read-only");
        }
        synchronized (this) {
            counts.merge(reason, 1L, Long::sum);
            if (examples.size() < MAX_EXAMPLES) {
                examples.add(new Skip(source, itemId, reason, detail));
            }
        }
    }

    /** Skipped items per reason (reasons with none are absent), in the order of {@link Reason}. */
    public Map<Reason, Long> counts() {
        Map<Reason, Long> sum = new EnumMap<>(Reason.class);
        for (DatasetReport leaf : leaves()) {
            synchronized (leaf) {
                leaf.counts.forEach((k, v) -> sum.merge(k, v, Long::sum));
            }
        }
        return sum;
    }

    public long skipped(Reason reason) {
        return counts().getOrDefault(reason, 0L);
    }

    public long skipped() {
        return counts().values().stream().mapToLong(Long::longValue).sum();
    }

    /** The first skipped items (up to {@link #MAX_EXAMPLES} per report). */
    public List<Skip> examples() {
        List<Skip> all = new ArrayList<>();
        for (DatasetReport leaf : leaves()) {
            synchronized (leaf) {
                all.addAll(leaf.examples);
            }
        }
        return List.copyOf(all);
    }

    /** One line: "3 skipped (missing file 2, corrupt image 1)" or "0 skipped". */
    public String summary() {
        Map<Reason, Long> c = counts();
        long total = c.values().stream().mapToLong(Long::longValue).sum();
        if (total == 0) {
            return "0 skipped";
        }
        StringBuilder sb = new StringBuilder().append(total).append(" skipped (");
        String sep = "";
        for (Map.Entry<Reason, Long> e : c.entrySet()) {
            sb.append(sep).append(e.getKey().label()).append(' ').append(e.getValue());
            sep = ", ";
        }
        return sb.append(')').toString();
    }

    @Override
    public String toString() {
        return summary();
    }
}
