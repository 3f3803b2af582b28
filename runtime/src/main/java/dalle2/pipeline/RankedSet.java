package dalle2.pipeline;

import java.util.Comparator;
import java.util.SplittableRandom;

/**
 * A sorted set that answers an element's rank (how many elements sort before it) in O(log n), as well as adding
 * and removing in O(log n): a treap (a binary search tree kept balanced in expectation by random heap priorities)
 * whose nodes count their subtrees.
 *
 * <p>Why not a {@link java.util.TreeSet} or a skip list: their {@code headSet(e).size()} walks every element
 * before {@code e}, so a poll of a job 10,000 places back in the queue cost 10,000 steps, and every status change
 * re-ranked each queued job an event stream follows.
 *
 * <p>Not thread-safe: {@link StatusView} guards it with its lock. Elements equal under the comparator are one
 * element. The priorities come from a fixed seed, so a sequence of operations always builds the same tree.
 */
final class RankedSet<E> {

    private static final class Node<E> {
        final E element;
        final int priority;
        Node<E> left;
        Node<E> right;
        int size = 1;

        Node(E element, int priority) {
            this.element = element;
            this.priority = priority;
        }

        Node<E> resized() {
            size = 1 + sizeOf(left) + sizeOf(right);
            return this;
        }
    }

    /** The two halves of a split: the elements before a key, and the key and those after it. */
    private record Halves<E>(Node<E> before, Node<E> rest) {
    }

    private final Comparator<? super E> order;
    private final SplittableRandom priorities = new SplittableRandom(0x5EED_0F_0E0E0EL);
    private Node<E> root;

    RankedSet(Comparator<? super E> order) {
        this.order = order;
    }

    int size() {
        return sizeOf(root);
    }

    boolean contains(E element) {
        return rank(element) >= 0;
    }

    /** @return false when an equal element is already there (the set is unchanged) */
    boolean add(E element) {
        if (contains(element)) {
            return false;
        }
        root = insert(root, new Node<>(element, priorities.nextInt()));
        return true;
    }

    /** @return false when no equal element was there */
    boolean remove(E element) {
        int before = size();
        root = remove(root, element);
        return size() < before;
    }

    /** How many elements sort before {@code element}: its 0-based position; −1 when it is not in the set. */
    int rank(E element) {
        int before = 0;
        Node<E> n = root;
        while (n != null) {
            int c = order.compare(element, n.element);
            if (c == 0) {
                return before + sizeOf(n.left);
            }
            if (c < 0) {
                n = n.left;
            } else {
                before += sizeOf(n.left) + 1;
                n = n.right;
            }
        }
        return -1;
    }

    private Node<E> insert(Node<E> n, Node<E> fresh) {
        if (n == null) {
            return fresh;
        }
        if (fresh.priority > n.priority) {
            Halves<E> halves = split(n, fresh.element);
            fresh.left = halves.before();
            fresh.right = halves.rest();
            return fresh.resized();
        }
        if (order.compare(fresh.element, n.element) < 0) {
            n.left = insert(n.left, fresh);
        } else {
            n.right = insert(n.right, fresh);
        }
        return n.resized();
    }

    /** The subtree of {@code n} without the element equal to {@code element}, if it holds one. */
    private Node<E> remove(Node<E> n, E element) {
        if (n == null) {
            return null;
        }
        int c = order.compare(element, n.element);
        if (c == 0) {
            return merge(n.left, n.right);
        }
        if (c < 0) {
            n.left = remove(n.left, element);
        } else {
            n.right = remove(n.right, element);
        }
        return n.resized();
    }

    private Halves<E> split(Node<E> n, E key) {
        if (n == null) {
            return new Halves<>(null, null);
        }
        if (order.compare(n.element, key) < 0) {
            Halves<E> right = split(n.right, key);
            n.right = right.before();
            return new Halves<>(n.resized(), right.rest());
        }
        Halves<E> left = split(n.left, key);
        n.left = left.rest();
        return new Halves<>(left.before(), n.resized());
    }

    /** Joins two subtrees where every element of {@code a} sorts before every element of {@code b}. */
    private Node<E> merge(Node<E> a, Node<E> b) {
        if (a == null) {
            return b;
        }
        if (b == null) {
            return a;
        }
        if (a.priority > b.priority) {
            a.right = merge(a.right, b);
            return a.resized();
        }
        b.left = merge(a, b.left);
        return b.resized();
    }

    private static int sizeOf(Node<?> n) {
        return n == null ? 0 : n.size;
    }
}
