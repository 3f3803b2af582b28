package dalle2.cli;

import dalle2.messages.SamplerKind;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/** Reads {@code --sampler ddim|dpmpp-2m} by the names the API uses (picocli would expect DDIM, DPMPP_2M). */
final class SamplerOption implements ITypeConverter<SamplerKind> {

    static final String DESCRIPTION = "ddim or dpmpp-2m (DPM-Solver++(2M), deterministic: eta applies to ddim only)";

    @Override
    public SamplerKind convert(String value) {
        try {
            return SamplerKind.fromConfigName(value);
        } catch (IllegalArgumentException e) {
            throw new TypeConversionException(e.getMessage());
        }
    }
}
