package dalle2.messages;

/** The schema version every message carries; a reader rejects versions it does not know. */
final class SchemaVersions {

    /** Version 1: the first published form of every message in this package. */
    static final int CURRENT = 1;

    private SchemaVersions() {
    }

    /** An absent version means the current one (convenient for hand-written Kafka submissions). */
    static int check(Integer version) {
        int v = version == null ? CURRENT : version;
        InvalidMessageException.require(v == CURRENT, "schema_version",
                "unsupported schema_version " + v + " (this build reads " + CURRENT + ")");
        return v;
    }
}
