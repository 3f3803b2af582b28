package dalle2.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.Test;

class ThreadShareTest {

    @Test
    void aCallAloneGetsTheWholeBudgetAndCallsAtOnceSplitIt() {
        ThreadShare share = new ThreadShare(4, threads -> { });
        assertEquals(4, share.shareOf(1));
        assertEquals(2, share.shareOf(2));
        assertEquals(1, share.shareOf(3));
        assertEquals(1, share.shareOf(8), "never fewer than one thread");
    }

    @Test
    void aLeaseTakesItsShareAtTheNextStepAfterAnotherCallStartsOrEnds() throws Exception {
        List<Integer> applied = Collections.synchronizedList(new ArrayList<>());
        ThreadShare share = new ThreadShare(2, applied::add);
        try (ThreadShare.Lease first = share.begin()) {
            assertEquals(2, first.threads());
            Thread other = new Thread(() -> {
                try (ThreadShare.Lease second = share.begin()) {
                    assertEquals(1, second.threads());
                }
            });
            ThreadShare.Lease[] held = new ThreadShare.Lease[1];
            Thread holder = new Thread(() -> held[0] = share.begin());
            holder.start();
            holder.join();
            first.rebalance();
            assertEquals(1, first.threads(), "two calls running: one thread each");
            held[0].close();
            first.rebalance();
            assertEquals(2, first.threads(), "alone again: the whole budget");
            other.start();
            other.join();
        }
        assertEquals(0, share.running());
        assertEquals(List.of(2, 1, 1, 2, 1), applied, "counts applied, only when they change, on the calling threads");
    }

    @Test
    void aCallThatWantsFewerThreadsTakesNoMoreThanThatAndStillCountsAsRunning() {
        List<Integer> applied = Collections.synchronizedList(new ArrayList<>());
        ThreadShare share = new ThreadShare(4, applied::add);
        try (ThreadShare.Lease small = share.begin(1)) {
            assertEquals(1, small.threads(), "a small batch on one thread though four are free");
            assertEquals(1, share.running());
            try (ThreadShare.Lease big = share.begin(16)) {
                assertEquals(2, big.threads(), "its share of four with another call running, not 16");
            }
            small.rebalance();
            assertEquals(1, small.threads());
        }
        try (ThreadShare.Lease none = share.begin(0)) {
            assertEquals(1, none.threads(), "never fewer than one");
        }
    }
}
