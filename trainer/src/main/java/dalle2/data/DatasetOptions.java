package dalle2.data;

import java.util.Objects;

/**
 * How a dataset is opened: the square size its images are delivered at, what happens to bad items, and the report
 * that counts the skipped ones (datasets opened together can share one report).
 */
public record DatasetOptions(int imageSize, BadItemPolicy policy, DatasetReport report) {

    public static final int MIN_SIZE = 4;
    public static final int MAX_SIZE = 1024;

    public DatasetOptions {
        if (imageSize < MIN_SIZE || imageSize > MAX_SIZE) {
            throw new IllegalArgumentException("image size must be in [" + MIN_SIZE + ", " + MAX_SIZE + "], got " + imageSize);
        }
        Objects.requireNonNull(policy, "policy");
        Objects.requireNonNull(report, "report");
    }

    /** Skips bad items into a fresh report. */
    public static DatasetOptions of(int imageSize) {
        return new DatasetOptions(imageSize, BadItemPolicy.SKIP, new DatasetReport());
    }

    public DatasetOptions strict() {
        return new DatasetOptions(imageSize, BadItemPolicy.STRICT, report);
    }

    public boolean isStrict() {
        return policy == BadItemPolicy.STRICT;
    }

    /**
     * Records a bad item: counted under SKIP, thrown under STRICT. Readers call this for every item they drop, at
     * indexing time and when an image fails to decode.
     */
    public void badItem(String source, String itemId, DatasetReport.Reason reason, String detail) {
        if (isStrict()) {
            throw new DatasetException("bad item " + itemId + " in " + source + ": " + reason.label()
                    + (detail == null || detail.isBlank() ? "" : " (" + detail + ")"));
        }
        report.skip(source, itemId, reason, detail);
    }
}
