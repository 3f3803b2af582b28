package dalle2.training;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.io.UncheckedIOException;
import java.util.Base64;
import java.util.Random;

/**
 * Saves and restores the exact state of a {@link Random} (its 48-bit seed and the cached second Gaussian of
 * {@link Random#nextGaussian()}), so a resumed trainer draws the same timesteps, noise and dropout masks as an
 * uninterrupted one. The JDK specifies Random's serial form, so the text is portable between JVMs.
 */
public final class RandomState {

    private RandomState() {
    }

    /** The state as Base64 text, for a checkpoint's JSON. */
    public static String encode(Random random) {
        if (random.getClass() != Random.class) {
            throw new IllegalArgumentException("only java.util.Random itself can be saved, not " + random.getClass().getName());
        }
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
            out.writeObject(random);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return Base64.getEncoder().encodeToString(bytes.toByteArray());
    }

    /** A Random that continues exactly where the encoded one stopped. */
    public static Random decode(String state) {
        try (ObjectInputStream in = new ObjectInputStream(new ByteArrayInputStream(Base64.getDecoder().decode(state)))) {
            Object value = in.readObject();
            if (value.getClass() != Random.class) {
                throw new IllegalArgumentException("not a saved java.util.Random: " + value.getClass().getName());
            }
            return (Random) value;
        } catch (IOException | ClassNotFoundException | IllegalArgumentException e) {
            throw new IllegalArgumentException("cannot restore the random state: " + e.getMessage(), e);
        }
    }
}
