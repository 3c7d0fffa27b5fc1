/**
 * The resource side of elect's fencing tokens: a resource keeps the highest token it has
 * accepted and rejects a lower one, atomically with the write, so a leader whose term is over
 * cannot write after its successor. {@link io.elect.fencing.SqlFence} guards JDBC writes with a
 * fence row per resource; {@link io.elect.fencing.RedisFence} guards a Redis {@code SET} with a
 * fence key, through the Redis client of yours; {@link io.elect.fencing.FencingHeaders} and
 * {@link io.elect.fencing.FenceGate} are the two ends of HTTP fencing (the Spring Boot starter's
 * {@code FencingInterceptor} answers 409 with them). The design is docs/fencing.md.
 */
package io.elect.fencing;
