package io.elect;

/**
 * Who leads an election, as any candidate or observer sees it.
 *
 * @param id    the leader's candidate id
 * @param value what the leader published next to its id (e.g. its address); may be empty
 * @param term  the leader's fencing token
 */
public record LeaderInfo(String id, String value, long term) {
}
