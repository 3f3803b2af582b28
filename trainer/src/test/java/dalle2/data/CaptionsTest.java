package dalle2.data;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class CaptionsTest {

    @Test
    void theArticleFollowsTheSoundOfTheNextWord() {
        assertEquals("an ankle boot", Captions.withArticle("ankle boot"));
        assertEquals("a t-shirt", Captions.withArticle("t-shirt"));
        assertEquals("a trouser", Captions.withArticle("trouser"));
        assertEquals("a bag", Captions.withArticle("bag"));
        assertEquals("an x-ray", Captions.withArticle("x-ray"));
        assertEquals("an umbrella", Captions.withArticle("umbrella"));
        assertEquals("a unicorn", Captions.withArticle("unicorn"));
        assertEquals("a one-piece swimsuit", Captions.withArticle("one-piece swimsuit"));
        assertEquals("an hourglass", Captions.withArticle("hourglass"));
        assertEquals("a european castle", Captions.withArticle("european castle"));
        assertEquals("an 8 ball", Captions.withArticle("8 ball"));
        assertEquals("a 100 points", Captions.withArticle("100 points"));
        assertEquals("an elephant", Captions.withArticle("Elephant").toLowerCase());
    }

    @Test
    void cleaningLowerCasesStripsAccentsAndStraightensQuotes() {
        assertEquals("curacao flag", Captions.clean("Cura\u00e7ao Flag"));
        assertEquals("cote d'ivoire flag", Captions.clean("C\u00f4te d\u2019Ivoire  Flag "));
        assertEquals("grinning face", Captions.clean("GRINNING FACE"));
    }
}
