//! Where the user info of a connection string ends, and what it holds.
//!
//! For the server stores the user info ends at the LAST `@` of the text after `scheme://`,
//! wherever that `@` is. A password may so hold `/`, `?`, `#`, `:` and `@` unencoded (people
//! paste passwords as they are), and the host list is what follows the last `@`, as the user
//! meant. The price: an `@` in a path or option value must be written `%40`; written bare, the
//! host list is read from after it and the connection fails with an error naming that host,
//! which still shows nothing from before the `@`.
//!
//! `file://` has no user info. An `@` after a non-empty authority is refused with a message that
//! quotes nothing, since that text may be a password.
//!
//! Nothing from the user info's password is ever quoted in a message; the user name is shown
//! (in `Display`) because it is not a secret. When a password holds an `@` and the host list was
//! left out (`redis://:p@ss`), the password's tail (`ss`) is taken for the host, and nothing
//! tells it from a host name. So hosts after a password are never quoted: parse errors name them
//! by position (`host 1 of 2`), and `Display` and the stores' messages by count
//! ([`Config::hosts_shown`](super::Config::hosts_shown): `<2 hosts>`).

use percent_encoding::percent_decode_str;

use super::Scheme;
use crate::error::{Error, Result};
use crate::secret::Secret;

/// Splits the text after `scheme://` into the user info (without its `@`) and the rest.
pub(super) fn split(scheme: Scheme, rest: &str) -> Result<(Option<&str>, &str)> {
    if scheme == Scheme::File {
        let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        let authority = &rest[..end];
        if authority.is_empty() || authority == "localhost" || !rest.contains('@') {
            return Ok((None, rest));
        }
        return Err(Error::invalid(
            "host: file:// takes no host, user or password; write `file:///absolute/dir`",
        ));
    }
    Ok(match rest.rfind('@') {
        Some(i) => (Some(&rest[..i]), &rest[i + 1..]),
        None => (None, rest),
    })
}

/// The user (before the first `:`) and the password (after it), percent-decoded.
pub(super) fn parse(userinfo: &str) -> Result<(Option<String>, Option<Secret>)> {
    let (user, pass) = match userinfo.split_once(':') {
        Some((u, p)) => (u, Some(p)),
        None => (userinfo, None),
    };
    let user = percent_decode_str(user)
        .decode_utf8()
        .map_err(|_| Error::invalid("user: not valid UTF-8 after percent-decoding"))?;
    let password = match pass {
        Some(p) => Some(Secret::new(percent_decode_str(p).decode_utf8().map_err(
            |_| Error::invalid("password: not valid UTF-8 after percent-decoding"),
        )?)),
        None => None,
    };
    let user = Some(user.into_owned()).filter(|u| !u.is_empty());
    Ok((user, password))
}

#[cfg(test)]
mod tests {
    use super::super::Config;

    /// A password made of pieces that occur nowhere else, joined by every reserved character.
    const PIECES: [&str; 6] = ["Pq7a", "Rv2b", "Tw9c", "Xy4d", "Zk3e", "Mn8f"];

    fn password() -> String {
        format!(
            "{}/{}?{}#{}@{}:{}%2F%40",
            PIECES[0], PIECES[1], PIECES[2], PIECES[3], PIECES[4], PIECES[5]
        )
    }

    fn assert_hidden(shown: &str) {
        for piece in PIECES {
            assert!(!shown.contains(piece), "`{piece}` shown in: {shown}");
        }
    }

    #[cfg(feature = "etcd")]
    #[test]
    fn the_last_at_ends_the_user_info() {
        let pw = password();
        let c = Config::parse(&format!(
            "etcd://ad%3Amin/us?e#r@x:{pw}@h1:2379,h2/app?ttl=5s"
        ))
        .unwrap();
        assert_eq!(c.user.as_deref(), Some("ad:min/us?e#r@x"));
        let want = pw.replace("%2F", "/").replace("%40", "@");
        assert_eq!(c.password.as_ref().unwrap().expose(), want);
        assert_eq!(c.hosts.len(), 2);
        assert_eq!(c.path, "app");
        assert_hidden(&format!("{c} {c:?}"));
        // A `/` in the password does not end the authority: the user info ends at the last `@`.
        let c = Config::parse("etcd://app:2379/zzTOPsecret@127.0.0.1:1/prefix").unwrap();
        assert_eq!(c.hosts[0].port, 1);
        assert!(!format!("{c} {c:?}").contains("zzTOP"));
    }

    #[test]
    fn no_message_quotes_the_user_info() {
        let pw = password();
        let mut uris = vec![];
        for scheme in ["file", "etcd", "zk", "redis", "rediss", "postgres", "bogus"] {
            for tail in [
                "h:99999/x",
                "h,,h2/x",
                "/x",
                "h/x#frag",
                "h/x?ttl=1",
                "h/x?nope=1",
                "[::1/x",
                "h/%ff",
            ] {
                uris.push(format!("{scheme}://u/s?e#r:{pw}@{tail}"));
                uris.push(format!("{scheme}://:{pw}@{tail}"));
                uris.push(format!("{scheme}:{pw}@{tail}"));
                uris.push(format!("{scheme}:/{pw}://{tail}"));
            }
            uris.push(format!("{scheme}://u:{pw}%ff@h/x"));
            uris.push(format!("{scheme}://u:{pw}"));
        }
        for uri in uris {
            match Config::parse(&uri) {
                Ok(c) => assert_hidden(&format!("{c} {c:?}")),
                Err(e) => assert_hidden(&format!("{e} {e:?}")),
            }
        }
    }

    /// A password with an `@` and no host list: its tail is taken for the host, and must not
    /// show in `Display`, `Debug` or in what the stores put in their messages.
    #[test]
    fn a_password_tail_taken_for_a_host_is_not_shown() {
        for scheme in ["etcd", "zk", "redis", "rediss", "postgres"] {
            let c = match Config::parse(&format!("{scheme}://u:{}@{}", PIECES[0], PIECES[1])) {
                Ok(c) => c,
                Err(e) if e.code() == crate::error::ErrorCode::Unsupported => continue,
                Err(e) => panic!("{e}"),
            };
            assert_eq!(c.hosts[0].host, PIECES[1]);
            assert_eq!(c.hosts_shown(), "<1 host>");
            assert_hidden(&format!("{c} {c:?}"));
        }
    }

    #[test]
    fn file_uris_keep_an_at_in_the_path_and_refuse_user_info() {
        let c = Config::parse("file:///tmp/a@b/c").unwrap();
        assert_eq!(c.path, "/tmp/a@b/c");
        let e = Config::parse(&format!("file://u:{}@/tmp", password())).unwrap_err();
        assert!(
            e.message().contains("takes no host, user or password"),
            "{e}"
        );
    }
}
