package io.elect.example;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.scheduling.annotation.EnableScheduling;

/**
 * Run several copies against one store: the {@link BillingJob} runs on exactly one of them,
 * and on another within the lease ttl when that one dies.
 *
 * <pre>
 * java -jar elect-example-spring-boot.jar --elect.uri=file:///tmp/elect-demo --elect.id=a
 * </pre>
 */
@SpringBootApplication
@EnableScheduling
public class ExampleApplication {
    public static void main(String[] args) {
        SpringApplication.run(ExampleApplication.class, args);
    }
}
