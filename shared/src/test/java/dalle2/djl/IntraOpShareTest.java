package dalle2.djl;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class IntraOpShareTest {

    @Test
    void aCallAloneGetsTheWholeBudgetAndCallsAtOnceSplitIt() {
        IntraOpShare share = new IntraOpShare(4);
        assertEquals(4, share.shareOf(1));
        assertEquals(2, share.shareOf(2));
        assertEquals(1, share.shareOf(3));
        assertEquals(1, share.shareOf(8), "never fewer than one thread");
    }

    @Test
    void aLeaseTakesItsShareAtTheNextStepAfterAnotherCallStartsOrEnds() throws Exception {
        IntraOpShare share = new IntraOpShare(2);
        try (IntraOpShare.Lease first = share.begin()) {
            assertEquals(2, first.threads());
            Thread other = new Thread(() -> {
                try (IntraOpShare.Lease second = share.begin()) {
                    assertEquals(1, second.threads());
                }
            });
            IntraOpShare.Lease[] held = new IntraOpShare.Lease[1];
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
    }
}
