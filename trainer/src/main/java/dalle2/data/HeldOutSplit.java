package dalle2.data;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/**
 * A deterministic held-out split by a hash of each item's {@link ImageCaptionItem#splitKey()}: the same key is held
 * out in every run, on every machine, whatever else the dataset contains (no random state, no dependence on order),
 * and all items sharing a key fall on the same side.
 *
 * @param fraction the share of keys held out, in [0, 1)
 */
public record HeldOutSplit(double fraction) {

    /** 5%: for emoji about 95 names out of 1,911 are never trained on. */
    public static final HeldOutSplit DEFAULT = new HeldOutSplit(0.05);

    public HeldOutSplit {
        if (!(fraction >= 0 && fraction < 1)) {
            throw new IllegalArgumentException("held-out fraction must be in [0, 1), got " + fraction);
        }
    }

    public boolean isHeldOut(String key) {
        return bucket(key) < fraction;
    }

    public boolean isHeldOut(ImageCaptionItem item) {
        return isHeldOut(item.splitKey());
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
