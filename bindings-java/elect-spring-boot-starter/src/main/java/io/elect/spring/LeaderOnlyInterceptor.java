package io.elect.spring;

import io.elect.LeaderElection;
import java.lang.annotation.Annotation;
import java.lang.reflect.Method;
import java.util.OptionalLong;
import org.aopalliance.intercept.MethodInterceptor;
import org.aopalliance.intercept.MethodInvocation;
import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;
import org.springframework.aop.ProxyMethodInvocation;
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
        // One read of the token decides: it is empty unless the lease deadline is still ahead.
        OptionalLong token = e == null ? OptionalLong.empty() : e.fencingToken();
        Method method = invocation.getMethod();
        if (token.isEmpty()) {
            if (LOG.isTraceEnabled()) {
                LOG.trace("skipping " + method + ": this instance does not lead");
            }
            return skipped(method.getReturnType());
        }
        long t = token.getAsLong();
        injectToken(invocation, method, t);
        Long previous = CurrentLeadership.enter(t);
        try {
            return invocation.proceed();
        } finally {
            CurrentLeadership.exit(previous);
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
