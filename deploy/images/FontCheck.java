import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.GraphicsEnvironment;
import java.awt.image.BufferedImage;

/**
 * Run by build-base-image.sh --fonts inside the new root file system: draws a label as XChart draws its axis
 * labels and fails unless some pixels were drawn with a font fontconfig found.
 */
public final class FontCheck {
    public static void main(String[] args) {
        String[] families = GraphicsEnvironment.getLocalGraphicsEnvironment().getAvailableFontFamilyNames();
        BufferedImage image = new BufferedImage(200, 40, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = image.createGraphics();
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 14));
        g.drawString("loss 0.123 step 1000", 5, 25);
        g.dispose();
        int lit = 0;
        for (int y = 0; y < image.getHeight(); y++) {
            for (int x = 0; x < image.getWidth(); x++) {
                lit += (image.getRGB(x, y) & 0xffffff) != 0 ? 1 : 0;
            }
        }
        if (lit == 0) {
            throw new IllegalStateException("no pixel drawn; font families: " + String.join(", ", families));
        }
        System.out.println("font check: " + lit + " pixels drawn with " + g.getFont().getFontName() + "; families: "
                + String.join(", ", families));
    }
}
