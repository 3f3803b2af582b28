package dalle2.script;

import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.util.Pair;
import java.util.IdentityHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * Collects the body of a TorchScript {@code forward} method that a DJL block writes out as straight-line
 * source, one statement per line: the block's parameters are the elements of one list argument {@code w}, in
 * the block's own {@link Block#getParameters()} order, so {@link ScriptedForward} can pass the current arrays on
 * every call (weight loading and EMA swaps give parameters new storage).
 */
public final class ScriptWriter {

    /** The name of the forward method's weight-list argument. */
    public static final String WEIGHTS = "w";

    private final Map<Parameter, Integer> index = new IdentityHashMap<>();
    private final StringBuilder body = new StringBuilder();
    private int names;

    /** A writer for {@code root}'s forward pass; {@link #weight} knows every parameter of it. */
    public ScriptWriter(Block root) {
        int i = 0;
        for (Pair<String, Parameter> entry : root.getParameters()) {
            index.put(entry.getValue(), i++);
        }
    }

    /** The source expression of a parameter of the root block: {@code w[17]}. */
    public String weight(Parameter parameter) {
        Integer i = index.get(parameter);
        if (i == null) {
            throw new IllegalArgumentException("parameter " + parameter.getName()
                    + " is not one of the scripted block's");
        }
        return WEIGHTS + "[" + i + "]";
    }

    /** The weight and bias of a DJL block with parameters named {@code weight} and {@code bias}. */
    public String weightAndBias(Block block) {
        return weight(block.getParameters().get("weight")) + ", " + weight(block.getParameters().get("bias"));
    }

    /** Assigns {@code expression} to a fresh local variable and returns its name. */
    public String let(String expression) {
        String name = "v" + names++;
        line(name + " = " + expression);
        return name;
    }

    /** Appends one statement of the method body. */
    public void line(String statement) {
        body.append("    ").append(statement).append('\n');
    }

    /** A float literal that TorchScript reads back as the same double. */
    public static String literal(double value) {
        return String.format(Locale.ROOT, "%.17g", value);
    }

    /**
     * The whole method: {@code def forward(self, <arguments>, w: List[Tensor]) -> Tensor:} with the collected
     * body, which must end by returning.
     */
    public String forwardMethod(String arguments) {
        return "  def forward(self, " + arguments + ", " + WEIGHTS + ": List[Tensor]) -> Tensor:\n" + body;
    }
}
