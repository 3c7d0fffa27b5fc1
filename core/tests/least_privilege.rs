//! Each store with an identity that has exactly the rights `docs/security.md` lists: the store
//! contract's in-process cases (handover, token order, proclaim) pass under it; the same
//! identity without one of those rights fails with an error naming what it was denied; a wrong
//! password is one clear error, never a retry storm. Redis's ACL user is tested in `redis.rs`
//! (`LEAST_PRIVILEGE`, and a user without the scripting commands).

use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use elect_core::{Election, ErrorCode};
use elect_testkit::contract::{self, Subject};
use elect_testkit::postgres::psql;
use elect_testkit::wait::first_outcome;
use elect_testkit::{Server, Store};
use zookeeper_client as zk;

const WAIT: Duration = Duration::from_secs(20);
const OPTIONS: &str = "connect_timeout=3s&ttl=6s&retry=500ms";
/// The password the wrong-password cases give; no message may show it.
const WRONG: &str = "Wr0ngPassw0rd";

/// The contract's cases that need neither agent processes nor server faults, under the
/// identity and namespace of `uri` (which carries no timing options: the suite adds its own).
fn contract_under(uri: &str, server: &Arc<Server>) {
    let s = Subject::at_uri(uri, server.clone());
    contract::handover(&s);
    contract::token_order(&s);
    contract::proclaim(&s);
}

/// A wrong password fails `open` with one error of `code` that names `what` (the user, or the
/// ZooKeeper chroot it was refused), and not the password: no candidate is left to retry.
fn wrong_password_fails_open(uri: &str, code: ErrorCode, what: &str) {
    let e = Election::open(uri, "job", None).expect_err("opened with a wrong password");
    assert_eq!(e.code(), code, "{e:?}");
    assert!(e.message().contains(what), "names {what}: {e}");
    assert!(!e.message().contains(WRONG), "shows the password: {e}");
}

fn etcdctl(endpoints: &str, args: &[&str]) {
    let out = Command::new("etcdctl")
        .env("ETCDCTL_API", "3")
        .args(["--endpoints", endpoints])
        .args(args)
        .output()
        .expect("etcdctl runs");
    assert!(out.status.success(), "etcdctl {args:?}: {out:?}");
}

#[test]
fn etcd_a_role_with_readwrite_on_the_prefix() {
    let server = Arc::new(Server::start(Store::Etcd, "least"));
    let ep = server.var("ELECT_ETCD_ENDPOINTS");
    etcdctl(&ep, &["user", "add", "root:root-pw"]);
    etcdctl(&ep, &["auth", "enable"]);
    let root: &[&str] = &["--user", "root:root-pw"];
    for (user, permission) in [("app", "readwrite"), ("reader", "read")] {
        let role = format!("{user}-role");
        for args in [
            vec!["role", "add", &role],
            vec![
                "role",
                "grant-permission",
                &role,
                permission,
                "jobs/",
                "--prefix",
            ],
            vec!["user", "add", &format!("{user}:{user}-pw")],
            vec!["user", "grant-role", user, &role],
        ] {
            etcdctl(&ep, &[root, args.as_slice()].concat());
        }
    }
    let at = |user: &str| format!("etcd://{user}:{user}-pw@{ep}/jobs?{OPTIONS}");
    contract_under(&format!("etcd://app:app-pw@{ep}/jobs"), &server);
    let e = first_outcome(&at("reader"), "job", WAIT).expect_err("elected with read only");
    assert!(e.contains("permission denied"), "{e}");
    assert!(e.contains("`jobs/`"), "the prefix the user needs: {e}");
    wrong_password_fails_open(
        &format!("etcd://app:{WRONG}@{ep}/jobs?{OPTIONS}"),
        ErrorCode::Auth,
        "app",
    );
}

#[test]
fn postgres_a_role_with_four_grants_on_two_tables() {
    let pg = Arc::new(Server::start(Store::Postgres, "pg-least"));
    let port = pg.var("ELECT_POSTGRES_PORT");
    // The administrator's part: a schema, elect's tables in it (created by `elect`, their owner,
    // here through elect itself), and the grants.
    psql(&pg, "CREATE SCHEMA jobs AUTHORIZATION elect");
    let owner = format!("{}?table=jobs.leases&{OPTIONS}", pg.uri());
    drop(first_outcome(&owner, "setup", WAIT).expect("the owner creates the tables"));
    psql(
        &pg,
        "CREATE ROLE app LOGIN PASSWORD 'app-pw';
         GRANT USAGE ON SCHEMA jobs TO app;
         GRANT SELECT, INSERT, UPDATE, DELETE ON jobs.leases, jobs.leases_members TO app;
         CREATE ROLE noupdate LOGIN PASSWORD 'noupdate-pw';
         GRANT USAGE ON SCHEMA jobs TO noupdate;
         GRANT SELECT, INSERT, DELETE ON jobs.leases, jobs.leases_members TO noupdate;",
    );
    let at = |role: &str, pw: &str| {
        format!("postgres://{role}:{pw}@127.0.0.1:{port}/elect?table=jobs.leases")
    };
    contract_under(&at("app", "app-pw"), &pg);
    let e = first_outcome(
        &format!("{}&{OPTIONS}", at("noupdate", "noupdate-pw")),
        "job",
        WAIT,
    )
    .expect_err("elected without UPDATE");
    assert!(e.contains("permission denied for table leases"), "{e}");
    wrong_password_fails_open(
        &format!("{}&{OPTIONS}", at("app", WRONG)),
        ErrorCode::Auth,
        "app",
    );
}

