package io.elect;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.elect.spring.ElectProperties;
import java.lang.reflect.Method;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * Every option of core is a property of the starter ({@code elect.connect-timeout} for
 * {@code connect_timeout}): a core option the properties lack fails here. In package
 * {@code io.elect} to read core's table through the native library, as TablesTest does.
 */
class PropertiesTablesTest {
    @Test
    void thePropertiesSetEveryOption() {
        NativeLibrary.load();
        List<String> setters = Arrays.stream(ElectProperties.class.getMethods())
                .map(Method::getName).collect(Collectors.toList());
        List<String> options = Arrays.stream(NativeElection.tables().split("\n"))
                .map(l -> l.split(" "))
                .filter(r -> r[0].equals("option"))
                .map(r -> r[1])
                .collect(Collectors.toList());
        assertTrue(options.size() >= 8, "core lists its options");
        for (String option : options) {
            String camel = camelCase(option);
            String setter = "set" + Character.toUpperCase(camel.charAt(0)) + camel.substring(1);
            assertTrue(setters.contains(setter), "ElectProperties lacks option `" + option + "`");
        }
    }

    private static String camelCase(String snake) {
        StringBuilder out = new StringBuilder();
        boolean up = false;
        for (char c : snake.toCharArray()) {
            if (c == '_') {
                up = true;
            } else {
                out.append(up ? Character.toUpperCase(c) : c);
                up = false;
            }
        }
        return out.toString();
    }
}
