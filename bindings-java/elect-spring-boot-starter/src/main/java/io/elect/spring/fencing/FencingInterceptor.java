package io.elect.spring.fencing;

import io.elect.fencing.FenceGate;
import io.elect.fencing.FencingHeaders;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.OptionalLong;
import org.springframework.web.servlet.HandlerInterceptor;

/**
 * Answers 409 Conflict to a request whose {@code Elect-Fencing-Token} is older than the highest
 * seen for its {@code Elect-Election}, 400 to malformed headers (428 to missing ones when
 * required), and lets the rest through. A newer token waits until the older token's requests
 * in flight have completed ({@link FenceGate}), so the check is atomic with the handlers' work.
 * Register it for the paths that write the resource:
 *
 * <pre>{@code
 * public void addInterceptors(InterceptorRegistry registry) { // in a WebMvcConfigurer
 *     registry.addInterceptor(new FencingInterceptor()).addPathPatterns("/jobs/**");
 * }
 * }</pre>
 *
 * Synchronous handlers only: the gate is left in {@code afterCompletion}.
 */
public class FencingInterceptor implements HandlerInterceptor {
    private static final String ADMITTED = FencingInterceptor.class.getName() + ".election";
    private final FenceGate gate;
    private final boolean require;

    /** A gate of its own; requests without the headers pass. */
    public FencingInterceptor() {
        this(new FenceGate(), false);
    }

    /**
     * @param gate keeps the highest tokens; share one between the interceptors of one resource
     * @param require refuse requests without the headers (428) instead of passing them
     */
    public FencingInterceptor(FenceGate gate, boolean require) {
        this.gate = gate;
        this.require = require;
    }

    /** The gate, to read the highest tokens. */
    public FenceGate gate() {
        return gate;
    }

    @Override
    public boolean preHandle(HttpServletRequest request, HttpServletResponse response, Object handler)
            throws IOException, InterruptedException {
        String election = request.getHeader(FencingHeaders.ELECTION);
        String raw = request.getHeader(FencingHeaders.TOKEN);
        if (election == null && raw == null) {
            return !require || refuse(response, 428, error("missing " + FencingHeaders.ELECTION + " and " + FencingHeaders.TOKEN));
        }
        if (election == null || election.isEmpty() || raw == null) {
            String missing = election == null || election.isEmpty() ? FencingHeaders.ELECTION : FencingHeaders.TOKEN;
            return refuse(response, 400, error(missing + " header missing or empty"));
        }
        long token;
        try {
            token = Long.parseLong(raw.trim());
        } catch (NumberFormatException e) {
            token = 0;
        }
        if (token <= 0) {
            return refuse(response, 400, error(FencingHeaders.TOKEN + " is not a token in 1.." + Long.MAX_VALUE));
        }
        OptionalLong newer = gate.enter(election, token);
        if (newer.isPresent()) {
            return refuse(response, 409, "{\"error\": \"stale fencing token\", \"election\": \"" + json(election)
                    + "\", \"token\": " + token + ", \"highest\": " + newer.getAsLong() + "}");
        }
        request.setAttribute(ADMITTED, election);
        return true;
    }

    @Override
    public void afterCompletion(HttpServletRequest request, HttpServletResponse response, Object handler, Exception ex) {
        Object election = request.getAttribute(ADMITTED);
        if (election != null) {
            request.removeAttribute(ADMITTED);
            gate.leave((String) election);
        }
    }

    private static boolean refuse(HttpServletResponse response, int status, String body) throws IOException {
        response.setStatus(status);
        response.setContentType("application/json");
        response.getOutputStream().write(body.getBytes(StandardCharsets.UTF_8));
        return false;
    }

    private static String error(String message) {
        return "{\"error\": \"" + json(message) + "\"}";
    }

    private static String json(String s) {
        return s.replace("\\", "\\\\").replace("\"", "\\\"");
    }
}
