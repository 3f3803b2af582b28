package dalle2.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dalle2.gateway.AccessConfig;
import dalle2.gateway.ApiKeys;
import dalle2.gateway.GatewayPolicy;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.Keys;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.logging.LogEntry;
import org.openqa.selenium.logging.LogType;
import org.openqa.selenium.logging.LoggingPreferences;
import org.openqa.selenium.support.ui.Select;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * The web page in a real browser (headless Chromium driven through chromedriver) on the embedded stack with the
 * tiny models, behind an API key: the key typed into the page, a prompt submitted, its states and images as
 * they land, the gallery's "use these settings", variations of an image, a cancelled job. Screenshots go to
 * {@code target/browser-test/}. Skipped, saying why, where Chromium or chromedriver is not installed.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@Timeout(value = 240, unit = TimeUnit.SECONDS)
class WebPageBrowserTest {

    /** Debian's packages chromium and chromium-driver; the variables name others. */
    static final Path CHROMIUM = Path.of(System.getenv().getOrDefault("DALLE2_CHROMIUM", "/usr/bin/chromium"));
    static final Path CHROMEDRIVER = Path.of(System.getenv().getOrDefault("DALLE2_CHROMEDRIVER",
            "/usr/bin/chromedriver"));
    private static final String KEY = "browser-key-0123456789abcdef";
    private static final Duration JOB_WAIT = Duration.ofSeconds(120);
    private static final Path SHOTS = Path.of("target", "browser-test");

    private EmbeddedStack stack;
    private ChromeDriver browser;

    @BeforeAll
    void start() throws Exception {
        Assumptions.assumeTrue(Files.isExecutable(CHROMIUM) && Files.isExecutable(CHROMEDRIVER),
                "skipped: the browser test needs Chromium at " + CHROMIUM + " and chromedriver at " + CHROMEDRIVER
                        + " (Debian: apt-get install chromium chromium-driver; or set DALLE2_CHROMIUM and"
                        + " DALLE2_CHROMEDRIVER)");
        Files.createDirectories(SHOTS);
        Files.deleteIfExists(SHOTS.resolve("console.log"));
        stack = EmbeddedStack.start(Files.createTempDirectory("dalle2-browser-stack"), 0, 1, 1,
                ModelFactory.load(TinyModels.folder()), GatewayPolicy.of(AccessConfig.keys(ApiKeys.parse(KEY))));
        ChromeOptions options = new ChromeOptions().setBinary(CHROMIUM.toFile())
                // --no-sandbox: CI runs as root, where Chromium's sandbox refuses to start
                .addArguments("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                        "--window-size=1280,1800", "--disable-extensions", "--no-first-run",
                        "--disable-background-networking", "--disable-component-update");
        LoggingPreferences logs = new LoggingPreferences();
        logs.enable(LogType.BROWSER, Level.ALL);
        options.setCapability("goog:loggingPrefs", logs);
        // the driver named explicitly: Selenium Manager (which would download one) never runs
        ChromeDriverService service = new ChromeDriverService.Builder().usingDriverExecutable(CHROMEDRIVER.toFile())
                .usingAnyFreePort().withLogFile(SHOTS.resolve("chromedriver.log").toFile()).build();
        browser = new ChromeDriver(service, options);
        browser.manage().timeouts().pageLoadTimeout(Duration.ofSeconds(30));
    }

    @AfterAll
    void stop() {
        if (browser != null) {
            browser.quit();
        }
        if (stack != null) {
            stack.close();
        }
    }

    private void screenshot(String name) throws Exception {
        Files.write(SHOTS.resolve(name + ".png"), browser.getScreenshotAs(OutputType.BYTES));
    }

    private WebDriverWait waitUpTo(Duration d) {
        return new WebDriverWait(browser, d, Duration.ofMillis(50));
    }

    private WebElement field(String id) {
        return browser.findElement(By.id(id));
    }

    private static void set(WebElement input, String value) {
        input.clear();
        input.sendKeys(value);
    }

    /** The job entries in the queue, newest first. */
    private List<WebElement> jobs() {
        return browser.findElements(By.cssSelector("#queue > li.job"));
    }

