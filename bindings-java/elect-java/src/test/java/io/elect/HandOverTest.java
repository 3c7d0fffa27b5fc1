package io.elect;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * {@link LeaderElection#handOverTo}: the leader names its successor, which leads next with a
 * greater token, and the leader's term ends as {@code preempted}; a non-member, the leader
 * itself and a caller that does not lead get clear errors and change nothing.
 */
class HandOverTest {
    static final Duration WAIT = Duration.ofSeconds(15);

    @Test
    void theLeaderHandsOverToTheNamedMember() throws Exception {
        String uri = Stores.with(Stores.fileUri(), "ttl=2s&renew=300ms&retry=200ms");
        String name = Stores.uniqueName("handover");
        Recorder ra = new Recorder();
        Recorder rb = new Recorder();
        CountDownLatch bJoined = new CountDownLatch(1);
        LeadershipListener joins = new LeadershipListener() {
            @Override
            public void onMemberJoined(Member member) {
                if (member.id().equals("b")) {
                    bJoined.countDown();
                }
            }
        };
        try (LeaderElection a = LeaderElection.builder(uri, name).id("a").listener(ra).listener(joins).build();
                LeaderElection b = LeaderElection.builder(uri, name).id("b").listener(rb).build()) {
            a.start();
            assertTrue(a.awaitLeadership(WAIT));
            long t1 = a.fencingToken().orElseThrow();
            b.start();

            var notLeading = assertThrows(ElectException.NotLeader.class, () -> b.handOverTo("a"));
            assertTrue(notLeading.getMessage().contains("does not lead"), notLeading.getMessage());
            var unknown = assertThrows(ElectException.InvalidArgument.class, () -> a.handOverTo("nobody"));
            assertTrue(unknown.getMessage().contains("`nobody` is not a member"), unknown.getMessage());
            var itself = assertThrows(ElectException.InvalidArgument.class, () -> a.handOverTo("a"));
            assertTrue(itself.getMessage().contains("own id"), itself.getMessage());
            var none = assertThrows(ElectException.InvalidArgument.class, () -> a.handOverTo(null));
            assertTrue(none.getMessage().contains("successor"), none.getMessage());
            assertTrue(a.isLeader() && a.fencingToken().orElseThrow() == t1, "nothing changed");

            // a checks against the members it was told of.
            assertTrue(bJoined.await(WAIT.toMillis(), TimeUnit.MILLISECONDS), "a never saw b join");
            a.handOverTo("b");
            assertFalse(a.isLeader(), "returns after giving up");
            String elected = rb.await("elected ", WAIT);
            long t2 = Long.parseLong(elected.substring("elected ".length()));
            assertTrue(t2 > t1, "tokens grow: " + t1 + " then " + t2);
            assertEquals(t2, b.fencingToken().orElseThrow());
            ra.await("revoked " + t1 + " preempted", WAIT);
            ElectionStats stats = a.stats();
            assertEquals(1, stats.revocations(RevokeReason.PREEMPTED), stats.toString());
            assertEquals(0, stats.revocations(RevokeReason.RESIGNED), stats.toString());
            assertEquals(0, stats.storeErrors(), stats.toString());
        }
    }
}
