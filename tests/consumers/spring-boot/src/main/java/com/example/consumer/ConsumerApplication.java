package com.example.consumer;

import io.elect.spring.CurrentLeadership;
import io.elect.spring.LeaderOnly;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.context.event.ApplicationReadyEvent;
import org.springframework.context.event.EventListener;
import org.springframework.scheduling.annotation.EnableScheduling;
import org.springframework.scheduling.annotation.Scheduled;
import org.springframework.stereotype.Component;

/**
 * Prints {@code TICK} on every run of the schedule and {@code JOB <token>} when the
 * {@code @LeaderOnly} job runs, so a test can tell that every instance was scheduling and
 * only one did the job.
 */
@SpringBootApplication
@EnableScheduling
public class ConsumerApplication {
    public static void main(String[] args) {
        SpringApplication.run(ConsumerApplication.class, args);
    }

    @Component
    static class Job {
        @Value("${elect.id}")
        String id;

        @Scheduled(fixedDelay = 100)
        public void tick() {
            System.out.println("TICK " + id);
        }

        @Scheduled(fixedDelay = 100)
        @LeaderOnly
        public void run() {
            System.out.println("JOB " + id + " " + CurrentLeadership.fencingToken().getAsLong());
        }

        @EventListener(ApplicationReadyEvent.class)
        public void ready() {
            System.out.println("STARTED " + id);
        }
    }
}
