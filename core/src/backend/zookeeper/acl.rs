//! Digest authentication and the ACLs put on election nodes.
//!
//! With `zk://user:password@host/chroot`, every node elect creates (chroot, election
//! directories, candidate nodes) gets `auth` (the creator's digest identity) with all
//! permissions, plus read for everyone unless `acl=private`. Only candidates with the same
//! credentials can then create or delete nodes in those directories. Without credentials the
//! nodes are open (`world:anyone`), as ZooKeeper's own default.
//!
//! ZooKeeper accepts any digest credentials at connection time (a wrong password is merely
//! another identity), so `open` compares our digest with the ACL of the chroot: the same user
//! with another digest is reported as a wrong password, not later as a puzzling "denied".

use base64::Engine as _;
use zookeeper_client as zk;

use super::connect::{self, Session};
use crate::error::{Error, ErrorCode, Result};
use crate::uri::Config;

/// Values of the `acl` option.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AclMode {
    /// World-writable nodes (the only choice without credentials).
    Open,
    /// The creator's identity may do anything, everyone may read (observers need no password).
    Read,
    /// The creator's identity only: observers need the credentials too.
    Private,
}

impl AclMode {
    pub fn acls(self) -> zk::Acls<'static> {
        static READ: once_cell::sync::Lazy<[zk::Acl; 2]> = once_cell::sync::Lazy::new(|| {
            [
                zk::Acl::new(zk::Permission::ALL, zk::AuthId::new("auth", "")),
                zk::Acl::new(zk::Permission::READ, zk::AuthId::new("world", "anyone")),
            ]
        });
        match self {
            AclMode::Open => zk::Acls::anyone_all(),
            AclMode::Read => zk::Acls::new(&*READ),
            AclMode::Private => zk::Acls::creator_all(),
        }
    }
}

/// ZooKeeper's digest identity for `user:password`: `user:base64(sha1(user:password))`.
pub fn digest_id(user_password: &str) -> String {
    let user = user_password.split(':').next().unwrap_or_default();
    let sha = sha1_smol::Sha1::from(user_password).digest().bytes();
    format!(
        "{user}:{}",
        base64::engine::general_purpose::STANDARD.encode(sha)
    )
}

/// Fails with `Auth` when `path`'s ACL names our user with another password, and with
/// `Permission` when it grants us nothing at all. Other schemes (ip, sasl, x509) are left for
/// the server to judge.
pub async fn check_access(session: &Session, config: &Config, path: &str) -> Result<()> {
    let acls = match session.client.get_acl(path).await {
        Ok((acls, _)) => acls,
        Err(zk::Error::NoNode) => return Ok(()),
        Err(e) => return Err(connect::at(path)(e)),
    };
    let ours = connect::digest_secret(config)?.map(|s| digest_id(&s));
    let mut ours_listed = false;
    let mut world = false;
    let mut unknown_scheme = false;
    let mut same_user_other_password = false;
    for acl in acls.iter() {
        match acl.scheme() {
            "world" => world = true,
            "digest" => match (&ours, &config.user) {
                (Some(ours), _) if acl.id() == ours => ours_listed = true,
                // ZooKeeper shows digests as `user:x` to a session without ADMIN on the node.
                // An entry of our user without ADMIN (least privilege) may be ours: the server
                // judges. One with ADMIN is not ours, or we would have seen its digest.
                (Some(_), Some(user))
                    if acl.id() == format!("{user}:x")
                        && !acl.permission().has(zk::Permission::ADMIN) =>
                {
                    ours_listed = true
                }
                (_, Some(user)) if acl.id().split(':').next() == Some(user.as_str()) => {
                    same_user_other_password = true
                }
                _ => {}
            },
            _ => unknown_scheme = true,
        }
    }
    if ours_listed {
        return Ok(());
    }
    if same_user_other_password {
        return Err(Error::new(
            ErrorCode::Auth,
            format!(
                "user `{}`: wrong password for ZooKeeper digest authentication (the ACL of `{path}` was set with another password)",
                config.user.as_deref().unwrap_or_default()
            ),
        ));
    }
    if world {
        return Ok(());
    }
    if unknown_scheme {
        return Ok(());
    }
    Err(Error::new(
        ErrorCode::Permission,
        match &config.user {
            Some(u) => format!("user `{u}` has no access to `{path}` in ZooKeeper (ACL)"),
            None => format!(
                "`{path}` in ZooKeeper is protected by an ACL: connect with `zk://user:password@...`"
            ),
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digest_matches_zookeeper() {
        // From ZooKeeper's DigestAuthenticationProvider: super:test -> this digest.
        assert_eq!(
            digest_id("super:test"),
            "super:D/InIHSb7yEEbrWz8b9l71RjZJU="
        );
    }
}
