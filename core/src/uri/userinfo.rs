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
//! (in `Display`) because it is not a secret. One case stays out of reach: user info holding an
//! `@` with no host list after it (`redis://:p@ss`). The password's tail (`ss`) is then taken
//! for the host; parse errors name hosts by position after user info, but a store's connect
//! error names the host it tried.

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
