//! The connection-string parser on any text: it must not panic, and no message, `Display` or
//! `Debug` may show any part of a password.
//!
//! The input, split at its first two newlines into user, password and the rest, also becomes
//! `<scheme>://<user>:<password>@<rest>` with a marker in the middle of the password; the
//! marker must then never be shown (unless the user or the rest hold it themselves).
#![no_main]

use elect_core::Config;
use libfuzzer_sys::fuzz_target;
use percent_encoding::percent_decode_str;

const MARK: &str = "Qz9Xw";
const SCHEMES: [&str; 5] = ["etcd", "zk", "redis", "rediss", "postgres"];

fn shown(uri: &str) -> String {
    match Config::parse(uri) {
        Ok(c) => format!("{c} {c:?}"),
        Err(e) => format!("{e} {e:?}"),
    }
}

fn decoded(s: &str) -> String {
    percent_decode_str(s).decode_utf8_lossy().into_owned()
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    shown(text);

    let mut parts = text.splitn(3, '\n');
    let (user, password, rest) = (
        parts.next().unwrap_or(""),
        parts.next().unwrap_or(""),
        parts.next().unwrap_or(""),
    );
    let outside = format!("{user}\n{rest}");
    if outside.contains(MARK) || decoded(&outside).contains(MARK) {
        return;
    }
    let mid = (0..=password.len() / 2)
        .rev()
        .find(|i| password.is_char_boundary(*i))
        .unwrap_or(0);
    let password = format!("{}{MARK}{}", &password[..mid], &password[mid..]);
    let scheme = SCHEMES[data.len() % SCHEMES.len()];
    let uri = format!("{scheme}://{user}:{password}@{rest}");
    let out = shown(&uri);
    assert!(!out.contains(MARK), "password shown: {out}");
});
