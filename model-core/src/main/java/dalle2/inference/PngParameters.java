package dalle2.inference;

import dalle2.json.Json;
import dalle2.messages.GenerationRequest;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import javax.imageio.IIOImage;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.ImageTypeSpecifier;
import javax.imageio.ImageWriter;
import javax.imageio.metadata.IIOInvalidTreeException;
import javax.imageio.metadata.IIOMetadata;
import javax.imageio.metadata.IIOMetadataNode;
import javax.imageio.stream.ImageInputStream;
import javax.imageio.stream.ImageOutputStream;
import javax.imageio.stream.MemoryCacheImageOutputStream;
import org.w3c.dom.NodeList;

/**
 * PNGs that say how they were made: the job's parameters and model versions in international text chunks (iTXt,
 * UTF-8, uncompressed, PNG specification 11.3.4.5): {@value #DESCRIPTION} holds the prompt, {@value #SOFTWARE} the
 * project's name, and {@value #PARAMETERS} a JSON object of every parameter that decides the pixels (prompt or
 * source image hash, image index, seed, steps, eta, guidance, sampler, size) and the model versions. No job id
 * and no time: the same parameters and models still give the same bytes, which the workers' redelivery relies on.
 */
public final class PngParameters {

    /** The PNG specification's registered keyword for a description of the image. */
    public static final String DESCRIPTION = "Description";
    public static final String SOFTWARE = "Software";
    /** This project's keyword for the JSON of the parameters. */
    public static final String PARAMETERS = "dalle2:parameters";
    private static final String FORMAT = "javax_imageio_png_1.0";

    private PngParameters() {
    }

    /** The JSON written under {@value #PARAMETERS} for image {@code index} of a job. */
    public static String json(GenerationRequest r, int index, Map<String, String> models) {
        Map<String, Object> p = new LinkedHashMap<>();
        p.put("kind", r.isVariation() ? "variation" : "generation");
        p.put("prompt", r.prompt());
        if (r.isVariation()) {
            p.put("image_sha256", r.imageSha256());
        }
        p.put("index", index);
        p.put("seed", r.seed());
        p.put("prior_steps", r.priorSteps());
        p.put("decoder_steps", r.decoderSteps());
        p.put("eta", r.eta());
        p.put("prior_guidance", r.priorGuidance());
        p.put("decoder_guidance", r.decoderGuidance());
        p.put("sampler", r.sampler());
        if (!r.isVariation()) {
            p.put("prior_sampler", r.priorStageSampler());
        }
        p.put("size", r.size());
        p.put("models", new java.util.TreeMap<>(models));
        return Json.write(p);
    }

    /** PNG bytes of {@code image} with the job's text chunks. */
    public static byte[] png(BufferedImage image, GenerationRequest r, int index, Map<String, String> models) {
        Map<String, String> text = new LinkedHashMap<>();
        text.put(DESCRIPTION, r.prompt());
        text.put(SOFTWARE, "dalle2");
        text.put(PARAMETERS, json(r, index, models));
        return png(image, text);
    }

    /**
     * PNG bytes with one iTXt chunk per entry (keywords: 1-79 Latin-1 characters). Encoded through a memory cache:
     * {@code ImageIO.createImageOutputStream} caches in a temporary file unless told otherwise process-wide, so a
     * worker created, wrote and deleted a file for every image it stored, on the job's critical path.
     */
    public static byte[] png(BufferedImage image, Map<String, String> text) {
        ImageWriter writer = ImageIO.getImageWritersByFormatName("png").next();
        try (ByteArrayOutputStream bytes = new ByteArrayOutputStream();
             ImageOutputStream out = new MemoryCacheImageOutputStream(bytes)) {
            IIOMetadata metadata = writer.getDefaultImageMetadata(ImageTypeSpecifier.createFromRenderedImage(image),
                    writer.getDefaultWriteParam());
            IIOMetadataNode itxt = new IIOMetadataNode("iTXt");
            for (Map.Entry<String, String> e : text.entrySet()) {
                IIOMetadataNode entry = new IIOMetadataNode("iTXtEntry");
                entry.setAttribute("keyword", e.getKey());
                entry.setAttribute("compressionFlag", "FALSE");
                entry.setAttribute("compressionMethod", "0");
                entry.setAttribute("languageTag", "");
                entry.setAttribute("translatedKeyword", "");
                entry.setAttribute("text", e.getValue());
                itxt.appendChild(entry);
            }
            IIOMetadataNode root = new IIOMetadataNode(FORMAT);
            root.appendChild(itxt);
            metadata.mergeTree(FORMAT, root);
            writer.setOutput(out);
            writer.write(null, new IIOImage(image, null, metadata), writer.getDefaultWriteParam());
            out.flush();
            return bytes.toByteArray();
        } catch (IIOInvalidTreeException e) {
            throw new IllegalArgumentException("invalid PNG text: " + e.getMessage(), e);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } finally {
            writer.dispose();
        }
    }

    /** The text chunks (tEXt, zTXt and iTXt) of a PNG, by keyword. */
    public static Map<String, String> read(byte[] png) {
        Map<String, String> text = new LinkedHashMap<>();
        try (ImageInputStream in = ImageIO.createImageInputStream(new ByteArrayInputStream(png))) {
            Iterator<ImageReader> readers = ImageIO.getImageReaders(in);
            ImageReader reader = readers.next();
            try {
                reader.setInput(in, true, false);
                IIOMetadataNode root = (IIOMetadataNode) reader.getImageMetadata(0).getAsTree(FORMAT);
                for (String[] chunk : new String[][] {{"tEXtEntry", "value"}, {"zTXtEntry", "text"},
                        {"iTXtEntry", "text"}}) {
                    NodeList entries = root.getElementsByTagName(chunk[0]);
                    for (int i = 0; i < entries.getLength(); i++) {
                        IIOMetadataNode entry = (IIOMetadataNode) entries.item(i);
                        text.put(entry.getAttribute("keyword"), entry.getAttribute(chunk[1]));
                    }
                }
            } finally {
                reader.dispose();
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return text;
    }
}
