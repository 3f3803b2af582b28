package dalle2.data;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Set;

/**
 * A deterministic held-out split by a hash of each item's {@link ImageCaptionItem#splitKey()}: the same key is held
 * out in every run, on every machine, whatever else the dataset contains (no random state, no dependence on order),
 * and all items sharing a key fall on the same side.
 *
 * <p>Whole sources can be held out too ({@code emoji-openmoji} by default): a vendor never trained on, whose
 * drawings of trained names show whether a model learnt the names or memorised the other vendors' pictures.
 * Sources that are absent change nothing, so the split of google and twitter emoji is what it always was.
 *
 * @param fraction        the share of keys held out, in [0, 1)
 * @param heldOutSources  item sources (e.g. {@code emoji-openmoji}) never trained on, whatever their key
 */
public record HeldOutSplit(double fraction, Set<String> heldOutSources) {

    /** 5%: for emoji about 95 names out of 1,911 are never trained on; and the default held-out vendor. */
    public static final HeldOutSplit DEFAULT = new HeldOutSplit(0.05);

    public HeldOutSplit {
        if (!(fraction >= 0 && fraction < 1)) {
            throw new IllegalArgumentException("held-out fraction must be in [0, 1), got " + fraction);
        }
        heldOutSources = Set.copyOf(heldOutSources);
    }

    /** That fraction of names, and the default held-out vendor. */
    public HeldOutSplit(double fraction) {
        this(fraction, Set.of(EmojiVendor.DEFAULT_HELD_OUT.source()));
    }

    /** The same names held out, and this vendor ({@code null} or "none": no vendor). */
    public HeldOutSplit withHeldOutVendor(String vendor) {
        if (vendor == null || vendor.isBlank() || vendor.trim().equalsIgnoreCase("none")) {
            return new HeldOutSplit(fraction, Set.of());
        }
        return new HeldOutSplit(fraction, Set.of(EmojiVendor.parse(vendor).source()));
    }

    /** Whether the key (a name) is held out. */
    public boolean isHeldOut(String key) {
        return bucket(key) < fraction;
    }

    /** Never trained on: its name is held out, or its source is. */
    public boolean isHeldOut(ImageCaptionItem item) {
        return isHeldOutName(item) || isHeldOutSource(item);
    }

    public boolean isHeldOutName(ImageCaptionItem item) {
        return isHeldOut(item.splitKey());
    }

    public boolean isHeldOutSource(ImageCaptionItem item) {
        return heldOutSources.contains(item.source());
    }

    /** A uniform number in [0, 1) from the first 53 bits of SHA-256 of the key (UTF-8). */
    public static double bucket(String key) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(key.getBytes(StandardCharsets.UTF_8));
            long bits = ByteBuffer.wrap(digest).getLong() >>> 11;
            return bits * 0x1.0p-53;
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is required of every JVM", e);
        }
    }
}
