package dalle2.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;

import java.awt.image.BufferedImage;
import java.util.HashSet;
import java.util.List;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

class CascadeNamesTest {

    private static final List<String> NAMES = IntStream.range(0, 40).mapToObj(i -> "name " + i).toList();
    private static final List<BufferedImage> BASE = NAMES.stream()
            .map(n -> new BufferedImage(1, 1, BufferedImage.TYPE_INT_RGB)).toList();

    @Test
    void withoutACapTheCascadeDrawsEveryNameWithTheEmojiSectionsImages() {
        EvalCommand.CascadeNames all = EvalCommand.CascadeNames.of(NAMES, BASE, null, 1);
        assertSame(NAMES, all.names());
        assertSame(BASE, all.base());
        assertSame(NAMES, EvalCommand.CascadeNames.of(NAMES, BASE, 40, 1).names(), "a cap of the list's size is none");
    }

    @Test
    void aCappedListIsASampleDrawnWithTheSeedNotTheFirstNames() {
        EvalCommand.CascadeNames sample = EvalCommand.CascadeNames.of(NAMES, BASE, 10, 1);
        assertEquals(10, sample.names().size());
        assertEquals(10, new HashSet<>(sample.names()).size(), "no name twice");
        assertNotEquals(NAMES.subList(0, 10), sample.names(), "the data's first names are grouped by kind");
        assertEquals(sample.names(), EvalCommand.CascadeNames.of(NAMES, BASE, 10, 1).names(), "the same seed, the same sample");
        assertNotEquals(sample.names(), EvalCommand.CascadeNames.of(NAMES, BASE, 10, 2).names());
        for (int i = 0; i < 10; i++) {
            int k = NAMES.indexOf(sample.names().get(i));
            assertSame(BASE.get(k), sample.base().get(i), "each name keeps its own base image");
        }
    }

    @Test
    void namesWithoutBaseImagesAreSampledAlone() {
        EvalCommand.CascadeNames sample = EvalCommand.CascadeNames.of(NAMES, null, 5, 3);
        assertEquals(5, sample.names().size());
        assertNull(sample.base());
    }
}
