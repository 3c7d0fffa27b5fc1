package io.elect.spring;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;

/** Without an election, a context with {@link LeaderOnly} methods does not start (or, opted out, says so). */
@ExtendWith(OutputCaptureExtension.class)
class LeaderOnlyFailsClosedTest {
    @TempDir
    Path store;

    private final ApplicationContextRunner runner = new ApplicationContextRunner()
            .withConfiguration(AutoConfigurations.of(ElectAutoConfiguration.class, LeaderOnlyAutoConfiguration.class))
            .withBean("job", CountingJob.class)
            .withPropertyValues("elect.name=fail-closed", "elect.auto-startup=false");

    private static String startupFailure(org.springframework.boot.test.context.assertj.AssertableApplicationContext c) {
        assertThat(c).hasFailed();
        Throwable t = c.getStartupFailure();
        while (t.getCause() != null) {
            t = t.getCause();
        }
        return t.getMessage();
    }

    @Test
    void withoutAUriTheContextFailsNamingTheProperty() {
        runner.run(context -> {
            String message = startupFailure(context);
            assertThat(message).startsWith("elect: bean 'job' has @LeaderOnly methods, but there is no leader election"
                    + " (elect.uri is not set), so they would run on every instance. Set elect.uri");
            assertThat(message).contains("elect.leader-only.fallback=run-everywhere");
        });
    }

    @Test
    void aMisspeltUriIsNamedToo() {
        runner.withPropertyValues("elect.url=file://" + store).run(context -> {
            String message = startupFailure(context);
            assertThat(message).contains("elect.uri is not set; elect does not know elect.url (misspelt?)");
        });
    }

    @Test
    void disablingTheElectionDoesNotLetTheMethodsRunEverywhere() {
        runner.withPropertyValues("elect.uri=file://" + store, "elect.enabled=false").run(context -> {
            assertThat(startupFailure(context)).contains("(elect.enabled is false)");
        });
    }

    @Test
    void aContextWithoutLeaderOnlyMethodsNeedsNoElection() {
        new ApplicationContextRunner()
                .withConfiguration(AutoConfigurations.of(ElectAutoConfiguration.class, LeaderOnlyAutoConfiguration.class))
                .run(context -> assertThat(context).hasNotFailed());
    }

    @Test
    void theExplicitOptOutRunsTheMethodsEverywhereAndLogsIt(CapturedOutput output) {
        runner.withPropertyValues("elect.leader-only.fallback=run-everywhere").run(context -> {
            assertThat(context).hasNotFailed();
            CountingJob job = context.getBean(CountingJob.class);
            assertThat(job.run()).isEqualTo(1);
            assertThat(job.run()).isEqualTo(2);
            assertThat(output).contains("elect.leader-only.fallback=run-everywhere: the @LeaderOnly methods of bean"
                    + " 'job' run on EVERY instance");
        });
    }

    @Test
    void withAnElectionTheOptOutChangesNothing() {
        runner.withPropertyValues("elect.uri=file://" + store, "elect.leader-only.fallback=run-everywhere")
                .run(context -> {
                    assertThat(context).hasNotFailed();
                    assertThat(context.getBean(CountingJob.class).run()).isZero(); // not started: skipped
                });
    }
}
