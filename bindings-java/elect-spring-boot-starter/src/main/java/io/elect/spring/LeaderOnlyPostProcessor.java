package io.elect.spring;

import io.elect.LeaderElection;
import org.springframework.aop.framework.autoproxy.AbstractBeanFactoryAwareAdvisingPostProcessor;
import org.springframework.aop.support.ComposablePointcut;
import org.springframework.aop.support.DefaultPointcutAdvisor;
import org.springframework.aop.support.annotation.AnnotationMatchingPointcut;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.core.Ordered;

/**
 * Proxies beans with {@link LeaderOnly} methods or classes. It runs before the
 * {@code @Scheduled} post-processor (which is {@code LOWEST_PRECEDENCE}), so scheduled tasks
 * are registered on the proxy and go through the leadership check.
 */
public class LeaderOnlyPostProcessor extends AbstractBeanFactoryAwareAdvisingPostProcessor {
    private static final long serialVersionUID = 1L;

    public LeaderOnlyPostProcessor(ObjectProvider<LeaderElection> election) {
        ComposablePointcut pointcut =
                new ComposablePointcut(AnnotationMatchingPointcut.forMethodAnnotation(LeaderOnly.class))
                        .union(new AnnotationMatchingPointcut(LeaderOnly.class, true));
        this.advisor = new DefaultPointcutAdvisor(pointcut, new LeaderOnlyInterceptor(election));
        setProxyTargetClass(true);
        setBeforeExistingAdvisors(true);
        setOrder(Ordered.LOWEST_PRECEDENCE - 100);
    }
}
