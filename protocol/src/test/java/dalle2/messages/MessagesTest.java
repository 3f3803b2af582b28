package dalle2.messages;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class MessagesTest {

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static GenerationRequest request(String jobId, int n) {
        return GenerationRequest.of(jobId, "a red cube", n, 42L, 10, 12, 0.0, 2.0, 3.0,
                Instant.parse("2026-11-27T10:00:00Z"), null);
    }

    @Test
    void aRequestRoundTripsThroughJsonWithSnakeCaseFieldsAndASchemaVersion() {
        GenerationRequest r = request("job-1", 3);
        String json = new String(Messages.encode(r), StandardCharsets.UTF_8);
        assertTrue(json.contains("\"schema_version\":1"), json);
        assertTrue(json.contains("\"prior_steps\":10"), json);
        assertEquals(r, Messages.decode(utf8(json), GenerationRequest.class));
    }

    @Test
    void theSamplerRoundTripsAndIsLeftOutOfTheJsonWhenItIsTheDefault() {
        GenerationRequest dpm = GenerationRequest.of("job-2", "a red cube", 1, 42L, 20, 15, 0.0, 2.0, 3.0, "dpmpp-2m",
                Instant.parse("2026-11-27T10:00:00Z"), null);
        String dpmJson = new String(Messages.encode(dpm), StandardCharsets.UTF_8);
        assertTrue(dpmJson.contains("\"sampler\":\"dpmpp-2m\""), dpmJson);
        assertEquals(dpm, Messages.decode(utf8(dpmJson), GenerationRequest.class));

        GenerationRequest ddim = request("job-3", 1);
        assertEquals("ddim", ddim.sampler());
        String ddimJson = new String(Messages.encode(ddim), StandardCharsets.UTF_8);
        // a reader built before the field refuses unknown fields: a DDIM request must not carry it
        assertFalse(ddimJson.contains("sampler"), ddimJson);
        assertEquals(ddim, Messages.decode(utf8(ddimJson), GenerationRequest.class));
        assertFalse(ddim.sameParameters(dpm.withJobId("job-3")));
    }

    @Test
    void thePriorSamplerIsWrittenOnlyWhereItDiffersAndTakesItsOwnDefaultSteps() {
        GenerationRequest split = GenerationRequest.of("job-4", "a red cube", 1, 42L, null, 50, 0.4, 2.0, 5.0, "ddim",
                "dpmpp-2m", null, Instant.parse("2026-11-27T10:00:00Z"), null);
        assertEquals("dpmpp-2m", split.priorStageSampler());
        assertEquals(SamplerKind.DPMPP_2M.defaultPriorSteps(), split.priorSteps());
        // eta is the decoder's here: DPM-Solver++ in the prior is deterministic
        assertEquals(0.4, split.etaOf(split.sampler()));
        assertEquals(0.0, split.etaOf(split.priorStageSampler()));
        String json = new String(Messages.encode(split), StandardCharsets.UTF_8);
        assertTrue(json.contains("\"prior_sampler\":\"dpmpp-2m\"") && !json.contains("\"sampler\""), json);
        assertEquals(split, Messages.decode(utf8(json), GenerationRequest.class));

        // the same sampler named twice is a request of one sampler: it reads the same to an older build
        GenerationRequest same = GenerationRequest.of("job-5", "a red cube", 1, 42L, null, 50, 0.0, 2.0, 5.0,
                "dpmpp-2m", "DPMPP-2M", null, Instant.parse("2026-11-27T10:00:00Z"), null);
        assertNull(same.priorSampler());
        assertEquals("dpmpp-2m", same.priorStageSampler());
        assertFalse(new String(Messages.encode(same), StandardCharsets.UTF_8).contains("prior_sampler"));
        assertTrue(same.sameParameters(GenerationRequest.of("job-6", "a red cube", 1, 42L, 20, 50, 0.0, 2.0, 5.0,
                "dpmpp-2m", Instant.parse("2026-11-27T10:00:00Z"), null)));
        assertTrue(split.sameParameters(split.withJobId("x")));
        assertFalse(split.sameParameters(GenerationRequest.of("job-7", "a red cube", 1, 42L, 20, 50, 0.4, 2.0, 5.0,
                "ddim", Instant.parse("2026-11-27T10:00:00Z"), null)), "another prior sampler is another job");

        // a request without either keeps the record's defaults: DDIM for both, 64 prior steps
        GenerationRequest plain = Messages.decode(utf8("{\"job_id\":\"j\",\"prompt\":\"p\"}"), GenerationRequest.class);
        assertEquals("ddim", plain.priorStageSampler());
        assertEquals(64, plain.priorSteps());
        // the API's default fills in the prior's sampler only where the client named none
        assertEquals("dpmpp-2m", ApiDefaults.priorSampler(null, null));
        assertEquals("ddim", ApiDefaults.priorSampler("ddim", null));
        assertEquals("ddim", ApiDefaults.priorSampler("dpmpp-2m", "ddim"));

        InvalidMessageException bothDeterministic = assertThrows(InvalidMessageException.class,
                () -> Messages.decode(utf8("{\"job_id\":\"j\",\"prompt\":\"p\",\"sampler\":\"dpmpp-2m\","
                        + "\"prior_sampler\":\"dpmpp-2m\",\"eta\":0.5}"), GenerationRequest.class));
        assertEquals("eta", bothDeterministic.field());
        InvalidMessageException unknown = assertThrows(InvalidMessageException.class,
                () -> Messages.decode(utf8("{\"job_id\":\"j\",\"prompt\":\"p\",\"prior_sampler\":\"euler\"}"),
                        GenerationRequest.class));
        assertEquals("prior_sampler", unknown.field());
        assertTrue(unknown.getMessage().contains("prior_sampler must be one of ddim, dpmpp-2m"), unknown.getMessage());
    }

    @Test
    void aRecordWrittenBeforeTheSamplerFieldDecodesAsDdimAndNamesAreCanonical() {
        GenerationRequest old = Messages.decode(utf8("{\"schema_version\":1,\"job_id\":\"old-1\",\"prompt\":\"cat\","
                + "\"n\":2,\"seed\":5,\"prior_steps\":64,\"decoder_steps\":50,\"eta\":0.3,\"prior_guidance\":2.0,"
                + "\"decoder_guidance\":5.0,\"submitted_at\":\"2026-11-27T10:00:00Z\"}"), GenerationRequest.class);
        assertEquals(GenerationRequest.DEFAULT_SAMPLER, old.sampler());
        assertEquals(0.3, old.eta());
        GenerationRequest upper = Messages.decode(utf8("{\"job_id\":\"j\",\"prompt\":\"p\",\"sampler\":\"DPMPP-2M\"}"),
                GenerationRequest.class);
        assertEquals("dpmpp-2m", upper.sampler());
    }

    @Test
    void aMinimalKafkaSubmissionGetsDefaultsAndASeedDerivedFromItsJobId() {
        GenerationRequest a = Messages.decode(utf8("{\"job_id\":\"client-7\",\"prompt\":\"cat\"}"), GenerationRequest.class);
        GenerationRequest b = Messages.decode(utf8("{\"job_id\":\"client-7\",\"prompt\":\"cat\"}"), GenerationRequest.class);
        assertEquals(1, a.n());
        assertEquals(GenerationRequest.DEFAULT_DECODER_STEPS, a.decoderSteps());
        assertEquals(a.seed(), b.seed(), "the same job id must draw the same images on redelivery");
        assertTrue(a.seed() >= 0);
        assertEquals(1, a.schemaVersion());
    }

    @ParameterizedTest(name = "{0} -> field {1}")
    @CsvSource(delimiter = '|', value = {
            "{\"job_id\":\"j\",\"prompt\":\"\"}|prompt",
            "{\"job_id\":\"j\",\"prompt\":\"   \"}|prompt",
            "{\"job_id\":\"j\"}|prompt",
            "{\"job_id\":\"j\",\"prompt\":\"p\",\"n\":0}|n",
            "{\"job_id\":\"j\",\"prompt\":\"p\",\"n\":9}|n",
            "{\"job_id\":\"j\",\"prompt\":\"p\",\"n\":\"3\"}|n",
            "{\"job_id\":\"j\",\"prompt\":\"p\",\"n\":2.5}|n",
            "{\"job_id\":\"j\",\"prompt\":\"p\",\"n\":true}|n",
            "{\"job_id\":\"j\",\"prompt\":5}|prompt",
            "{\"job_id\":\"j\",\"prompt\":\"p\",\"eta\":1.5}|eta",
            "{\"job_id\":\"j\",\"prompt\":\"p\",\"eta\":\"x\"}|eta",
            "{\"job_id\":\"j\",\"prompt\":\"p\",\"prior_steps\":0}|prior_steps",
            "{\"job_id\":\"j\",\"prompt\":\"p\",\"decoder_steps\":1001}|decoder_steps",
            "{\"job_id\":\"j\",\"prompt\":\"p\",\"prior_guidance\":-1}|prior_guidance",
            "{\"job_id\":\"j\",\"prompt\":\"p\",\"decoder_guidance\":21}|decoder_guidance",
            "{\"job_id\":\"j\",\"prompt\":\"p\",\"seed\":\"abc\"}|seed",
            "{\"job_id\":\"j\",\"prompt\":\"p\",\"colour\":\"red\"}|colour",
            "{\"job_id\":\"../x\",\"prompt\":\"p\"}|job_id",
            "{\"job_id\":\"j\",\"prompt\":\"p\",\"schema_version\":2}|schema_version",
            "{\"job_id\":\"j\",\"prompt\":\"p\",\"submitted_at\":\"yesterday\"}|submitted_at",
            "{\"job_id\":\"j\",\"prompt\":\"p\",\"sampler\":\"euler\"}|sampler",
            "{\"job_id\":\"j\",\"prompt\":\"p\",\"sampler\":\"\"}|sampler",
            "{\"job_id\":\"j\",\"prompt\":\"p\",\"sampler\":2}|sampler",
            "{\"job_id\":\"j\",\"prompt\":\"p\",\"sampler\":\"dpmpp-2m\",\"eta\":0.5}|eta",
            "{\"job_id\":\"j\",\"prompt\":\"p\",\"size\":48}|size",
            "{\"job_id\":\"j\",\"prompt\":\"p\",\"size\":512}|size",
            "{\"job_id\":\"j\",\"prompt\":\"p\",\"size\":\"256\"}|size",
            "{\"job_id\":\"j\",\"prompt\":\"p\",\"size\":256.0}|size",
    })
    void invalidRequestsAreRefusedNamingTheField(String json, String field) {
        InvalidMessageException e = assertThrows(InvalidMessageException.class,
                () -> Messages.decode(utf8(json), GenerationRequest.class));
        assertEquals(field, e.field(), e.getMessage());
    }

    @Test
    void malformedJsonIsAnInvalidMessageWithoutAField() {
        InvalidMessageException e = assertThrows(InvalidMessageException.class,
                () -> Messages.decode(utf8("{\"job_id\": "), GenerationRequest.class));
        assertNull(e.field());
        assertThrows(InvalidMessageException.class, () -> Messages.decode(new byte[0], GenerationRequest.class));
        assertThrows(InvalidMessageException.class, () -> Messages.decode(utf8("{} {}"), GenerationRequest.class));
    }

    @Test
    void anOverlongPromptIsRefused() {
        String prompt = "x".repeat(GenerationRequest.MAX_PROMPT_CHARS + 1);
        InvalidMessageException e = assertThrows(InvalidMessageException.class,
                () -> GenerationRequest.of("j", prompt, 1, 1L, 1, 1, 0.0, 1.0, 1.0, Instant.now(), null));
        assertEquals("prompt", e.field());
    }

    @Test
    void embeddingsRoundTripBitExactIncludingSubnormalsAndSignedZero() {
        Random random = new Random(3);
        float[] a = new float[512];
        for (int i = 0; i < a.length; i++) {
            a[i] = (float) random.nextGaussian() * 1e3f;
        }
        a[0] = -0.0f;
        a[1] = Float.MIN_VALUE;
        a[2] = Float.MAX_VALUE;
        float[] b = new float[512];
        b[7] = 1.0f / 3.0f;
        ImageEmbeddings message = ImageEmbeddings.of(request("job-2", 2), "prior-v1", List.of(a, b),
                Instant.now(), Instant.now());
        byte[] wire = Messages.encode(message);
        ImageEmbeddings back = Messages.decode(wire, ImageEmbeddings.class);
        assertEquals(message, back);
        for (int i = 0; i < a.length; i++) {
            assertEquals(Float.floatToRawIntBits(a[i]), Float.floatToRawIntBits(back.embedding(0)[i]));
        }
        assertArrayEquals(b, back.embedding(1));
        // compact: 2 × 512 floats as base64 is ~5.5 KB; decimal JSON would be ~2-3× that
        assertTrue(wire.length < 6000, "wire size " + wire.length);
    }

    @Test
    void embeddingsMustMatchTheRequestedCountAndDimAndBeFinite() {
        GenerationRequest r = request("job-3", 2);
        InvalidMessageException count = assertThrows(InvalidMessageException.class,
                () -> ImageEmbeddings.of(r, "v", List.of(new float[4]), Instant.now(), Instant.now()));
        assertEquals("embeddings", count.field());
        assertThrows(InvalidMessageException.class,
                () -> ImageEmbeddings.of(r, "v", List.of(new float[4], new float[5]), Instant.now(), Instant.now()));
        float[] nan = new float[4];
        nan[1] = Float.NaN;
        assertThrows(InvalidMessageException.class,
                () -> ImageEmbeddings.of(r, "v", List.of(new float[4], nan), Instant.now(), Instant.now()));
    }

    @Test
    void statusRoundTripsWithLowerCaseStatesAndKeepsItsInvariants() {
        GenerationRequest r = request("job-4", 2);
        JobStatus queued = JobStatus.queued(r);
        JobStatus done = queued.withModel("prior", "p1").withModel("decoder", "d1")
                .succeeded(List.of("job-4/0.png", "job-4/1.png"), Instant.now());
        String json = new String(Messages.encode(done), StandardCharsets.UTF_8);
        assertTrue(json.contains("\"state\":\"succeeded\""), json);
        JobStatus back = Messages.decode(utf8(json), JobStatus.class);
        assertEquals(done, back);
        assertEquals("d1", back.models().get("decoder"));
        assertThrows(InvalidMessageException.class, () -> queued.succeeded(List.of("job-4/0.png"), Instant.now()));
        assertThrows(InvalidMessageException.class,
                () -> Messages.decode(utf8(json.replace("succeeded", "exploded")), JobStatus.class));
    }

    @Test
    void theSizeRoundTripsIsPartOfTheParametersAndIsLeftOutOfTheJsonAtTheBaseSize() {
        GenerationRequest base = request("job-4", 1);
        assertEquals(GenerationRequest.BASE_SIZE, base.size());
        assertFalse(base.needsUpsampler());
        String baseJson = new String(Messages.encode(base), StandardCharsets.UTF_8);
        // a reader built before the field refuses unknown fields: a base-size request must not carry it
        assertFalse(baseJson.contains("size"), baseJson);
        assertEquals(base, Messages.decode(utf8(baseJson), GenerationRequest.class));

        GenerationRequest large = base.withSize(256);
        String largeJson = new String(Messages.encode(large), StandardCharsets.UTF_8);
        assertTrue(largeJson.contains("\"size\":256"), largeJson);
        assertEquals(large, Messages.decode(utf8(largeJson), GenerationRequest.class));
        assertTrue(large.needsUpsampler());
        assertFalse(large.sameParameters(base), "another size is another request");
    }

    @Test
    void lowResImagesRoundTripByteExactAndMustMatchTheCountAndSideAndBeSmallerThanTheJob() {
        GenerationRequest r = request("job-5", 2).withSize(128);
        byte[] first = new byte[32 * 32 * 3];
        byte[] second = new byte[32 * 32 * 3];
        new Random(1).nextBytes(first);
        new Random(2).nextBytes(second);
        LowResImages m = LowResImages.of(r, java.util.Map.of("decoder", "d@1"),
                JobStatus.Timestamps.submitted(r.submittedAt()), 32, List.of(first, second));
        LowResImages back = Messages.decode(Messages.encode(m), LowResImages.class);
        assertArrayEquals(first, back.rgb(0));
        assertArrayEquals(second, back.rgb(1));
        assertEquals("d@1", back.models().get("decoder"));

        InvalidMessageException count = assertThrows(InvalidMessageException.class, () -> LowResImages.of(r,
                java.util.Map.of(), JobStatus.Timestamps.submitted(r.submittedAt()), 32, List.of(first)));
        assertEquals("images", count.field());
        InvalidMessageException side = assertThrows(InvalidMessageException.class, () -> LowResImages.of(r,
                java.util.Map.of(), JobStatus.Timestamps.submitted(r.submittedAt()), 16, List.of(first, second)));
        assertEquals("images", side.field(), side.getMessage());
        InvalidMessageException notSmaller = assertThrows(InvalidMessageException.class, () -> LowResImages.of(
                r.withSize(32), java.util.Map.of(), JobStatus.Timestamps.submitted(r.submittedAt()), 32,
                List.of(first, second)));
        assertEquals("size", notSmaller.field());
    }

    @Test
    void upsamplingComesAfterDecodingAndBeforeTheEnd() {
        assertTrue(JobState.UPSAMPLING.mayFollow(JobState.DECODING));
        assertFalse(JobState.DECODING.mayFollow(JobState.UPSAMPLING));
        assertTrue(JobState.SUCCEEDED.mayFollow(JobState.UPSAMPLING));
        assertTrue(JobState.DECODING.precedes(JobState.UPSAMPLING));
        assertFalse(JobState.UPSAMPLING.terminal());
        assertEquals(JobState.UPSAMPLING, JobState.fromWire("upsampling"));
    }

    @Test
    void statesNeverGoBackwardsNorLeaveATerminalState() {
        assertTrue(JobState.PRIOR.mayFollow(JobState.QUEUED));
        assertTrue(JobState.DECODING.mayFollow(JobState.DECODING));
        assertTrue(JobState.CANCELLED.mayFollow(JobState.PRIOR));
        assertFalse(JobState.PRIOR.mayFollow(JobState.DECODING));
        assertFalse(JobState.DECODING.mayFollow(JobState.CANCELLED));
        assertFalse(JobState.SUCCEEDED.mayFollow(JobState.CANCELLED));
        assertTrue(JobState.SUCCEEDED.mayFollow(JobState.SUCCEEDED));
    }

    @Test
    void precedesTellsWhetherAJobHasNotYetReachedAStage() {
        assertTrue(JobState.QUEUED.precedes(JobState.PRIOR));
        assertTrue(JobState.PRIOR.precedes(JobState.DECODING));
        assertFalse(JobState.PRIOR.precedes(JobState.PRIOR));
        assertFalse(JobState.DECODING.precedes(JobState.PRIOR));
        assertFalse(JobState.FAILED.precedes(JobState.DECODING), "a finished job precedes nothing");
        assertFalse(JobState.CANCELLED.precedes(JobState.PRIOR));
    }

    @Test
    void aKafkaRequestWithoutSubmittedAtWasSubmittedWhenItsRecordWasWritten() {
        Instant recordTime = Instant.parse("2020-01-02T03:04:05Z");
        GenerationRequest bare = Messages.decodeRequest(utf8("{\"job_id\":\"k-1\",\"prompt\":\"cat\"}"), recordTime);
        assertEquals("2020-01-02T03:04:05Z", bare.submittedAt());
        GenerationRequest dated = Messages.decodeRequest(
                utf8("{\"job_id\":\"k-1\",\"prompt\":\"cat\",\"submitted_at\":\"2021-01-01T00:00:00Z\"}"), recordTime);
        assertEquals("2021-01-01T00:00:00Z", dated.submittedAt(), "the client's own submitted_at is kept");
        assertEquals(bare.seed(), dated.seed());
        InvalidMessageException bad = assertThrows(InvalidMessageException.class,
                () -> Messages.decodeRequest(utf8("{\"job_id\":\"k-1\",\"prompt\":\"cat\",\"n\":\"2\"}"), recordTime));
        assertEquals("n", bad.field());
    }

    @Test
    void theJsonLiteralNullIsRefusedAsAMessageNotReturnedAsNull() {
        for (Class<?> type : List.of(GenerationRequest.class, JobStatus.class, ImageEmbeddings.class)) {
            InvalidMessageException e = assertThrows(InvalidMessageException.class,
                    () -> Messages.decode(utf8("null"), type));
            assertTrue(e.getMessage().contains("JSON object"), e.getMessage());
            assertThrows(InvalidMessageException.class, () -> Messages.decode(utf8("  null \n"), type));
        }
    }

    @Test
    void aPromptWithALoneSurrogateIsRefusedNamingTheField() {
        for (String prompt : List.of("\\ud800", "cat \\udfff", "\\udc00\\ud800", "end \\ud83d")) {
            InvalidMessageException e = assertThrows(InvalidMessageException.class, () -> Messages.decode(
                    utf8("{\"job_id\":\"j\",\"prompt\":\"" + prompt + "\"}"), GenerationRequest.class));
            assertEquals("prompt", e.field(), prompt);
            assertTrue(e.getMessage().contains("lone surrogate"), e.getMessage());
        }
        // a proper pair (an emoji) is text
        GenerationRequest ok = Messages.decode(utf8("{\"job_id\":\"j\",\"prompt\":\"\\ud83d\\udc1d honeybee\"}"),
                GenerationRequest.class);
        assertEquals("\uD83D\uDC1D honeybee", ok.prompt());
        assertThrows(InvalidMessageException.class, () -> Messages.decode(
                utf8("{\"job_id\":\"j\",\"prompt\":\"a\\u0000b\"}"), GenerationRequest.class));
    }

    @Test
    void aVariationRequestCarriesItsImageAndHashOnTheRequestsTopicAndStatusesAndEmbeddingsOnlyTheHash() {
        byte[] png = {(byte) 0x89, 'P', 'N', 'G', 1, 2, 3};
        GenerationRequest r = GenerationRequest.variation("vary-1", "variations", 2, 5L, 3, null, null, null, null, png,
                Instant.parse("2026-12-02T06:00:00Z"), null);
        assertTrue(r.isVariation());
        assertEquals(GenerationRequest.sha256Hex(png), r.imageSha256());
        assertEquals(GenerationRequest.VARIATION_PRIOR_STEPS, r.priorSteps());
        String json = new String(Messages.encode(r), StandardCharsets.UTF_8);
        assertTrue(json.contains("\"image\":") && json.contains("\"image_sha256\":"), json);
        assertFalse(json.contains("\"variation\""), "no derived property in the JSON: " + json);
        GenerationRequest back = Messages.decode(json.getBytes(StandardCharsets.UTF_8), GenerationRequest.class);
        assertArrayEquals(png, back.imagePng().orElseThrow());
        assertTrue(back.sameParameters(r));

        JobStatus status = JobStatus.queued(r);
        assertNull(status.request().image(), "a status leaves the image out");
        assertEquals(r.imageSha256(), status.request().imageSha256(), "and keeps its hash");
        assertTrue(status.request().isVariation());
        assertFalse(new String(Messages.encode(status), StandardCharsets.UTF_8).contains("\"image\":"));

        GenerationRequest text = GenerationRequest.of("t", "a cat", 1, 1L, 2, 2, 0.0, 1.0, 1.0, Instant.now(), null);
        assertFalse(text.isVariation());
        assertFalse(new String(Messages.encode(text), StandardCharsets.UTF_8).contains("image"),
                "a prompt's request reads as before the fields existed");
        assertFalse(text.sameParameters(r.withJobId("t")));
    }

    @Test
    void aVariationWhoseHashDoesNotMatchItsImageOrWhoseImageIsNotBase64IsRefused() {
        String base = "{\"job_id\":\"v\",\"prompt\":\"p\",\"image\":\"iVBORw==\",\"image_sha256\":\"";
        InvalidMessageException wrong = assertThrows(InvalidMessageException.class, () -> Messages.decode(
                (base + "0".repeat(64) + "\"}").getBytes(StandardCharsets.UTF_8), GenerationRequest.class));
        assertEquals("image_sha256", wrong.field());
        InvalidMessageException notBase64 = assertThrows(InvalidMessageException.class, () -> Messages.decode(
                "{\"job_id\":\"v\",\"prompt\":\"p\",\"image\":\"***\"}".getBytes(StandardCharsets.UTF_8),
                GenerationRequest.class));
        assertEquals("image", notBase64.field());
    }

    @Test
    void theOwnerTravelsWithTheRequestAndIsNoParameterOfTheImages() {
        GenerationRequest r = GenerationRequest.of("o", "a cat", 1, 1L, 2, 2, 0.0, 1.0, 1.0, Instant.now(), null);
        GenerationRequest owned = r.withOwner("0f3c2a9e-1b2c-3d4e-8f90-123456789abc");
        GenerationRequest back = Messages.decode(Messages.encode(owned), GenerationRequest.class);
        assertEquals("0f3c2a9e-1b2c-3d4e-8f90-123456789abc", back.owner());
        assertTrue(owned.sameParameters(r));
        assertEquals(owned.owner(), JobStatus.queued(owned).request().owner(), "statuses keep it");
        assertThrows(InvalidMessageException.class, () -> r.withOwner("Not An Owner!"));
    }
}
