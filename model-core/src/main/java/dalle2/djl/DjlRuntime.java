package dalle2.djl;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDManager;

/**
 * The one place that prepares DJL for this project's processes.
 *
 * <p>DJL "calls home" by default: {@code Engine.getInstance()} and the HuggingFace tokenizer try to reach a
 * cloud metadata address and a model hub. No process of this project may open a connection it was not
 * configured with, so {@link #configure()} switches DJL offline and opts out of tracking before the first
 * DJL class is touched. Every entry point (main methods, trainers, tests) calls it first.
 */
public final class DjlRuntime {

    /** System property that keeps DJL from downloading anything (engine, models, tokenizers). */
    public static final String OFFLINE = "ai.djl.offline";
    /** DJL reads this as an environment variable or a system property. */
    public static final String OPT_OUT_TRACKING = "OPT_OUT_TRACKING";
    /** Intra-op threads of libtorch (default: all cores). */
    public static final String NUM_THREADS = "ai.djl.pytorch.num_threads";
    /** Inter-op threads of libtorch; 1 is best for the small graphs this project runs. */
    public static final String NUM_INTEROP_THREADS = "ai.djl.pytorch.num_interop_threads";

    /**
     * System property: {@code false} runs every network's inference op by op from Java instead of as one
     * compiled TorchScript call ({@link dalle2.script.ScriptedForward}); for measuring the difference.
     */
    public static final String SCRIPTED_FORWARD = "dalle2.scripted_forward";

    private static volatile boolean configured;

    private DjlRuntime() {
    }

    /** Sets DJL's offline and tracking switches and default thread counts; idempotent and cheap. */
    public static synchronized void configure() {
        if (configured) {
            return;
        }
        System.setProperty(OFFLINE, "true");
        System.setProperty(OPT_OUT_TRACKING, "true");
        if (System.getProperty(NUM_THREADS) == null) {
            System.setProperty(NUM_THREADS, Integer.toString(Runtime.getRuntime().availableProcessors()));
        }
        if (System.getProperty(NUM_INTEROP_THREADS) == null) {
            System.setProperty(NUM_INTEROP_THREADS, "1");
        }
        configured = true;
    }

    /** Sets the libtorch thread count; only effective before the engine first loads. */
    public static synchronized void threads(int intraOp) {
        if (intraOp < 1) {
            throw new IllegalArgumentException("threads must be >= 1, got " + intraOp);
        }
        System.setProperty(NUM_THREADS, Integer.toString(intraOp));
        configure();
    }

    /**
     * Runs inference with autograd off. PyTorch's grad mode is per thread and on by default: DJL switches it
     * off only on the thread that loaded the engine, so on a worker thread every op would record a graph
     * (slower, and memory held until the outputs are closed).
     */
    public static <T> T withoutGradients(java.util.function.Supplier<T> work) {
        if (!"PyTorch".equals(engine().getEngineName())) {
            return work.get();
        }
        boolean was = ai.djl.pytorch.jni.JniUtils.isGradMode();
        ai.djl.pytorch.jni.JniUtils.setGradMode(false);
        try {
            return work.get();
        } finally {
            ai.djl.pytorch.jni.JniUtils.setGradMode(was);
        }
    }

    /** The intra-op thread budget {@link #configure} set for this process's model calls. */
    public static int intraOpThreads() {
        configure();
        return Integer.parseInt(System.getProperty(NUM_THREADS));
    }

    /** Sets libtorch's intra-op thread count of the calling thread (an OpenMP setting per thread). */
    public static void setIntraOpThreadsOfCallingThread(int threads) {
        if ("PyTorch".equals(engine().getEngineName())) {
            ai.djl.pytorch.jni.JniUtils.setNumThreads(threads);
        }
    }

    /**
     * Whether an inference forward pass may run as compiled TorchScript now: on by default
     * ({@link #SCRIPTED_FORWARD}), and only with autograd off on this thread, so a pass whose result is
     * differentiated always runs op by op.
     */
    public static boolean scriptedForwardNow() {
        return !"false".equals(System.getProperty(SCRIPTED_FORWARD))
                && "PyTorch".equals(engine().getEngineName()) && !ai.djl.pytorch.jni.JniUtils.isGradMode();
    }

    /** The PyTorch engine, configured first. */
    public static Engine engine() {
        configure();
        return Engine.getEngine("PyTorch");
    }

    /** A new root manager on the PyTorch engine's CPU device, configured first. */
    public static NDManager newManager() {
        return engine().newBaseManager();
    }
}
