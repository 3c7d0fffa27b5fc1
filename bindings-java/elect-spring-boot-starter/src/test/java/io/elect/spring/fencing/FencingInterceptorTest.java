package io.elect.spring.fencing;

import static org.assertj.core.api.Assertions.assertThat;

import io.elect.fencing.FenceGate;
import io.elect.fencing.FencingHeaders;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.autoconfigure.ImportAutoConfiguration;
import org.springframework.boot.autoconfigure.http.HttpMessageConvertersAutoConfiguration;
import org.springframework.boot.autoconfigure.web.servlet.DispatcherServletAutoConfiguration;
import org.springframework.boot.autoconfigure.web.servlet.ServletWebServerFactoryAutoConfiguration;
import org.springframework.boot.autoconfigure.web.servlet.WebMvcAutoConfiguration;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Import;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestHeader;
import org.springframework.web.bind.annotation.RestController;
import org.springframework.web.servlet.config.annotation.InterceptorRegistry;
import org.springframework.web.servlet.config.annotation.WebMvcConfigurer;

/** The interceptor in a real Spring MVC application on an embedded Tomcat. */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT, classes = FencingInterceptorTest.App.class)
class FencingInterceptorTest {
    /** Writes the handler accepted, as {@code token/path}; {@code /slow} waits for RELEASE. */
    static final List<String> WRITES = new CopyOnWriteArrayList<>();
    static volatile CountDownLatch entered = new CountDownLatch(1);
    static volatile CountDownLatch release = new CountDownLatch(1);

    /** Only what serves Spring MVC on Tomcat: the test starts in seconds on a loaded machine. */
    @SpringBootConfiguration
    @ImportAutoConfiguration({ServletWebServerFactoryAutoConfiguration.class, DispatcherServletAutoConfiguration.class,
            WebMvcAutoConfiguration.class, HttpMessageConvertersAutoConfiguration.class})
    @Import(Jobs.class)
    static class App {
        @Bean
        FencingInterceptor fencingInterceptor() {
            return new FencingInterceptor(new FenceGate(), false);
        }

        @Bean
        WebMvcConfigurer fencing(FencingInterceptor interceptor) {
            return new WebMvcConfigurer() {
                @Override
                public void addInterceptors(InterceptorRegistry registry) {
                    registry.addInterceptor(interceptor).addPathPatterns("/jobs/**");
                }
            };
        }
    }

    @RestController
    static class Jobs {
        @PostMapping("/jobs/{path}")
        String write(@PathVariable String path, @RequestHeader(name = FencingHeaders.TOKEN, required = false) String token)
                throws InterruptedException {
            if (path.equals("slow")) {
                entered.countDown();
                release.await(15, TimeUnit.SECONDS);
            }
            WRITES.add(token + "/" + path);
            return "written";
        }
    }

    @LocalServerPort
    int port;
    @Autowired
    FencingInterceptor interceptor;
    private final HttpClient http = HttpClient.newHttpClient();

    @BeforeEach
    void reset() {
        WRITES.clear();
        entered = new CountDownLatch(1);
        release = new CountDownLatch(1);
    }

    private int post(String path, Map<String, String> headers) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/jobs/" + path))
                .POST(HttpRequest.BodyPublishers.noBody());
        headers.forEach(b::header);
        try {
            HttpResponse<String> r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
            if (r.statusCode() == 409) {
                assertThat(r.body()).contains("stale fencing token");
            }
            return r.statusCode();
        } catch (Exception e) {
            throw new RuntimeException(e);
        }
    }

    @Test
    void anOlderTokenIsRejectedWith409() {
        assertThat(post("a", FencingHeaders.of("jobs-a", 5))).isEqualTo(200);
        assertThat(post("b", FencingHeaders.of("jobs-a", 7))).isEqualTo(200);
        assertThat(post("c", FencingHeaders.of("jobs-a", 5))).isEqualTo(409);
        assertThat(post("d", FencingHeaders.of("jobs-a", 7))).isEqualTo(200);
        assertThat(post("e", FencingHeaders.of("other", 5))).isEqualTo(200);
        assertThat(post("f", Map.of())).isEqualTo(200);
        assertThat(post("g", Map.of(FencingHeaders.ELECTION, "jobs-a", FencingHeaders.TOKEN, "x"))).isEqualTo(400);
        assertThat(WRITES).containsExactly("5/a", "7/b", "7/d", "5/e", "null/f");
    }

    @Test
    void aNewerTokenWaitsForTheOlderRequestsInFlight() throws Exception {
        CompletableFuture<Integer> slow = CompletableFuture.supplyAsync(() -> post("slow", FencingHeaders.of("jobs-b", 5)));
        assertThat(entered.await(15, TimeUnit.SECONDS)).isTrue();
        CompletableFuture<Integer> newer = CompletableFuture.supplyAsync(() -> post("new", FencingHeaders.of("jobs-b", 7)));
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
        while (interceptor.gate().highest("jobs-b") != 7) { // the newer request waits in the gate
            assertThat(System.nanoTime()).isLessThan(end);
            Thread.sleep(5);
        }
        assertThat(post("late", FencingHeaders.of("jobs-b", 5))).isEqualTo(409);
        release.countDown();
        assertThat(slow.get(15, TimeUnit.SECONDS)).isEqualTo(200);
        assertThat(newer.get(15, TimeUnit.SECONDS)).isEqualTo(200);
        assertThat(WRITES).containsExactly("5/slow", "7/new");
    }
}
