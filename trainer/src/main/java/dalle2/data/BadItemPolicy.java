package dalle2.data;

/** What a dataset does with an item it cannot use (missing file, corrupt image, empty caption, bad JSON line). */
public enum BadItemPolicy {
    /** Skip the item and count it, with the reason, in the {@link DatasetReport}: an epoch never stops for one bad item. */
    SKIP,
    /** Stop at the first bad item with a {@link DatasetException} that names it. */
    STRICT
}
