package io.elect.spring;

import io.elect.LeaderElection;
import java.lang.annotation.Annotation;
import java.lang.reflect.Method;
import io.elect.Term;
import java.time.Duration;
import java.util.Optional;
import org.aopalliance.intercept.MethodInterceptor;
import org.aopalliance.intercept.MethodInvocation;
import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;
import org.springframework.aop.ProxyMethodInvocation;
import org.springframework.aop.support.AopUtils;
import org.springframework.boot.convert.DurationStyle;
import org.springframework.core.annotation.AnnotatedElementUtils;
import org.springframework.beans.factory.ObjectProvider;

/** The advice behind {@link LeaderOnly}. */
public class LeaderOnlyInterceptor implements MethodInterceptor {
    private static final Log LOG = LogFactory.getLog(LeaderOnlyInterceptor.class);

    private final ObjectProvider<LeaderElection> election;
    /** Set by {@code elect.leader-only.fallback=run-everywhere} when there is no election. */
    private volatile boolean runEverywhere;

    public LeaderOnlyInterceptor(ObjectProvider<LeaderElection> election) {
        this.election = election;
    }

    /** Runs the methods without an election (local development; see {@link LeaderOnlyPostProcessor}). */
    void runEverywhere() {
        runEverywhere = true;
    }

    @Override
    public Object invoke(MethodInvocation invocation) throws Throwable {
        LeaderElection e = election.getIfAvailable();
        if (e == null && runEverywhere) {
            return invocation.proceed();
        }
        Method method = invocation.getMethod();
        Duration minLease = minLease(method, invocation.getThis());
        // One read decides: a term is handed out only before the lease deadline (minus minLease).
        Optional<Term> term = e == null ? Optional.empty() : e.term(minLease);
        if (term.isEmpty()) {
            if (LOG.isTraceEnabled()) {
                LOG.trace("skipping " + method + ": this instance does not lead"
                        + (minLease.isZero() ? "" : " with " + minLease + " of lease left"));
            }
            return skipped(method.getReturnType());
        }
        try (Term t = term.get()) {
            injectToken(invocation, method, t.token());
            Long previous = CurrentLeadership.enter(t.token());
            t.interruptOnCancel();
            try {
                return invocation.proceed();
            } finally {
                CurrentLeadership.exit(previous);
                t.close();
                if (t.isCancelled()) {
                    Thread.interrupted(); // ours: the scheduler's thread goes back to its pool
                }
            }
        }
    }

    /** The {@link LeaderOnly#minLease()} of the method, or of its class. */
    private static Duration minLease(Method method, Object target) {
        LeaderOnly on = AnnotatedElementUtils.findMergedAnnotation(method, LeaderOnly.class);
        if (on == null && target != null) {
            on = AnnotatedElementUtils.findMergedAnnotation(AopUtils.getTargetClass(target), LeaderOnly.class);
        }
        if (on == null || on.minLease().isEmpty()) {
            return Duration.ZERO;
        }
        try {
            return DurationStyle.detectAndParse(on.minLease());
        } catch (IllegalArgumentException bad) {
            throw new IllegalStateException("@LeaderOnly(minLease = \"" + on.minLease() + "\") on "
                    + method + ": not a duration (e.g. \"2s\" or \"PT2S\")", bad);
        }
    }

    private static void injectToken(MethodInvocation invocation, Method method, long token) {
        Annotation[][] annotations = method.getParameterAnnotations();
        Object[] args = invocation.getArguments();
        for (int i = 0; i < annotations.length; i++) {
            for (Annotation a : annotations[i]) {
                if (a instanceof FencingToken) {
                    Class<?> type = method.getParameterTypes()[i];
                    if (type != long.class && type != Long.class) {
                        throw new IllegalStateException("@FencingToken on " + method
                                + ": parameter " + i + " must be a long or Long, not " + type);
                    }
                    args[i] = token;
                }
            }
        }
        if (invocation instanceof ProxyMethodInvocation p) {
            p.setArguments(args);
        }
    }

    private static Object skipped(Class<?> returnType) {
        if (!returnType.isPrimitive() || returnType == void.class) {
            return null;
        }
        if (returnType == boolean.class) {
            return false;
        }
        if (returnType == char.class) {
            return '\0';
        }
        if (returnType == float.class) {
            return 0f;
        }
        if (returnType == double.class) {
            return 0d;
        }
        if (returnType == long.class) {
            return 0L;
        }
        if (returnType == int.class) {
            return 0;
        }
        if (returnType == short.class) {
            return (short) 0;
        }
        return (byte) 0;
    }
}
