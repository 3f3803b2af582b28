package dalle2.gateway;

import dalle2.messages.GenerationRequest;
import java.util.List;

/**
 * The image sizes a deployment serves: the base decoder's always; the larger ones only where an upsampler pool
 * is deployed, since without one a larger job would wait on {@code generation.lowres} for ever. A gateway cannot
 * see the pool (it may not have started yet), so the deployment says so ({@code --upsampler},
 * {@code DALLE2_UPSAMPLER}).
 *
 * @param upsamplerDeployed whether upsampler workers consume {@code generation.lowres} here
 */
public record ImageSizes(boolean upsamplerDeployed) {

    /** A deployment of the prior and decoder pools only. */
    public static final ImageSizes BASE_ONLY = new ImageSizes(false);
    /** A deployment with the upsampler pool. */
    public static final ImageSizes WITH_UPSAMPLER = new ImageSizes(true);

    public List<Integer> available() {
        return upsamplerDeployed ? GenerationRequest.SIZES : List.of(GenerationRequest.BASE_SIZE);
    }

    /** A request without a size gets the largest this deployment draws. */
    public int defaultSize() {
        List<Integer> sizes = available();
        return sizes.get(sizes.size() - 1);
    }

    /** Refuses a job whose size this deployment cannot draw: 400, naming the field and the sizes it can. */
    public void check(GenerationRequest request) {
        if (!available().contains(request.size())) {
            throw ApiError.badRequest("invalid_request", "size " + request.size() + " needs the upsampler, and no "
                    + "upsampler is deployed here; available sizes: " + available(), "size");
        }
    }
}
