package io.elect.spring;

import io.elect.LeaderElection;
import org.springframework.context.SmartLifecycle;

/**
 * Starts campaigning once the context has started (last phase, so every bean a leader job
 * needs is up) and closes the election first on shutdown, which resigns: another instance
 * takes over at once instead of after the lease runs out. Closing is final, so a stopped
 * context does not campaign again.
 */
public class ElectLifecycle implements SmartLifecycle {
    private final LeaderElection election;
    private final boolean autoStartup;
    private volatile boolean running;

    public ElectLifecycle(LeaderElection election, boolean autoStartup) {
        this.election = election;
        this.autoStartup = autoStartup;
    }

    @Override
    public void start() {
        if (!running && !election.isClosed()) {
            election.start();
            running = true;
        }
    }

    @Override
    public void stop() {
        election.close();
        running = false;
    }

    @Override
    public boolean isRunning() {
        return running;
    }

    @Override
    public boolean isAutoStartup() {
        return autoStartup;
    }
}
