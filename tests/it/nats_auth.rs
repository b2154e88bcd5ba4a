//! Isolated subjects: a nats-server configured with `deploy/nats/hub-auth.sh`, each service on
//! its own user. The real services carry a referral end to end under those users without a
//! single permissions violation; the county's user is refused a brigade subject, a
//! subscription to brigade events, a consumer on a stream it does not read, the brigade's
//! replies, and pulling from another service's consumer.

use std::collections::BTreeMap;
use std::process::Command;
use std::time::Duration;

use async_nats::jetstream::{self, consumer::pull};
use futures::StreamExt;
use liandong_bus::Bus;
use liandong_config::{Config, NatsAuth};
use liandong_tests::fault::{self, Databases, NatsServer, conclude_all, repo_root};
use liandong_tests::hub::{As, TestHub};
use liandong_tests::{Backend, TestEnv, eventually, unique};
use tokio::sync::mpsc;

const SERVICES: [&str; 6] = [
    "brigade",
    "board",
    "county",
    "review",
    "disclosure",
    "readmodel",
];

/// The server's users for this test's subject root and stream prefix, with fresh passwords.
fn render_users(root: &str, prefix: &str, passwords: &BTreeMap<&str, String>) -> String {
    let mut cmd = Command::new("bash");
    cmd.arg(repo_root().join("deploy/nats/hub-auth.sh"))
        .arg(root)
        .arg(prefix);
    for (user, password) in passwords {
        cmd.env(
            format!("LIANDONG_NATS_{}_PASSWORD", user.to_ascii_uppercase()),
            password,
        );
    }
    let out = cmd.output().expect("bash runs deploy/nats/hub-auth.sh");
    assert!(
        out.status.success(),
        "hub-auth.sh failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8")
}

/// A connection as `user` whose server errors (permissions violations) arrive on the receiver.
async fn connect_as(
    url: &str,
    user: &str,
    password: &str,
    name: &str,
) -> (async_nats::Client, mpsc::UnboundedReceiver<String>) {
    let (tx, rx) = mpsc::unbounded_channel();
    let client = async_nats::ConnectOptions::new()
        .name(name)
        .user_and_password(user.into(), password.into())
        .custom_inbox_prefix(format!("_INBOX.{user}"))
        .event_callback(move |event| {
            let tx = tx.clone();
            async move {
                if let async_nats::Event::ServerError(e) = event {
                    let _ = tx.send(e.to_string());
                }
            }
        })
        .connect(url)
        .await
        .unwrap_or_else(|e| panic!("{user} connects: {e}"));
    (client, rx)
}

