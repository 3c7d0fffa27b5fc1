package io.elect.spring;

import io.elect.LeaderElection;
import io.elect.LeadershipListener;
import java.util.function.Consumer;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.ApplicationEventPublisher;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.Ordered;
import org.springframework.core.annotation.Order;
import org.springframework.core.env.Environment;

/**
 * With {@code elect.uri} set: a {@link LeaderElection} bean that connects in the background
 * (the context starts while the store is down) and campaigns from context start to shutdown
 * ({@link ElectLifecycle}), Spring application events on grant and revoke, and
 * {@link LeaderOnly}. When present on the classpath: Spring Integration's leader events, an
 * Actuator health indicator ({@code elect}) and Micrometer meters. Every
 * {@link LeadershipListener} bean receives the election's events. {@link LeaderOnly} itself is
 * {@link LeaderOnlyAutoConfiguration}'s, present with or without an election.
 */
@AutoConfiguration
@ConditionalOnClass(LeaderElection.class)
@ConditionalOnProperty(prefix = "elect", name = "enabled", matchIfMissing = true)
@EnableConfigurationProperties(ElectProperties.class)
public class ElectAutoConfiguration {

    @Configuration(proxyBeanMethods = false)
    @ConditionalOnProperty(prefix = "elect", name = "uri")
    static class ElectionConfiguration {

        @Bean(destroyMethod = "close")
        @ConditionalOnMissingBean
        LeaderElection leaderElection(ElectProperties properties, Environment environment,
                ObjectProvider<LeadershipListener> listeners) {
            LeaderElection.Builder builder =
                    LeaderElection.builder(properties.getUri(), electionName(properties, environment));
            set(properties.getId(), builder::id);
            set(properties.getValue(), builder::value);
            set(properties.getTtl(), builder::ttl);
            set(properties.getRenew(), builder::renew);
            set(properties.getRetry(), builder::retry);
            set(properties.getSilence(), builder::silence);
            set(properties.getMargin(), builder::margin);
            set(properties.getDrain(), builder::drain);
            set(properties.getPriority(), builder::priority);
            set(properties.getPreempt(), builder::preempt);
            set(properties.getHoldoff(), builder::holdoff);
            set(properties.getSticky(), builder::sticky);
            set(properties.getConnectTimeout(), builder::connectTimeout);
            properties.getOptions().forEach(builder::option);
            listeners.orderedStream().forEach(builder::listener);
            // The context starts while the store is down; health shows the connection state.
            return builder.connectInBackground();
        }

        @Bean
        @ConditionalOnMissingBean
        ElectLifecycle electLifecycle(LeaderElection election, ElectProperties properties) {
            return new ElectLifecycle(election, properties.isAutoStartup());
        }

        @Bean
        ApplicationEventBridge electApplicationEvents(ApplicationEventPublisher publisher,
                ObjectProvider<LeaderElection> election) {
            return new ApplicationEventBridge(publisher, election);
        }

        @Configuration(proxyBeanMethods = false)
        @ConditionalOnClass(name = "org.springframework.integration.leader.event.OnGrantedEvent")
        static class IntegrationConfiguration {
            @Bean
            IntegrationEventBridge electIntegrationEvents(ApplicationEventPublisher publisher,
                    ObjectProvider<LeaderElection> election, ElectProperties properties,
                    Environment environment) {
                String role = properties.getRole() != null
                        ? properties.getRole() : electionName(properties, environment);
                return new IntegrationEventBridge(publisher, election, role);
            }
        }

        @Configuration(proxyBeanMethods = false)
        @ConditionalOnClass(name = "org.springframework.boot.actuate.health.HealthIndicator")
        @ConditionalOnProperty(prefix = "management.health.elect", name = "enabled", matchIfMissing = true)
        static class HealthConfiguration {
            @Bean
            @ConditionalOnMissingBean(name = "electHealthIndicator")
            ElectHealthIndicator electHealthIndicator(LeaderElection election) {
                return new ElectHealthIndicator(election);
            }
        }

        @Configuration(proxyBeanMethods = false)
        @ConditionalOnClass(name = "io.micrometer.core.instrument.MeterRegistry")
        static class MetricsConfiguration {
            /** First among the listeners, so the meters are current when the others run. */
            @Bean
            @Order(Ordered.HIGHEST_PRECEDENCE)
            ElectMetrics electMetrics(ObjectProvider<LeaderElection> election, ElectProperties properties,
                    Environment environment) {
                return new ElectMetrics(election, electionName(properties, environment));
            }
        }
    }

    static String electionName(ElectProperties properties, Environment environment) {
        if (properties.getName() != null && !properties.getName().isEmpty()) {
            return properties.getName();
        }
        String application = environment.getProperty("spring.application.name");
        if (application != null && !application.isEmpty()) {
            return application;
        }
        throw new IllegalStateException("elect: set elect.name (or spring.application.name) to name the election");
    }

    private static <T> void set(T value, Consumer<T> setter) {
        if (value != null) {
            setter.accept(value);
        }
    }

}
