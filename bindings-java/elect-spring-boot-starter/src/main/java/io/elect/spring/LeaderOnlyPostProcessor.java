package io.elect.spring;

import io.elect.LeaderElection;
import java.beans.PropertyDescriptor;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;
import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;
import org.springframework.aop.framework.autoproxy.AbstractBeanFactoryAwareAdvisingPostProcessor;
import org.springframework.aop.support.ComposablePointcut;
import org.springframework.aop.support.DefaultPointcutAdvisor;
import org.springframework.aop.support.annotation.AnnotationMatchingPointcut;
import org.springframework.beans.BeanUtils;
import org.springframework.beans.factory.BeanFactory;
import org.springframework.beans.factory.ListableBeanFactory;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.boot.context.properties.source.ConfigurationPropertyName;
import org.springframework.context.EnvironmentAware;
import org.springframework.core.Ordered;
import org.springframework.core.env.ConfigurableEnvironment;
import org.springframework.core.env.EnumerablePropertySource;
import org.springframework.core.env.Environment;

/**
 * Proxies beans with {@link LeaderOnly} methods or classes. It runs before the
 * {@code @Scheduled} post-processor (which is {@code LOWEST_PRECEDENCE}), so scheduled tasks
 * are registered on the proxy and go through the leadership check.
 *
 * <p>Fails closed: a bean with {@code @LeaderOnly} methods in a context without a
 * {@link LeaderElection} (no {@code elect.uri}, or {@code elect.enabled=false}) stops the
 * context from starting, unless {@code elect.leader-only.fallback=run-everywhere} says, with a
 * warning in the log, that every instance may run them.
 */
public class LeaderOnlyPostProcessor extends AbstractBeanFactoryAwareAdvisingPostProcessor
        implements EnvironmentAware {
    private static final long serialVersionUID = 1L;
    private static final Log LOG = LogFactory.getLog(LeaderOnlyPostProcessor.class);
    static final String FALLBACK = "elect.leader-only.fallback";

    private transient Environment environment;
    private transient ListableBeanFactory beans;
    private final LeaderOnlyInterceptor interceptor;

    public LeaderOnlyPostProcessor(ObjectProvider<LeaderElection> election) {
        ComposablePointcut pointcut =
                new ComposablePointcut(AnnotationMatchingPointcut.forMethodAnnotation(LeaderOnly.class))
                        .union(new AnnotationMatchingPointcut(LeaderOnly.class, true));
        this.interceptor = new LeaderOnlyInterceptor(election);
        this.advisor = new DefaultPointcutAdvisor(pointcut, interceptor);
        setProxyTargetClass(true);
        setBeforeExistingAdvisors(true);
        setOrder(Ordered.LOWEST_PRECEDENCE - 100);
    }

    @Override
    public void setEnvironment(Environment environment) {
        this.environment = environment;
    }

    @Override
    public void setBeanFactory(BeanFactory beanFactory) {
        super.setBeanFactory(beanFactory);
        this.beans = beanFactory instanceof ListableBeanFactory l ? l : null;
    }

    @Override
    public Object postProcessAfterInitialization(Object bean, String beanName) {
        if (isEligible(bean, beanName) && !hasElection()) {
            withoutElection(beanName);
        }
        return super.postProcessAfterInitialization(bean, beanName);
    }

    private boolean hasElection() {
        return beans == null || beans.getBeanNamesForType(LeaderElection.class, true, false).length > 0;
    }

    private void withoutElection(String beanName) {
        ElectProperties.Fallback fallback = Binder.get(environment)
                .bind(FALLBACK, ElectProperties.Fallback.class).orElse(ElectProperties.Fallback.FAIL);
        if (fallback == ElectProperties.Fallback.RUN_EVERYWHERE) {
            LOG.warn("elect: no election is configured and " + FALLBACK + "=run-everywhere: the @LeaderOnly"
                    + " methods of bean '" + beanName + "' run on EVERY instance. For local development only.");
            interceptor.runEverywhere();
            return;
        }
        throw new IllegalStateException(missingElection(beanName));
    }

    /** The one message of a context that would otherwise run @LeaderOnly methods everywhere. */
    String missingElection(String beanName) {
        List<String> why = new ArrayList<>();
        if (!environment.containsProperty("elect.uri")) {
            why.add("elect.uri is not set");
        }
        if ("false".equalsIgnoreCase(environment.getProperty("elect.enabled"))) {
            why.add("elect.enabled is false");
        }
        TreeSet<String> unknown = unknownElectProperties();
        if (!unknown.isEmpty()) {
            why.add("elect does not know " + String.join(", ", unknown) + " (misspelt?)");
        }
        return "elect: bean '" + beanName + "' has @LeaderOnly methods, but there is no leader election"
                + (why.isEmpty() ? "" : " (" + String.join("; ", why) + ")")
                + ", so they would run on every instance. Set elect.uri to the store, e.g."
                + " elect.uri=etcd://etcd1:2379/apps or file:///var/lib/elect; for local development"
                + " only, " + FALLBACK + "=run-everywhere runs them on every instance.";
    }

    /** The {@code elect.*} keys of the environment that bind to none of {@link ElectProperties}. */
    private TreeSet<String> unknownElectProperties() {
        TreeSet<String> unknown = new TreeSet<>();
        if (!(environment instanceof ConfigurableEnvironment env)) {
            return unknown;
        }
        List<ConfigurationPropertyName> known = new ArrayList<>();
        // elect-java's own system properties (elect.native.dir, elect.native.library).
        known.add(ConfigurationPropertyName.of("elect.native"));
        for (PropertyDescriptor d : BeanUtils.getPropertyDescriptors(ElectProperties.class)) {
            if (d.getReadMethod() != null && !d.getName().equals("class")) {
                known.add(ConfigurationPropertyName.adapt("elect." + d.getName(), '.'));
            }
        }
        env.getPropertySources().forEach(source -> {
            if (source instanceof EnumerablePropertySource<?> e) {
                for (String key : e.getPropertyNames()) {
                    if (!key.regionMatches(true, 0, "elect.", 0, 6)) {
                        continue;
                    }
                    ConfigurationPropertyName n = ConfigurationPropertyName.adapt(key, '.');
                    if (known.stream().noneMatch(k -> k.equals(n) || k.isAncestorOf(n))) {
                        unknown.add(key);
                    }
                }
            }
        });
        return unknown;
    }
}