/// Waits for the server's refusal naming `subject`.
async fn refused(errors: &mut mpsc::UnboundedReceiver<String>, kind: &str, subject: &str) {
    let want = format!("permissions violation for {kind} to \"{subject}\"").to_lowercase();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let mut seen = Vec::new();
    loop {
        match tokio::time::timeout_at(deadline, errors.recv()).await {
            Ok(Some(e)) if e.to_lowercase().contains(&want) => return,
            Ok(Some(e)) => seen.push(e),
            _ => panic!("no refusal of {kind} to {subject}; server errors seen: {seen:?}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_service_has_only_its_own_subjects_and_the_hub_still_carries_a_referral() {
    let mut env = TestEnv::new(Backend::Sqlite);
    let (root, prefix) = (env.cfg.subject_root.clone(), env.cfg.stream_prefix.clone());
    let passwords: BTreeMap<&str, String> = SERVICES
        .iter()
        .chain(&["admin"])
        .map(|u| (*u, unique("pw-")))
        .collect();
    let users = render_users(&root, &prefix, &passwords);
    let nats = NatsServer::start_configured(|port, dir| {
        std::fs::write(dir.join("hub-auth.conf"), &users).expect("users file");
        format!(
            "listen: 127.0.0.1:{port}\nserver_name: auth-{port}\n\
             jetstream {{ store_dir: \"{}\" }}\ninclude ./hub-auth.conf\n",
            dir.join("js").display()
        )
    })
    .await;
    let url = nats.url();

    // Nobody gets in without a user.
    assert!(
        async_nats::connect(&url).await.is_err(),
        "an anonymous connection must be refused"
    );

    // Every service as its own user: the brigade's password in the configuration, the
    // others' in files, as a deployment would keep them.
    std::fs::create_dir_all(&env.cfg.data_dir).expect("data dir");
    for service in SERVICES {
        let auth = if service == "brigade" {
            NatsAuth {
                user: Some(service.into()),
                password: Some(passwords[service].clone()),
                ..NatsAuth::default()
            }
        } else {
            let file = env.cfg.data_dir.join(format!("{service}.nats-password"));
            std::fs::write(&file, format!("{}\n", passwords[service])).expect("password file");
            NatsAuth {
                user: Some(service.into()),
                password_file: Some(file),
                ..NatsAuth::default()
            }
        };
        env.cfg.nats_auth.insert(service.into(), auth);
    }
    env.cfg.nats_url = url.clone();

    // The streams are provisioned once by `admin`, with the hub's own settings, so that no
    // service waits for another to create the stream it reads.
    let provisioning = Config {
        nats_auth_env: Some(NatsAuth {
            user: Some("admin".into()),
            password: Some(passwords["admin"].clone()),
            ..NatsAuth::default()
        }),
        ..env.cfg.clone()
    };
    Bus::connect(&provisioning, "admin")
        .await
        .expect("admin provisions the streams");
    let hub = TestHub::start_with(env).await;
    let dbs = Databases::open(&hub.env.cfg)
        .await
        .expect("the databases open");

    // A referral end to end: reported at the brigade, received by forestry, accepted and
    // concluded there, the result back at the brigade, every receipt answered.
    let officer = As::brigade_officer(fault::TOWN);
    hub.brigade
        .clone()
        .report_case(officer.req(fault::out_of_scope_report(1)))
        .await
        .expect("the brigade takes the report");
    eventually(
        "the referral to reach the county",
        Duration::from_secs(60),
        || async { anyhow::Ok((dbs.received().await? == 1).then_some(())) },
    )
    .await;
    let open = dbs
        .open_referrals()
        .await
        .expect("the county's inbox reads");
    assert_eq!(open.len(), 1);
    assert_eq!(conclude_all(hub.county.clone(), open, 1).await, 1);
    eventually(
        "the result to come back to the brigade",
        Duration::from_secs(60),
        || async { anyhow::Ok((dbs.results().await? == 1).then_some(())) },
    )
    .await;
    eventually(
        "every event published and every receipt back",
        Duration::from_secs(60),
        || async { anyhow::Ok((dbs.outbox_backlog().await? == (0, 0)).then_some(())) },
    )
    .await;

    // The services needed nothing they were not given.
    let violations: Vec<String> = nats
        .log()
        .lines()
        .filter(|l| l.contains("Violation"))
        .map(str::to_owned)
        .collect();
    assert!(
        violations.is_empty(),
        "the services hit permissions violations: {violations:#?}"
    );

    // Now the county's user, trying what it may not.
    let (county, mut errors) = connect_as(
        &url,
        "county",
        &passwords["county"],
        "liandong-test-county-intruder",
    )
    .await;
    let (admin, _) = connect_as(&url, "admin", &passwords["admin"], "liandong-test-admin").await;
    let admin_js = jetstream::new(admin);

    // Publishing a brigade event (a referral to a department no real one went to): refused,
    // and nothing reaches the brigade's stream.
    let forged = format!(
        "{root}.v1.brigade.referral_dispatched.{}.water_resources",
        fault::TOWN
    );
    county
        .publish(forged.clone(), "forged".into())
        .await
        .expect("the client sends");
    county.flush().await.expect("flushed");
    refused(&mut errors, "publish", &forged).await;
    let brigade_stream = format!("{prefix}BRIGADE");
    let stored = admin_js
        .get_stream(&brigade_stream)
        .await
        .expect("the brigade's stream")
        .get_last_raw_message_by_subject(&forged)
        .await;
    assert!(
        stored.is_err(),
        "a forged brigade event was stored: {stored:?}"
    );

    // Subscribing to brigade events: refused, and a brigade event that the real county
    // receives never reaches the subscription.
    let all_brigade = format!("{root}.v1.brigade.>");
    let mut snoop = county
        .subscribe(all_brigade.clone())
        .await
        .expect("the client subscribes");
    county.flush().await.expect("flushed");
    refused(&mut errors, "subscription", &all_brigade).await;
    hub.brigade
        .clone()
        .report_case(officer.req(fault::out_of_scope_report(2)))
        .await
        .expect("the brigade takes a second report");
    eventually(
        "the second referral to reach the county service",
        Duration::from_secs(60),
        || async { anyhow::Ok((dbs.received().await? == 2).then_some(())) },
    )
    .await;
    let leaked = tokio::time::timeout(Duration::from_secs(1), snoop.next()).await;
    assert!(
        !matches!(leaked, Ok(Some(_))),
        "a refused subscription received a brigade event"
    );

    // The brigade's replies (what it pulls, its API answers): refused.
    let brigade_inbox = "_INBOX.brigade.>".to_owned();
    let _inbox = county
        .subscribe(brigade_inbox.clone())
        .await
        .expect("the client subscribes");
    county.flush().await.expect("flushed");
    refused(&mut errors, "subscription", &brigade_inbox).await;

    // A consumer of its own on the brigade's stream, for events it does not read: refused,
    // and none is made.
    let mut js = jetstream::new(county.clone());
    js.set_timeout(Duration::from_secs(2));
    let wide = format!("{root}.v1.brigade.>");
    let made = js
        .create_consumer_on_stream(
            pull::Config {
                durable_name: Some("county-from-brigade-1".into()),
                filter_subject: wide.clone(),
                ..Default::default()
            },
            brigade_stream.as_str(),
        )
        .await;
    assert!(made.is_err(), "the county widened its consumer: {made:?}");
    refused(
        &mut errors,
        "publish",
        &format!("$JS.API.CONSUMER.CREATE.{brigade_stream}.county-from-brigade-1.{wide}"),
    )
    .await;
    let board_only = format!("{root}.v1.brigade.joint_submitted.*.*");
    let made = js
        .create_consumer_on_stream(
            pull::Config {
                durable_name: Some("county-snoop".into()),
                filter_subject: board_only.clone(),
                ..Default::default()
            },
            brigade_stream.as_str(),
        )
        .await;
    assert!(made.is_err(), "the county made a consumer: {made:?}");
    let consumer = admin_js
        .get_stream(&brigade_stream)
        .await
        .expect("the brigade's stream")
        .consumer_info("county-snoop")
        .await;
    assert!(consumer.is_err(), "the snooping consumer exists");
    let widened = admin_js
        .get_stream(&brigade_stream)
        .await
        .expect("the brigade's stream")
        .consumer_info("county-from-brigade-1")
        .await
        .expect("the county's own consumer");
    assert_ne!(widened.config.filter_subject, wide);

    // Pulling from the board's consumer of the brigade's stream: refused.
    let next = format!("$JS.API.CONSUMER.MSG.NEXT.{brigade_stream}.board-from-brigade-1");
    county
        .publish_with_reply(next.clone(), county.new_inbox(), "1".into())
        .await
        .expect("the client sends");
    county.flush().await.expect("flushed");
    refused(&mut errors, "publish", &next).await;

    // The server logged the intruder's attempts, under its user.
    let log = nats.log();
    assert!(
        log.lines()
            .any(|l| l.contains("Violation") && l.contains("county") && l.contains(&forged)),
        "the forged publish is not in the server's log"
    );

    dbs.close().await;
    hub.stop().await;
    drop(nats);
}
