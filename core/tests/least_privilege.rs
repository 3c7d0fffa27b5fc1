//! Each store with an identity that has exactly the rights `docs/security.md` lists: an election
//! works; the same identity without one of those rights fails with an error naming what it was
//! denied. Redis's ACL user is tested in `redis.rs` (`LEAST_PRIVILEGE`, and a user without the
//! scripting commands).

use std::process::Command;
use std::time::Duration;

use elect_testkit::postgres::psql;
use elect_testkit::wait::first_outcome;
use elect_testkit::{Server, Store};
use zookeeper_client as zk;

const WAIT: Duration = Duration::from_secs(20);
const OPTIONS: &str = "connect_timeout=3s&ttl=6s&retry=500ms";

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
    let server = Server::start(Store::Etcd, "least");
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
    let leading = first_outcome(&at("app"), "job", WAIT).expect("readwrite on `jobs/` suffices");
    drop(leading);
    let e = first_outcome(&at("reader"), "job", WAIT).expect_err("elected with read only");
    assert!(e.contains("permission denied"), "{e}");
    assert!(e.contains("`jobs/`"), "the prefix the user needs: {e}");
}

#[test]
fn postgres_a_role_with_four_grants_on_two_tables() {
    let pg = Server::start(Store::Postgres, "pg-least");
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
    let at = |role: &str| {
        format!("postgres://{role}:{role}-pw@127.0.0.1:{port}/elect?table=jobs.leases&{OPTIONS}")
    };
    let leading = first_outcome(&at("app"), "job", WAIT).expect("the four grants suffice");
    drop(leading);
    let e = first_outcome(&at("noupdate"), "job", WAIT).expect_err("elected without UPDATE");
    assert!(e.contains("permission denied for table leases"), "{e}");
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
    let leading = first_outcome(&at(&full), "job", WAIT).expect("create, read, delete suffice");
    drop(leading);
    let e = first_outcome(&at(&read_only), "job", WAIT).expect_err("elected with read only");
    assert!(e.contains(&read_only), "the chroot: {e}");
    assert!(e.contains("ACL"), "{e}");
}
