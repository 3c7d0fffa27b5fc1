package io.elect.spring;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import org.springframework.boot.context.properties.ConfigurationProperties;

/**
 * {@code elect.*}: which election this application campaigns for. Only {@code elect.uri} is
 * required; the rest default to the library's defaults.
 *
 * <pre>
 * elect.uri=zk://zk1:2181,zk2:2181/apps
 * # default: spring.application.name
 * elect.name=billing-cron
 * elect.ttl=10s
 * # any store option by its URI name
 * elect.options.table=elect_leases
 * </pre>
 */
@ConfigurationProperties("elect")
public class ElectProperties {
    /** Whether to create and start the election. */
    private boolean enabled = true;
    /** The store: file:///dir, etcd://h:2379/prefix, zk://h:2181/chroot, redis://h:6379/0, postgres://u:p@h/db. */
    private String uri;
    /** The election's name; defaults to spring.application.name. */
    private String name;
    /** This candidate's id; default hostname-pid-random. */
    private String id;
    /** What other instances see next to the id, e.g. this instance's URL. */
    private String value;
    /** Lease time to live (default 10s). */
    private Duration ttl;
    /** Renewal interval (default ttl/3). */
    private Duration renew;
    /** Pause between attempts after a store error (default 1s). */
    private Duration retry;
    /** Pause after losing or resigning before campaigning again (default 0). */
    private Duration silence;
    /**
     * Time subtracted from the lease deadline before this instance stops believing it leads,
     * covering clock-rate differences and renewal delay (default ttl/10).
     */
    private Duration margin;
    /**
     * How long resign and close wait for the term's work (running {@code @LeaderOnly} methods,
     * open terms) to end before giving up the lease, never past the lease deadline (default 0).
     */
    private Duration drain;
    /**
     * This instance's priority (default 0; higher is preferred): a leader hands over, without a
     * gap or an overlap, to an instance of higher priority in the election for one ttl.
     */
    private Integer priority;
    /** Whether this instance takes over from a leader of lower priority (default: once a priority is set). */
    private Boolean preempt;
    /** After a leader is lost without resigning, the store elects nobody for this long (file, Redis, SQL stores). */
    private Duration holdoff;
    /** After this leader is lost without resigning, the store keeps the leadership for its id alone for this long. */
    private Duration sticky;
    /** Limit on each attempt to connect to the store (default 5s); attempts repeat every retry. */
    private Duration connectTimeout;
    /** Further options by their URI names, e.g. TLS files. */
    private Map<String, String> options = new LinkedHashMap<>();
    /** Start campaigning when the context starts. */
    private boolean autoStartup = true;
    /** The role reported in Spring Integration's leader events; default: the name. */
    private String role;
    /** What {@code @LeaderOnly} methods do without an election. */
    private final LeaderOnlySettings leaderOnly = new LeaderOnlySettings();

    public boolean isEnabled() { return enabled; }
    public void setEnabled(boolean enabled) { this.enabled = enabled; }
    public String getUri() { return uri; }
    public void setUri(String uri) { this.uri = uri; }
    public String getName() { return name; }
    public void setName(String name) { this.name = name; }
    public String getId() { return id; }
    public void setId(String id) { this.id = id; }
    public String getValue() { return value; }
    public void setValue(String value) { this.value = value; }
    public Duration getTtl() { return ttl; }
    public void setTtl(Duration ttl) { this.ttl = ttl; }
    public Duration getRenew() { return renew; }
    public void setRenew(Duration renew) { this.renew = renew; }
    public Duration getRetry() { return retry; }
    public void setRetry(Duration retry) { this.retry = retry; }
    public Duration getSilence() { return silence; }
    public void setSilence(Duration silence) { this.silence = silence; }
    public Duration getMargin() { return margin; }
    public void setMargin(Duration margin) { this.margin = margin; }
    public Duration getDrain() { return drain; }
    public void setDrain(Duration drain) { this.drain = drain; }
    public Integer getPriority() { return priority; }
    public void setPriority(Integer priority) { this.priority = priority; }
    public Boolean getPreempt() { return preempt; }
    public void setPreempt(Boolean preempt) { this.preempt = preempt; }
    public Duration getHoldoff() { return holdoff; }
    public void setHoldoff(Duration holdoff) { this.holdoff = holdoff; }
    public Duration getSticky() { return sticky; }
    public void setSticky(Duration sticky) { this.sticky = sticky; }
    public Duration getConnectTimeout() { return connectTimeout; }
    public void setConnectTimeout(Duration connectTimeout) { this.connectTimeout = connectTimeout; }
    public Map<String, String> getOptions() { return options; }
    public void setOptions(Map<String, String> options) { this.options = options; }
    public boolean isAutoStartup() { return autoStartup; }
    public void setAutoStartup(boolean autoStartup) { this.autoStartup = autoStartup; }
    public String getRole() { return role; }
    public void setRole(String role) { this.role = role; }
    public LeaderOnlySettings getLeaderOnly() { return leaderOnly; }

    /** {@code elect.leader-only.*}. */
    public static class LeaderOnlySettings {
        /**
         * Without an election (no elect.uri, or elect.enabled=false): FAIL refuses to start a
         * context with @LeaderOnly methods; RUN_EVERYWHERE runs them on every instance, for
         * local development only.
         */
        private Fallback fallback = Fallback.FAIL;

        public Fallback getFallback() { return fallback; }
        public void setFallback(Fallback fallback) { this.fallback = fallback; }
    }

    /** See {@link LeaderOnlySettings#getFallback()}. */
    public enum Fallback {
        /** The context fails to start, naming elect.uri. */
        FAIL,
        /** Every instance runs @LeaderOnly methods, with a warning at startup. */
        RUN_EVERYWHERE
    }
}
