package dalle2.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(10)
class DynamicBatcherTest {

    private record Task(String key, int id) {
    }

    @Test
    void aBatchTakesUpToMaxBatchCompatibleItemsOldestFirstAndLeavesOthersInPlace() throws Exception {
        DynamicBatcher<Task> batcher = new DynamicBatcher<>(3, Duration.ZERO, Task::key);
        for (Task t : List.of(new Task("a", 1), new Task("b", 2), new Task("a", 3), new Task("a", 4),
                new Task("a", 5))) {
            batcher.add(t);
        }
        assertEquals(List.of(new Task("a", 1), new Task("a", 3), new Task("a", 4)), batcher.nextBatch(Duration.ZERO));
        assertEquals(List.of(new Task("b", 2)), batcher.nextBatch(Duration.ZERO));
        assertEquals(List.of(new Task("a", 5)), batcher.nextBatch(Duration.ZERO));
        assertTrue(batcher.nextBatch(Duration.ofMillis(10)).isEmpty());
    }

    @Test
    void aBatchWaitsAtMostMaxWaitForLateItems() throws Exception {
        DynamicBatcher<Task> batcher = new DynamicBatcher<>(4, Duration.ofMillis(300), Task::key);
        ScheduledExecutorService later = Executors.newSingleThreadScheduledExecutor();
        try {
            batcher.add(new Task("a", 1));
            later.schedule(() -> batcher.add(new Task("a", 2)), 50, TimeUnit.MILLISECONDS);
            long start = System.nanoTime();
            List<Task> batch = batcher.nextBatch(Duration.ZERO);
            long waitedMs = (System.nanoTime() - start) / 1_000_000;
            assertEquals(2, batch.size(), "the late item joins the batch");
            assertTrue(waitedMs >= 250 && waitedMs < 1500, "waited " + waitedMs + " ms");

            batcher.add(new Task("a", 3));
            start = System.nanoTime();
            assertEquals(1, batcher.nextBatch(Duration.ZERO).size());
            assertTrue((System.nanoTime() - start) / 1_000_000 < 1500);
        } finally {
            later.shutdownNow();
        }
    }

    @Test
    void aFullBatchGoesWithoutWaiting() throws Exception {
        DynamicBatcher<Task> batcher = new DynamicBatcher<>(2, Duration.ofSeconds(5), Task::key);
        batcher.add(new Task("a", 1));
        batcher.add(new Task("a", 2));
        long start = System.nanoTime();
        assertEquals(2, batcher.nextBatch(Duration.ZERO).size());
        assertTrue((System.nanoTime() - start) / 1_000_000 < 1000);
    }

    @Test
    void aBatchDoesNotWaitForBatchMatesWhenNothingMoreIsOnItsWay() throws Exception {
        DynamicBatcher<Task> batcher = new DynamicBatcher<>(4, Duration.ofSeconds(30), Task::key);
        batcher.expectMore(false);
        batcher.add(new Task("a", 1));
        long start = System.nanoTime();
        assertEquals(List.of(new Task("a", 1)), batcher.nextBatch(Duration.ZERO));
        assertTrue((System.nanoTime() - start) / 1_000_000 < 5000, "went without waiting out the 30 s");
    }

    @Test
    void aWaitingBatchTakesWhatArrivesAndGoesOnceTheProducerHasNothingMore() throws Exception {
        DynamicBatcher<Task> batcher = new DynamicBatcher<>(4, Duration.ofSeconds(30), Task::key);
        ScheduledExecutorService later = Executors.newSingleThreadScheduledExecutor();
        try {
            batcher.expectMore(true);
            batcher.add(new Task("a", 1));
            later.schedule(() -> {
                batcher.add(new Task("a", 2));
                batcher.expectMore(false);
            }, 50, TimeUnit.MILLISECONDS);
            long start = System.nanoTime();
            List<Task> batch = batcher.nextBatch(Duration.ZERO);
            assertEquals(List.of(new Task("a", 1), new Task("a", 2)), batch, "the item handed over joins the batch");
            assertTrue((System.nanoTime() - start) / 1_000_000 < 5000, "went without waiting out the 30 s");
        } finally {
            later.shutdownNow();
        }
    }
}
