package io.elect;

/**
 * A live candidate of an election.
 *
 * @param id    its candidate id
 * @param value what it published next to its id; may be empty
 */
public record Member(String id, String value) {
}