    @Test
    @Order(1)
    void aPromptTypedIntoThePageRunsWithLiveStatesAndItsImagesLandInTheJobAndTheGallery() throws Exception {
        browser.get(stack.gatewayUrl() + "/");
        assertEquals("dalle2 — text to image", browser.getTitle());
        screenshot("01-page");

        field("api-key").sendKeys(KEY);
        browser.findElement(By.cssSelector("#key-form button[type=submit]")).click();
        waitUpTo(Duration.ofSeconds(5)).until(d -> field("key-state").getText().contains("key is set"));

        // the form starts at the API's defaults; another prior sampler brings its own default steps
        assertEquals("dpmpp-2m", new Select(field("prior_sampler")).getFirstSelectedOption().getAttribute("value"));
        assertEquals("20", field("prior_steps").getAttribute("value"));
        new Select(field("prior_sampler")).selectByValue("ddim");
        assertEquals("64", field("prior_steps").getAttribute("value"));
        new Select(field("prior_sampler")).selectByValue("dpmpp-2m");
        assertEquals("20", field("prior_steps").getAttribute("value"));
        assertEquals("30", field("decoder_steps").getAttribute("value"));
        new Select(field("sampler")).selectByValue("ddim");
        assertEquals("50", field("decoder_steps").getAttribute("value"));

        set(field("prompt"), "a red apple");
        set(field("n"), "2");
        set(field("seed"), "5");
        set(field("prior_steps"), "2");
        set(field("decoder_steps"), "2");
        // the keyboard path: Ctrl+Enter in the prompt submits
        field("prompt").sendKeys(Keys.chord(Keys.CONTROL, Keys.ENTER));

        WebElement job = waitUpTo(Duration.ofSeconds(20)).until(d -> jobs().isEmpty() ? null : jobs().get(0));
        waitUpTo(JOB_WAIT).until(d -> "succeeded".equals(job.getAttribute("data-state")));
        List<String> history = Arrays.asList(job.getAttribute("data-history").split(" "));
        assertEquals("succeeded", history.get(history.size() - 1), "the stream ended with the final state");
        assertEquals(history.size(), history.stream().distinct().count(), "no state shown twice: " + history);
        assertTrue(List.of("queued", "prior", "decoding", "succeeded").containsAll(history)
                && history.containsAll(List.of("prior", "decoding", "succeeded")),
                "every state of the job's life, in order, from the event stream: " + history);
        assertEquals(history, history.stream().sorted((a, b) -> Integer.compare(
                List.of("queued", "prior", "decoding", "succeeded").indexOf(a),
                List.of("queued", "prior", "decoding", "succeeded").indexOf(b))).toList(), "in order: " + history);
        assertEquals("Done", job.findElement(By.cssSelector("[data-role=progress-text]")).getText());
        String drawnBy = job.findElement(By.cssSelector("[data-role=models]")).getText();
        assertTrue(drawnBy.startsWith("Drawn by prior@") && drawnBy.contains("decoder@"),
                "the entry names the model versions that drew it: " + drawnBy);

        waitUpTo(Duration.ofSeconds(20)).until(d -> loadedImages(job) == 2);
        for (WebElement img : job.findElements(By.tagName("img"))) {
            assertEquals(String.valueOf(TinyModels.IMAGE_SIZE), img.getAttribute("naturalWidth"),
                    "a real PNG of the model's size, fetched with the key");
            assertTrue(img.getAttribute("alt").contains("a red apple"), img.getAttribute("alt"));
        }
        WebElement download = job.findElement(By.cssSelector("[data-role=download]"));
        assertTrue(download.getAttribute("href").startsWith("blob:"), download.getAttribute("href"));
        assertTrue(download.getAttribute("download").endsWith("-0.png"));

        waitUpTo(Duration.ofSeconds(10)).until(d -> browser.findElements(By.cssSelector("#gallery > li")).size() == 2);
        WebElement recent = browser.findElement(By.cssSelector("#gallery > li"));
        String params = recent.findElement(By.className("params")).getText();
        assertTrue(params.contains("a red apple") && params.contains("seed 5") && params.contains("decoder 2 steps"),
                params);
        screenshot("02-succeeded");

        set(field("prompt"), "something else");
        set(field("seed"), "");
        recent.findElement(By.cssSelector("[data-role=use]")).click();
        assertEquals("a red apple", field("prompt").getAttribute("value"), "use these settings: the prompt");
        assertEquals("5", field("seed").getAttribute("value"), "and the seed the job ran with");
        assertEquals("2", field("prior_steps").getAttribute("value"));
        assertTrue(noPageErrors(), "no script or security-policy error in the browser's console");

        // a reload keeps the key (the tab's sessionStorage), the tab's jobs, and the gallery from GET /v1/generations
        browser.navigate().refresh();
        waitUpTo(Duration.ofSeconds(20)).until(d -> browser.findElements(By.cssSelector("#gallery > li")).size() == 2);
        assertTrue(browser.findElement(By.cssSelector("#gallery > li .params")).getText().contains("seed 5"));
        assertTrue(field("key-state").getText().contains("key is set"));
        waitUpTo(Duration.ofSeconds(20)).until(d -> "succeeded".equals(jobs().get(0).getAttribute("data-state")));
        assertTrue(noPageErrors(), "no script or security-policy error after the reload");
    }