#[test]
fn mysql_a_user_with_four_grants_on_two_tables() {
    let my = Arc::new(Server::start(Store::Mysql, "my-least"));
    let port = my.var("ELECT_MYSQL_PORT");
    // The administrator's part: elect's tables (created here through elect by `elect`, which
    // may create tables), and the grants.
    let owner = format!("{}?table=leases&{OPTIONS}", my.uri());
    drop(first_outcome(&owner, "setup", WAIT).expect("the owner creates the tables"));
    elect_testkit::mysql::sql(
        &my,
        "CREATE USER 'app'@'%' IDENTIFIED BY 'app-pw';
         GRANT SELECT, INSERT, UPDATE, DELETE ON elect.leases TO 'app'@'%';
         GRANT SELECT, INSERT, UPDATE, DELETE ON elect.leases_members TO 'app'@'%';
         CREATE USER 'noupdate'@'%' IDENTIFIED BY 'noupdate-pw';
         GRANT SELECT, INSERT, DELETE ON elect.leases TO 'noupdate'@'%';
         GRANT SELECT, INSERT, DELETE ON elect.leases_members TO 'noupdate'@'%';",
    );
    let at =
        |user: &str, pw: &str| format!("mysql://{user}:{pw}@127.0.0.1:{port}/elect?table=leases");
    contract_under(&at("app", "app-pw"), &my);
    let e = first_outcome(
        &format!("{}&{OPTIONS}", at("noupdate", "noupdate-pw")),
        "job",
        WAIT,
    )
    .expect_err("elected without UPDATE");
    assert!(e.contains("UPDATE command denied"), "{e}");
    assert!(e.contains("`leases`"), "the table: {e}");
    wrong_password_fails_open(
        &format!("{}&{OPTIONS}", at("app", WRONG)),
        ErrorCode::Auth,
        "app",
    );
}

#[test]
fn zookeeper_a_digest_acl_on_the_chroot() {
    let zk_server = Server::shared(Store::Zk);
    let hosts = zk_server.uri().trim_start_matches("zk://").to_string();
    let base = format!("/least-{}", elect_testkit::server::unique());
    // The administrator's part: chroots whose ACL grants user `app` create, read and delete (what
    // elect needs), or read only. Created here by `app` itself (the `auth` scheme names the
    // creator's identity); an administrator would write `digest:app:<hash>`.
    let (full, read_only) = (format!("{base}-crd"), format!("{base}-r"));
    let (h, f, r) = (hosts.clone(), full.clone(), read_only.clone());
    elect_core::runtime::block_on(async move {
        let client = zk::Client::connector()
            .with_auth("digest", b"app:app-pw")
            .connect(&h)
            .await
            .unwrap();
        for (path, permission) in [
            (
                f,
                zk::Permission::CREATE | zk::Permission::READ | zk::Permission::DELETE,
            ),
            (r, zk::Permission::READ),
        ] {
            let acl: &'static [zk::Acl] = Box::leak(Box::new([zk::Acl::new(
                permission,
                zk::AuthId::new("auth", ""),
            )]));
            let options = zk::CreateMode::Persistent.with_acls(zk::Acls::new(acl));
            client.create(&path, b"", &options).await.unwrap();
        }
    })
    .unwrap();
    let at = |chroot: &str| format!("zk://app:app-pw@{hosts}{chroot}?{OPTIONS}");
    contract_under(&format!("zk://app:app-pw@{hosts}{full}"), &zk_server);
    let e = first_outcome(&at(&read_only), "job", WAIT).expect_err("elected with read only");
    assert!(e.contains(&read_only), "the chroot: {e}");
    assert!(e.contains("ACL"), "{e}");

    // A wrong password: ZooKeeper accepts any digest at login and, without ADMIN on the
    // chroot, hides the digests elect could compare; `open`'s check of the chroot is refused.
    wrong_password_fails_open(
        &format!("zk://app:{WRONG}@{hosts}{full}?{OPTIONS}"),
        ErrorCode::Permission,
        &full,
    );
}
