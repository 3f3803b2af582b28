package dalle2.trainer;

/**
 * A training task over the items of a {@link TrainingCorpus}: an epoch runs over a sample table (corpus
 * indices, some sources repeated), and a batch of table positions maps to corpus items here, once for all
 * three worker types.
 */
abstract class CorpusTrainingTask implements TrainingTask {

    private final int[] table;

    CorpusTrainingTask(int[] table) {
        if (table.length == 0) {
            throw new IllegalArgumentException("the training set is empty");
        }
        this.table = table;
    }

    @Override
    public final int size() {
        return table.length;
    }

    /** The corpus items of a batch of table positions. */
    final int[] items(int[] batch) {
        int[] items = new int[batch.length];
        for (int b = 0; b < batch.length; b++) {
            items[b] = table[batch[b]];
        }
        return items;
    }
}