    @Test
    @Order(2)
    void theVariationsActionOnAnImageRunsAVariationsJobWhoseImagesLandToo() throws Exception {
        int before = jobs().size();
        WebElement recent = browser.findElement(By.cssSelector("#gallery > li"));
        WebElement vary = recent.findElement(By.cssSelector("[data-role=vary]"));
        assertTrue(vary.isDisplayed(), "the gateway offers variations");
        // a variation asks for the form's n, whatever the reload before it left there
        int wanted = Integer.parseInt(field("n").getAttribute("value"));
        vary.click();
        waitUpTo(Duration.ofSeconds(20)).until(d -> jobs().size() == before + 1);
        WebElement job = jobs().get(0);
        assertTrue(job.findElement(By.cssSelector("[data-role=prompt]")).getText().startsWith("variations of"));
        waitUpTo(JOB_WAIT).until(d -> "succeeded".equals(job.getAttribute("data-state")));
        try {
            waitUpTo(Duration.ofSeconds(20)).until(d -> loadedImages(job) == wanted);
        } catch (org.openqa.selenium.TimeoutException e) {
            screenshot("03-variations-images-missing");
            throw new AssertionError("the variation succeeded but " + loadedImages(job) + " of its " + wanted
                    + " images loaded; "
                    + "its entry: " + job.getAttribute("outerHTML") + "; console: "
                    + browser.manage().logs().get(LogType.BROWSER).getAll(), e);
        }
        assertTrue(job.findElement(By.tagName("img")).getAttribute("alt").startsWith("Variation"),
                job.findElement(By.tagName("img")).getAttribute("alt"));
        screenshot("03-variations");
        assertTrue(noPageErrors(), "no script or security-policy error in the browser's console");
    }

    @Test
    @Order(3)
    void aJobCancelledFromThePageEndsCancelled() throws Exception {
        int before = jobs().size();
        // long enough to be cancelled while it waits or runs (the tiny models take milliseconds a step)
        set(field("prompt"), "a long job");
        set(field("n"), "8");
        set(field("prior_steps"), "400");
        set(field("decoder_steps"), "100");
        browser.findElement(By.id("generate")).click();
        waitUpTo(Duration.ofSeconds(20)).until(d -> jobs().size() == before + 1);
        WebElement job = jobs().get(0);
        waitUpTo(Duration.ofSeconds(20)).until(d -> job.getAttribute("data-state") != null);
        screenshot("04-running");
        WebElement cancel = job.findElement(By.cssSelector("[data-role=cancel]"));
        assertTrue(cancel.getAccessibleName().contains("a long job"), cancel.getAccessibleName());
        cancel.click();
        waitUpTo(JOB_WAIT).until(d -> "cancelled".equals(job.getAttribute("data-state")));
        assertTrue(!cancel.isDisplayed(), "a finished job has no cancel button");
        assertEquals("Cancelled", job.findElement(By.cssSelector("[data-role=progress-text]")).getText());
        screenshot("05-cancelled");
        assertTrue(noPageErrors(), "no script or security-policy error in the browser's console");
    }

    private long loadedImages(WebElement job) {
        Object n = ((JavascriptExecutor) browser).executeScript(
                "return [...arguments[0].querySelectorAll('img')].filter(i => i.complete && i.naturalWidth > 0).length",
                job);
        return ((Number) n).longValue();
    }

    private boolean noPageErrors() throws Exception {
        List<LogEntry> entries = browser.manage().logs().get(LogType.BROWSER).getAll();
        StringBuilder text = new StringBuilder();
        boolean clean = true;
        for (LogEntry e : entries) {
            text.append(e.getLevel()).append(' ').append(e.getMessage()).append('\n');
            if (e.getLevel().intValue() >= Level.SEVERE.intValue()) {
                clean = false;
            }
        }
        Files.writeString(SHOTS.resolve("console.log"), text.toString(), java.nio.file.StandardOpenOption.CREATE,
                java.nio.file.StandardOpenOption.APPEND);
        if (!clean) {
            System.err.println("browser console:\n" + text);
        }
        return clean;
    }

    static File shots() {
        return SHOTS.toFile();
    }
}
