package dalle2.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Random;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

class RankedSetTest {

    @Test
    void ranksAreZeroBasedPositionsInSortedOrderAndMissingElementsRankMinusOne() {
        RankedSet<Integer> set = new RankedSet<>(Comparator.naturalOrder());
        for (int v : new int[] {50, 10, 40, 20, 30}) {
            assertTrue(set.add(v));
        }
        assertEquals(List.of(0, 1, 2, 3, 4), List.of(set.rank(10), set.rank(20), set.rank(30), set.rank(40),
                set.rank(50)));
        assertEquals(-1, set.rank(35));
        assertFalse(set.add(30), "an equal element is one element");
        assertEquals(5, set.size());
        assertTrue(set.remove(20));
        assertFalse(set.remove(20));
        assertEquals(2, set.rank(40));
        assertEquals(4, set.size());
    }

    /** The same random adds and removes against a TreeSet, whose headSet size is the rank by definition. */
    @Test
    void agreesWithTreeSetHeadSetSizesUnderRandomAddsAndRemoves() {
        Random random = new Random(7);
        RankedSet<Integer> set = new RankedSet<>(Comparator.naturalOrder());
        TreeSet<Integer> reference = new TreeSet<>();
        for (int step = 0; step < 20_000; step++) {
            int v = random.nextInt(2_000);
            if (random.nextInt(3) == 0) {
                assertEquals(reference.remove(v), set.remove(v));
            } else {
                assertEquals(reference.add(v), set.add(v));
            }
            if (step % 500 == 0) {
                assertEquals(reference.size(), set.size());
                for (int probe = 0; probe < 2_000; probe += 37) {
                    int expected = reference.contains(probe) ? reference.headSet(probe).size() : -1;
                    assertEquals(expected, set.rank(probe), "rank of " + probe + " at step " + step);
                }
            }
        }
    }

    /** A queue drained from its head while new elements arrive at its tail, as the job queue is. */
    @Test
    void keepsRanksThroughAQueueThatDrainsFromTheHead() {
        RankedSet<Long> set = new RankedSet<>(Comparator.naturalOrder());
        List<Long> live = new ArrayList<>();
        long next = 0;
        for (int round = 0; round < 5_000; round++) {
            set.add(next);
            live.add(next++);
            set.add(next);
            live.add(next++);
            assertTrue(set.remove(live.remove(0)));
        }
        assertEquals(live.size(), set.size());
        for (int i = 0; i < live.size(); i += 101) {
            assertEquals(i, set.rank(live.get(i)));
        }
    }
}
