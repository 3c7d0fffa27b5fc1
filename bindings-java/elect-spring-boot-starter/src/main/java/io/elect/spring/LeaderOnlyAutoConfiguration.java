package io.elect.spring;

import io.elect.LeaderElection;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.context.annotation.Bean;

/**
 * {@link LeaderOnly}, whatever {@code elect.uri} and {@code elect.enabled} say: without an
 * election, {@link LeaderOnlyPostProcessor} stops the context instead of letting every instance
 * run the methods.
 */
@AutoConfiguration
@ConditionalOnClass(LeaderElection.class)
public class LeaderOnlyAutoConfiguration {

    @Bean
    static LeaderOnlyPostProcessor leaderOnlyPostProcessor(ObjectProvider<LeaderElection> election) {
        return new LeaderOnlyPostProcessor(election);
    }
}
