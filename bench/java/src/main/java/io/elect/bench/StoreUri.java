package io.elect.bench;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The parts of an elect SQL store URI ({@code scheme://user:password@host:port/database?k=v})
 * that a JDBC peer needs. As in elect, the user information ends at the last {@code @}, and
 * user, password and values are percent-decoded. The password is never part of a message.
 */
record StoreUri(String raw, String scheme, String user, String password, String hostPort, String database,
        Map<String, String> params) {

    static StoreUri parse(String raw) {
        int sep = raw.indexOf("://");
        if (sep <= 0) {
            throw new IllegalArgumentException("not a store URI (no scheme://)");
        }
        String scheme = raw.substring(0, sep);
        String rest = raw.substring(sep + 3);
        int at = rest.lastIndexOf('@');
        String userinfo = at < 0 ? "" : rest.substring(0, at);
        rest = rest.substring(at + 1);
        int colon = userinfo.indexOf(':');
        String user = decode(colon < 0 ? userinfo : userinfo.substring(0, colon));
        String password = colon < 0 ? "" : decode(userinfo.substring(colon + 1));
        int q = rest.indexOf('?');
        String query = q < 0 ? "" : rest.substring(q + 1);
        String path = q < 0 ? rest : rest.substring(0, q);
        int slash = path.indexOf('/');
        if (slash <= 0 || slash == path.length() - 1) {
            throw new IllegalArgumentException(scheme + " URI without host or database");
        }
        Map<String, String> params = new LinkedHashMap<>();
        for (String pair : query.split("&")) {
            int eq = pair.indexOf('=');
            if (eq > 0) {
                params.put(pair.substring(0, eq), decode(pair.substring(eq + 1)));
            }
        }
        return new StoreUri(raw, scheme, user, password, path.substring(0, slash), path.substring(slash + 1), params);
    }

    String query(String key) {
        return params.get(key);
    }

    /** The URI with {@code key=value} added to its query (as elect reads it). */
    String with(String key, String value) {
        return raw + (raw.indexOf('?') < 0 ? "?" : "&") + key + "=" + value;
    }

    private static String decode(String s) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '%' && i + 2 < s.length()) {
                out.write(Integer.parseInt(s.substring(i + 1, i + 3), 16));
                i += 2;
            } else {
                out.writeBytes(String.valueOf(c).getBytes(StandardCharsets.UTF_8));
            }
        }
        return out.toString(StandardCharsets.UTF_8);
    }

    @Override
    public String toString() {
        return scheme + "://" + (user.isEmpty() ? "" : user + ":***@") + hostPort + "/" + database;
    }
}
