package io.elect.spring;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Runs the method only while this instance leads; otherwise the call is skipped and returns
 * {@code null} (or 0/false for a primitive). Typically on a {@code @Scheduled} method:
 *
 * <pre>{@code
 * @Scheduled(fixedDelay = 5000)
 * @LeaderOnly
 * public void billing() {
 *     long token = CurrentLeadership.fencingToken().getAsLong(); // for the writes it makes
 * }
 * }</pre>
 *
 * A parameter annotated {@link FencingToken} receives the current fencing token.
 *
 * <p>The run holds the term ({@link io.elect.Term}): its thread is interrupted when the term
 * ends, and with {@code elect.drain} set, resign and close wait for it to return (never past the
 * lease deadline) before giving up the lease. {@link #minLease()} skips a run that could not
 * finish before the lease deadline. On a class,
 * it applies to every public method. The bean is proxied (CGLIB), so self-invocation bypasses
 * it, as for {@code @Transactional}.
 */
@Target({ElementType.METHOD, ElementType.TYPE})
@Retention(RetentionPolicy.RUNTIME)
@Documented
public @interface LeaderOnly {
    /**
     * The lease that must be left for a run to start, e.g. {@code "2s"} or {@code "PT2S"}
     * (Spring's duration formats); empty: any.
     */
    String minLease() default "";
}
