//! Isolated subjects: a nats-server configured with the users `liandong nats users` writes from
//! the topology, each service on its own user, the streams and consumers provisioned by
//! `admin`. The real services carry a referral end to end under those users without a single
//! permissions violation; the county's user is refused a brigade subject, a subscription to
//! brigade events, a consumer of its own making, the brigade's replies, pulling from another
//! service's consumer, and every change to a stream (mirroring another stream into the
//! receipts, ageing the dead letters out, capping the receipts).

use std::collections::BTreeMap;
use std::process::Command;
use std::time::Duration;

use async_nats::jetstream::{self, consumer::pull};
use futures::StreamExt;
use liandong_bus::Bus;
use liandong_config::{Config, NatsAuth};
use liandong_tests::fault::{self, Databases, NatsServer, conclude_all};
use liandong_tests::hub::{As, TestHub, liandong_bin};
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

/// The server's users for this test's subject root and stream prefix, with fresh passwords, as
/// the operator's command writes them.
fn render_users(root: &str, prefix: &str, passwords: &BTreeMap<&str, String>) -> String {
    let mut cmd = Command::new(liandong_bin());
    cmd.args(["nats", "users", "--root", root, "--prefix", prefix]);
    for (user, password) in passwords {
        cmd.env(
            format!("LIANDONG_NATS_{}_PASSWORD", user.to_ascii_uppercase()),
            password,
        );
    }
    let out = cmd.output().expect("liandong nats users runs");
    assert!(
        out.status.success(),
        "liandong nats users failed: {}",
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
    // No service makes a stream or a consumer: it binds to what `admin` made.
    env.cfg.bus.provisioned = true;

    // The streams and consumers are provisioned once by `admin`, with the hub's own settings.
    let provisioning = Config {
        nats_auth_env: Some(NatsAuth {
            user: Some("admin".into()),
            password: Some(passwords["admin"].clone()),
            ..NatsAuth::default()
        }),
        ..env.cfg.clone()
    };
    let admin_bus = Bus::connect(
        &Config {
            bus: liandong_config::BusConfig {
                provisioned: false,
                ..provisioning.bus.clone()
            },
            ..provisioning.clone()
        },
        "admin",
    )
    .await
    .expect("admin connects");
    liandong_runtime::provision(&admin_bus)
        .await
        .expect("admin provisions the streams and consumers");
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

    // A consumer of its own making on the brigade's stream, for events it does not read:
    // refused, and none is made.
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
        .consumer_info("county-from-brigade")
        .await
        .expect("the county's own consumer");
    assert_ne!(widened.config.filter_subject, wide);
    assert!(!widened.config.filter_subjects.contains(&wide));

    // Pulling from the board's consumer of the brigade's stream: refused.
    let next = format!("$JS.API.CONSUMER.MSG.NEXT.{brigade_stream}.board-from-brigade");
    county
        .publish_with_reply(next.clone(), county.new_inbox(), "1".into())
        .await
        .expect("the client sends");
    county.flush().await.expect("flushed");
    refused(&mut errors, "publish", &next).await;

    // Changing a stream: mirroring the brigade's stream into the receipts (to read its events
    // under receipt subjects), ageing the dead letters out in a second (to erase the evidence
    // of forgeries), capping the receipts at one message (to stop the brigade's receipts).
    // Every one refused, and every stream as it was.
    let receipts_stream = format!("{prefix}RECEIPTS");
    let dlq_stream = format!("{prefix}DLQ");
    let before_receipts = admin_js
        .get_stream(&receipts_stream)
        .await
        .expect("the receipts")
        .info()
        .await
        .expect("its settings")
        .config
        .clone();
    let before_dlq = admin_js
        .get_stream(&dlq_stream)
        .await
        .expect("the dead letters")
        .info()
        .await
        .expect("its settings")
        .config
        .clone();
    let mirrored = jetstream::stream::Config {
        mirror: Some(jetstream::stream::Source {
            name: brigade_stream.clone(),
            ..Default::default()
        }),
        subjects: Vec::new(),
        ..before_receipts.clone()
    };
    assert!(js.update_stream(&mirrored).await.is_err());
    refused(
        &mut errors,
        "publish",
        &format!("$JS.API.STREAM.UPDATE.{receipts_stream}"),
    )
    .await;
    let aged = jetstream::stream::Config {
        max_age: Duration::from_secs(1),
        ..before_dlq.clone()
    };
    assert!(js.update_stream(&aged).await.is_err());
    let capped = jetstream::stream::Config {
        max_messages: 1,
        ..before_receipts.clone()
    };
    assert!(js.update_stream(&capped).await.is_err());
    let after_receipts = admin_js
        .get_stream(&receipts_stream)
        .await
        .expect("the receipts")
        .info()
        .await
        .expect("its settings")
        .config
        .clone();
    let after_dlq = admin_js
        .get_stream(&dlq_stream)
        .await
        .expect("the dead letters")
        .info()
        .await
        .expect("its settings")
        .config
        .clone();
    assert_eq!(
        (after_receipts.mirror.is_none(), after_receipts.max_messages),
        (true, before_receipts.max_messages)
    );
    assert_eq!(after_dlq.max_age, before_dlq.max_age);

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
