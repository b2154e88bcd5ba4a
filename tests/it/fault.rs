//! Fault injection: services killed with SIGKILL mid-load, NATS servers and a JetStream cluster
//! node killed, the broker losing acknowledged messages, PostgreSQL restarted, poison messages;
//! after each, every database is read to prove nothing was lost and nothing doubled.

use std::time::{Duration, Instant};

use async_nats::jetstream;
use liandong_bus::Bus;
use liandong_tests::fault::{
    self, Databases, Hop, Kind, Load, MAJOR_FINE_FEN, NatsCluster, NatsServer, PgCluster, Via,
    Watch, check_hop, check_invariants, conclude_all, conclude_all_fined, deliver_and_conclude,
    when_at_least,
};
use liandong_tests::hub::TestHub;
use liandong_tests::{Backend, TestEnv};

/// Referrals in flight for the SIGKILL scenarios, as the issue asks.
const KILL_LOAD: usize = 1000;
/// Enough for the other scenarios to have traffic before, during and after the fault.
const LOAD: usize = 400;
const IN_FLIGHT: usize = 32;
const SETTLE: Duration = Duration::from_secs(180);

/// One load scenario at a time: each drives the machine's two cores to the full, and two at
/// once turn a one-second ack wait into a storm of redeliveries that measures the machine, not
/// the system. Those take it for writing; the three availability scenarios, which pace their
/// few callers or wait out restarts and an outage, take it for reading, so that they may run
/// beside one another but never beside a load scenario. `tests/run.sh` runs the load scenarios
/// in the fault phase, one at a time, and these three in the test phase among the other tests.
static SERIAL: tokio::sync::RwLock<()> = tokio::sync::RwLock::const_new(());

/// A test environment whose services may hold more database connections than the other
/// tests' (which run several hubs at once): the scenarios drive hundreds of calls in flight,
/// one scenario at a time.
fn fault_env(backend: Backend) -> TestEnv {
    let mut env = TestEnv::new(backend);
    env.cfg.database_max_connections = 5;
    // The load driver is one client address sending a thousand reports through the gateway as
    // fast as the hub takes them: the gateway's per-client rate limit (tested on its own) would
    // starve some of its retries. Zero is no limit.
    env.cfg.http_limits.api_per_second = 0;
    // Re-sends and redeliveries every 10 s rather than TestEnv's 1 to 1.5 s: under a backlog of
    // a thousand referrals a receipt is often slower than that, and every early re-send is one
    // more signed copy to verify and suppress (16,000 of them per kill at 1.5 s, 1,400 at 10 s,
    // where the scenario took twice as long). The crash itself still redelivers.
    env.cfg.bus.resend_after_ms = 10_000;
    env.cfg.bus.ack_wait_ms = 10_000;
    env
}

fn dlq(hub: &TestHub) -> String {
    format!("{}DLQ", hub.env.cfg.stream_prefix)
}

fn stream(hub: &TestHub, what: &str) -> String {
    format!("{}{what}", hub.env.cfg.stream_prefix)
}

/// Kills `service` with SIGKILL once between 10 % and 90 % of the referrals are committed
/// (where `watch` says), starts it again, lets the load finish, concludes everything and
/// checks the invariants.
async fn kill9_mid_load(service: &'static str, watch: Watch, backend: Backend) {
    let _serial = SERIAL.write().await;
    let started = Instant::now();
    let mut hub = TestHub::start_processes(fault_env(backend)).await;
    let dbs = Databases::open(&hub.env.cfg)
        .await
        .expect("the databases open");
    // The gateway's crash is seen by the town's app, which reports through it.
    let via = if service == "gateway" {
        Via::Gateway(hub.env.cfg.gateway_addr)
    } else {
        Via::Grpc(hub.brigade.clone())
    };
    let load = Load::drive(via, Kind::Referral, KILL_LOAD, IN_FLIGHT);

    let at = when_at_least(&dbs, watch, KILL_LOAD, 0.3).await;
    hub.kill9(service);
    let (sent, received) = (dbs.sent().await.unwrap(), dbs.received().await.unwrap());
    println!(
        "[kill -9 {service}, {backend}] killed at {:.0} % committed ({watch:?}): brigade had \
         {sent}, county {received} of {KILL_LOAD}",
        at * 100.0
    );
    assert!(
        (0.10..=0.90).contains(&at),
        "the kill must land mid-load, not at {at}"
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    hub.respawn(service).await;

    let (acknowledged, failed) = load.finish().await;
    let concluded = deliver_and_conclude(&dbs, hub.county.clone(), SETTLE).await;
    let injected = format!(
        "kill -9 of {service} at {:.0} % of {KILL_LOAD} referrals committed, restart after 0.5 s \
         ({acknowledged} reports acknowledged, {failed} calls failed and retried, {concluded} concluded)",
        at * 100.0
    );
    let urls = hub.env.cfg.nats_url.clone();
    let f = check_invariants(
        &format!("kill -9 {service}"),
        &injected,
        &dbs,
        &urls,
        &dlq(&hub),
        0,
        SETTLE,
    )
    .await;
    assert_eq!(
        f.sent, KILL_LOAD as i64,
        "each report, repeated under its request id after the crash, made exactly one case"
    );
    dbs.close().await;
    hub.stop().await;
    println!(
        "[kill -9 {service}] wall time {:.1} s",
        started.elapsed().as_secs_f64()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]

async fn kill9_of_the_brigade_mid_load_loses_and_doubles_nothing() {
    kill9_mid_load("brigade", Watch::Sent, Backend::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]

async fn kill9_of_the_county_mid_load_loses_and_doubles_nothing() {
    kill9_mid_load("county", Watch::Received, Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill9_of_the_gateway_mid_load_loses_and_doubles_nothing() {
    kill9_mid_load("gateway", Watch::Sent, Backend::Sqlite).await;
}

/// Waits until `sql` counts at least `fraction` of `of` rows in `db`; returns the fraction.
async fn when_counted(db: &liandong_store::Db, sql: &str, of: usize, fraction: f64) -> f64 {
    let want = (of as f64 * fraction).ceil() as i64;
    let n = liandong_tests::eventually(
        &format!("{want} rows of {sql}"),
        Duration::from_secs(180),
        || async move {
            let n: i64 =
                liandong_store::with_db!(db, |p| sqlx::query_scalar(sql).fetch_one(p).await)?;
            anyhow::Ok((n >= want).then_some(n))
        },
    )
    .await;
    n as f64 / of as f64
}

/// Kills `service` with SIGKILL once `sql` counts 30 % of `KILL_LOAD` rows in `db` (`what`
/// they are), checks the kill landed mid-load, and starts it again after 0.5 s; returns the
/// fraction counted at the kill.
async fn kill9_once_counted(
    hub: &mut TestHub,
    service: &'static str,
    db: &liandong_store::Db,
    sql: &str,
    what: &str,
) -> f64 {
    let at = when_counted(db, sql, KILL_LOAD, 0.3).await;
    hub.kill9(service);
    println!(
        "[kill -9 {service}] killed at {:.0} % of {KILL_LOAD} {what}",
        at * 100.0
    );
    assert!((0.10..=0.90).contains(&at), "mid-load, not at {at}");
    tokio::time::sleep(Duration::from_millis(500)).await;
    hub.respawn(service).await;
    at
}

/// Reports `KILL_LOAD` referrals and waits until every one is in the department's inbox,
/// before a scenario that kills a service further down the path.
async fn referrals_delivered(hub: &TestHub, dbs: &Databases) -> Vec<String> {
    let (acknowledged, _) = Load::start(hub.brigade.clone(), KILL_LOAD, IN_FLIGHT)
        .finish()
        .await;
    assert_eq!(acknowledged, KILL_LOAD);
    liandong_tests::eventually("every referral in the inbox", SETTLE, || async move {
        let (sent, received) = (dbs.sent().await?, dbs.received().await?);
        anyhow::Ok((received >= sent).then_some(()))
    })
    .await;
    dbs.open_referrals().await.expect("the inbox reads")
}

/// The joint meeting's board killed while 1,000 joint cases are being submitted to it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill9_of_the_board_mid_load_loses_and_doubles_nothing() {
    let _serial = SERIAL.write().await;
    let mut hub = TestHub::start_processes(fault_env(Backend::Postgres)).await;
    let dbs = Databases::open(&hub.env.cfg)
        .await
        .expect("the databases open");
    let load = Load::drive(
        Via::Grpc(hub.brigade.clone()),
        Kind::Joint,
        KILL_LOAD,
        IN_FLIGHT,
    );
    let on_agenda = "SELECT COUNT(*) FROM agenda_items WHERE kind = 'joint_case'";
    let at = kill9_once_counted(
        &mut hub,
        "board",
        &dbs.board,
        on_agenda,
        "joint cases on the agenda",
    )
    .await;
    let (acknowledged, failed) = load.finish().await;
    let injected = format!(
        "kill -9 of board at {:.0} % of {KILL_LOAD} joint cases on the agenda, restart after \
         0.5 s ({acknowledged} reports acknowledged, {failed} calls retried)",
        at * 100.0
    );
    let urls = hub.env.cfg.nats_url.clone();
    let f = check_hop(
        "kill -9 board",
        &injected,
        &dbs,
        Hop {
            sender: &dbs.brigade,
            sent_sql: "SELECT case_id FROM cases WHERE path = 'joint'",
            receiver: &dbs.board,
            received_sql: "SELECT case_id FROM agenda_items WHERE kind = 'joint_case'",
        },
        &urls,
        &dlq(&hub),
        SETTLE,
    )
    .await;
    assert_eq!(f.sent, KILL_LOAD as i64, "one case per report");
    dbs.close().await;
    hub.stop().await;
}

/// The disclosure service killed while the department's 1,000 decisions reach it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill9_of_the_disclosure_service_mid_decisions_loses_and_doubles_nothing() {
    let _serial = SERIAL.write().await;
    let mut hub = TestHub::start_processes(fault_env(Backend::Sqlite)).await;
    let dbs = Databases::open(&hub.env.cfg)
        .await
        .expect("the databases open");
    let open = referrals_delivered(&hub, &dbs).await;
    let conclusions = tokio::spawn(conclude_all(hub.county.clone(), open, IN_FLIGHT));
    let disclosed = "SELECT COUNT(*) FROM disclosures";
    let at = kill9_once_counted(
        &mut hub,
        "disclosure",
        &dbs.disclosure,
        disclosed,
        "decisions disclosed",
    )
    .await;
    let concluded = conclusions.await.expect("the conclusions ran");
    let injected = format!(
        "kill -9 of disclosure at {:.0} % of {KILL_LOAD} decisions disclosed, restart after \
         0.5 s ({concluded} referrals concluded)",
        at * 100.0
    );
    let urls = hub.env.cfg.nats_url.clone();
    let f = check_hop(
        "kill -9 disclosure",
        &injected,
        &dbs,
        Hop {
            sender: &dbs.county,
            sent_sql: "SELECT case_id FROM referrals WHERE status = 'concluded'",
            receiver: &dbs.disclosure,
            received_sql: "SELECT case_id FROM disclosures",
        },
        &urls,
        &dlq(&hub),
        SETTLE,
    )
    .await;
    assert_eq!(f.sent, KILL_LOAD as i64);
    dbs.close().await;
    hub.stop().await;
}

/// The review service killed while the department's 1,000 major decisions ask for review.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill9_of_the_review_service_mid_requests_loses_and_doubles_nothing() {
    let _serial = SERIAL.write().await;
    let mut hub = TestHub::start_processes(fault_env(Backend::Postgres)).await;
    let dbs = Databases::open(&hub.env.cfg)
        .await
        .expect("the databases open");
    let open = referrals_delivered(&hub, &dbs).await;
    let requests = tokio::spawn(conclude_all_fined(
        hub.county.clone(),
        open,
        IN_FLIGHT,
        MAJOR_FINE_FEN,
    ));
    let reviews = "SELECT COUNT(*) FROM reviews";
    let at = kill9_once_counted(
        &mut hub,
        "review",
        &dbs.review,
        reviews,
        "review requests received",
    )
    .await;
    let proposed = requests.await.expect("the proposals ran");
    let injected = format!(
        "kill -9 of review at {:.0} % of {KILL_LOAD} major decisions' review requests received, \
         restart after 0.5 s ({proposed} decisions proposed)",
        at * 100.0
    );
    let urls = hub.env.cfg.nats_url.clone();
    let f = check_hop(
        "kill -9 review",
        &injected,
        &dbs,
        Hop {
            sender: &dbs.county,
            sent_sql: "SELECT review_id FROM decision_reviews WHERE subject = 'referral'",
            receiver: &dbs.review,
            received_sql: "SELECT review_id FROM reviews",
        },
        &urls,
        &dlq(&hub),
        SETTLE,
    )
    .await;
    assert_eq!(f.sent, KILL_LOAD as i64);
    dbs.close().await;
    hub.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_nats_server_killed_and_restarted_mid_stream_loses_nothing() {
    let _serial = SERIAL.write().await;
    let mut nats = NatsServer::start().await;
    let mut env = fault_env(Backend::Sqlite);
    env.cfg.nats_url = nats.url();
    let hub = TestHub::start_processes(env).await;
    let dbs = Databases::open(&hub.env.cfg)
        .await
        .expect("the databases open");
    let load = Load::start(hub.brigade.clone(), LOAD, IN_FLIGHT);

    let at = when_at_least(&dbs, Watch::Received, LOAD, 0.3).await;
    nats.kill9();
    println!(
        "[nats kill -9] killed the only NATS server at {:.0} % received",
        at * 100.0
    );
    assert!((0.10..=0.90).contains(&at));
    tokio::time::sleep(Duration::from_secs(1)).await;
    nats.restart().await;

    let (acknowledged, failed) = load.finish().await;
    let concluded = deliver_and_conclude(&dbs, hub.county.clone(), SETTLE).await;
    let injected = format!(
        "kill -9 of the single nats-server (file storage) at {:.0} % of {LOAD} received, \
         restart after 1 s on the same port and store ({acknowledged} acknowledged, {failed} \
         calls retried, {concluded} concluded)",
        at * 100.0
    );
    check_invariants(
        "nats kill -9",
        &injected,
        &dbs,
        &nats.url(),
        &dlq(&hub),
        0,
        SETTLE,
    )
    .await;
    dbs.close().await;
    hub.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cluster_loses_a_follower_and_then_the_stream_leader_under_traffic() {
    let _serial = SERIAL.write().await;
    let mut cluster = NatsCluster::start().await;
    let mut env = fault_env(Backend::Sqlite);
    env.cfg.nats_url = cluster.urls();
    env.cfg.bus.replicas = 3;
    // The services create their streams at start, after the cluster has formed.
    let hub = TestHub::start_processes(env).await;
    let dbs = Databases::open(&hub.env.cfg)
        .await
        .expect("the databases open");
    let brigade_stream = stream(&hub, "BRIGADE");
    let load = Load::start(hub.brigade.clone(), LOAD, IN_FLIGHT);

    let first = when_at_least(&dbs, Watch::Received, LOAD, 0.2).await;
    let leader = cluster.leader_of(&brigade_stream).await;
    let follower = (leader + 1) % 3;
    cluster.nodes[follower].kill9();
    println!(
        "[cluster] killed follower {} at {:.0} % received",
        cluster.nodes[follower].name,
        first * 100.0
    );
    tokio::time::sleep(Duration::from_secs(1)).await;
    cluster.nodes[follower].restart().await;
    cluster.wait_replicas_current(&brigade_stream).await;

    // Waiting for the follower to catch up can take as long as the first load: the leader is
    // killed in the middle of a second one, so it surely dies under traffic.
    let (ack1, failed1) = load.finish().await;
    let load = Load::start(hub.brigade.clone(), LOAD, IN_FLIGHT);
    let second = when_at_least(&dbs, Watch::Received, 2 * LOAD, 0.75).await;
    let leader = cluster.leader_of(&brigade_stream).await;
    cluster.nodes[leader].kill9();
    println!(
        "[cluster] killed {brigade_stream}'s leader {} at {:.0} % received; it stays down",
        cluster.nodes[leader].name,
        second * 100.0
    );
    assert!(second <= 0.975, "the leader must die under traffic");

    let (ack2, failed2) = load.finish().await;
    let (acknowledged, failed) = (ack1 + ack2, failed1 + failed2);
    let concluded = deliver_and_conclude(&dbs, hub.county.clone(), SETTLE).await;
    let injected = format!(
        "3-node cluster, R3 streams, sync_interval always: kill -9 of a follower at {:.0} % of \
         a first load of {LOAD} (restarted after 1 s), then of the stream leader at {:.0} % of \
         both loads (left down) ({acknowledged} acknowledged, {failed} calls retried, \
         {concluded} concluded)",
        first * 100.0,
        second * 100.0
    );
    check_invariants(
        "cluster",
        &injected,
        &dbs,
        &cluster.live_urls(),
        &dlq(&hub),
        0,
        SETTLE,
    )
    .await;
    dbs.close().await;
    hub.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broker_that_loses_acknowledged_messages_is_made_good_by_receipts_and_resends() {
    let _serial = SERIAL.write().await;
    let nats = NatsServer::start().await;
    let mut env = fault_env(Backend::Sqlite);
    env.cfg.nats_url = nats.url();
    let hub = TestHub::start_processes(env).await;
    let dbs = Databases::open(&hub.env.cfg)
        .await
        .expect("the databases open");
    let js = jetstream::new(fault::connect(&nats.url()).await.unwrap());
    let brigade_stream = stream(&hub, "BRIGADE");
    let load = Load::start(hub.brigade.clone(), LOAD, IN_FLIGHT);

    // Purge the referrals' stream, the departments' stream and the receipts every 150 ms,
    // through the reports and then through the departments' answers: messages the broker
    // acknowledged to a relay vanish before or after delivery, in both directions.
    // While the reports go in, purge the referrals' stream, the departments' stream and the
    // receipts every 150 ms; while the departments answer, purge their stream and the receipts.
    // Messages the broker acknowledged to a relay vanish before or after delivery, in both
    // directions. The purging stops when the calls stop: a re-send waits longer each time, so
    // purging on for ever would only measure how long until one slips between two purges.
    let purge_while = |names: Vec<String>| {
        let js = js.clone();
        let on = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
        let flag = on.clone();
        let task = tokio::spawn(async move {
            let (mut purges, mut purged) = (0u64, 0u64);
            while flag.load(std::sync::atomic::Ordering::Relaxed) {
                for name in &names {
                    if let Ok(s) = js.get_stream(name).await
                        && let Ok(p) = s.purge().await
                    {
                        purged += p.purged;
                    }
                }
                purges += 1;
                tokio::time::sleep(Duration::from_millis(150)).await;
            }
            (purges, purged)
        });
        (on, task)
    };
    let stop = |on: std::sync::Arc<std::sync::atomic::AtomicBool>| {
        on.store(false, std::sync::atomic::Ordering::Relaxed)
    };
    let (on, purger) = purge_while(
        ["BRIGADE", "COUNTY", "RECEIPTS"]
            .map(|s| stream(&hub, s))
            .to_vec(),
    );
    while !load_done(&load) {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Then delete the referrals' stream outright and create it again, as an operator
    // recovering a broken stream would; its consumers are gone with it and come back.
    js.delete_stream(&brigade_stream).await.unwrap();
    Bus::connect(&hub.env.cfg, "fault-test")
        .await
        .expect("the streams are created again");
    let (acknowledged, failed) = load.finish().await;
    stop(on);
    let (purges_in, purged_in) = purger.await.expect("the purger did not panic");
    liandong_tests::eventually(
        "every committed referral to reach the county",
        SETTLE,
        || async {
            let (sent, received) = (dbs.sent().await?, dbs.received().await?);
            anyhow::Ok((sent > 0 && received >= sent).then_some(()))
        },
    )
    .await;
    let (on, purger) = purge_while(["COUNTY", "RECEIPTS"].map(|s| stream(&hub, s)).to_vec());
    let open = dbs
        .open_referrals()
        .await
        .expect("the county's inbox reads");
    let concluded = conclude_all(hub.county.clone(), open, IN_FLIGHT).await;
    stop(on);
    let (purges_out, purged_out) = purger.await.expect("the purger did not panic");
    let purged = purged_in + purged_out;
    let injected = format!(
        "{purges_in} purges of BRIGADE, COUNTY and RECEIPTS during the reports and \
         {purges_out} of COUNTY and RECEIPTS during the answers ({purged} acknowledged messages \
         dropped), {brigade_stream} deleted and recreated after the reports ({acknowledged} \
         acknowledged, {failed} calls retried, {concluded} concluded)"
    );
    let f = check_invariants(
        "broker loss",
        &injected,
        &dbs,
        &nats.url(),
        &dlq(&hub),
        0,
        SETTLE,
    )
    .await;
    assert!(
        purged > 0,
        "the broker lost nothing: the scenario proved nothing"
    );
    assert!(
        f.duplicates > 0,
        "re-sends reached inboxes that had the events"
    );
    dbs.close().await;
    hub.stop().await;
}

fn load_done(load: &Load) -> bool {
    load.acknowledged.load(std::sync::atomic::Ordering::Relaxed) >= load.total
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgresql_restarted_under_load_the_services_reconnect_and_carry_on() {
    let _serial = SERIAL.write().await;
    let pg = tokio::task::spawn_blocking(PgCluster::start).await.unwrap();
    let mut env = fault_env(Backend::Sqlite);
    // The services' databases live on the throwaway cluster, not on the machine's server.
    env.cfg.database_url = Some(pg.url("ldf"));
    let hub = TestHub::start_processes(env).await;
    let dbs = Databases::open(&hub.env.cfg)
        .await
        .expect("the databases open");
    let load = Load::start(hub.brigade.clone(), LOAD, IN_FLIGHT);

    let at = when_at_least(&dbs, Watch::Received, LOAD, 0.3).await;
    let pg = tokio::task::spawn_blocking(move || {
        let mut pg = pg;
        // A crash: no checkpoint, every connection cut, recovery from WAL at start.
        pg.stop_server("immediate");
        std::thread::sleep(Duration::from_millis(500));
        pg.start_server();
        pg
    })
    .await
    .unwrap();
    println!(
        "[postgres restart] crashed and restarted PostgreSQL at {:.0} % received",
        at * 100.0
    );
    assert!((0.10..=0.90).contains(&at));

    let (acknowledged, failed) = load.finish().await;
    let concluded = deliver_and_conclude(&dbs, hub.county.clone(), SETTLE).await;
    let injected = format!(
        "PostgreSQL stopped -m immediate at {:.0} % of {LOAD} received and started 0.5 s later \
         ({acknowledged} acknowledged, {failed} calls retried, {concluded} concluded)",
        at * 100.0
    );
    let urls = hub.env.cfg.nats_url.clone();
    check_invariants(
        "postgres restart",
        &injected,
        &dbs,
        &urls,
        &dlq(&hub),
        0,
        SETTLE,
    )
    .await;
    dbs.close().await;
    hub.stop().await;
    drop(pg);
}

/// `liandong_dead_letters_total` summed over its label sets, if the service serves
/// `GET /metrics` on its gRPC address; `None` while that endpoint does not exist.
async fn dead_letter_metric(addr: std::net::SocketAddr) -> Option<f64> {
    let reply = liandong_tests::http::request(addr, "GET", "/metrics", &[], None)
        .await
        .ok()?;
    if reply.status != 200 {
        return None;
    }
    let values: Vec<f64> = reply
        .body
        .lines()
        .filter(|l| l.starts_with("liandong_dead_letters_total"))
        .filter_map(|l| l.rsplit(' ').next()?.parse().ok())
        .collect();
    // `+ 0.0`: an empty f64 sum is -0.0.
    Some(values.iter().sum::<f64>() + 0.0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_undecodable_and_an_always_failing_message_are_dead_lettered_and_the_rest_flows() {
    let _serial = SERIAL.write().await;
    use liandong_bus::{Source, Subjects};
    use liandong_proto::events::v1 as ev;
    use liandong_topology::{EventKind, names};
    use prost::Message;

    // PostgreSQL refuses a NUL byte in text, every time: a handler failure no retry cures.
    let hub = TestHub::start_processes(fault_env(Backend::Postgres)).await;
    let dbs = Databases::open(&hub.env.cfg)
        .await
        .expect("the databases open");
    let urls = hub.env.cfg.nats_url.clone();
    let js = jetstream::new(fault::connect(&urls).await.unwrap());
    let subjects = Subjects::new(&hub.env.cfg.subject_root);
    let subject = subjects.event(
        Source::Brigade,
        names::REFERRAL_DISPATCHED,
        fault::TOWN,
        Some(fault::DEPARTMENT),
    );
    let metric_before = dead_letter_metric(hub.env.cfg.county_addr).await;

    // A varint tag with wire type 7, which protobuf does not have.
    let garbage = b"\xff\xff\xff not an envelope".to_vec();
    assert!(ev::Envelope::decode(garbage.as_slice()).is_err());
    let poison_id = uuid::Uuid::now_v7().to_string();
    let mut poison = ev::Envelope {
        event_id: poison_id.clone(),
        event_type: EventKind::BrigadeReferralDispatched.event_type().into(),
        schema_version: 1,
        town: fault::TOWN.into(),
        department: fault::DEPARTMENT.into(),
        aggregate_id: format!("{}-poison", fault::TOWN),
        aggregate_seq: 1,
        source: Source::Brigade.as_str().into(),
        payload: ev::ReferralDispatched {
            referral_id: "poison\0referral".into(),
            facts: Some(ev::CaseFacts {
                case_id: format!("{}-poison-case", fault::TOWN),
                town: fault::TOWN.into(),
                matters: vec![fault::MATTER.into()],
                ..Default::default()
            }),
            department: fault::DEPARTMENT.into(),
            dispatch_no: 1,
            reason: "triage".into(),
        }
        .encode_to_vec(),
        ..Default::default()
    };
    // Signed with the brigade's key, so that it is its handler, not its signature, that fails.
    liandong_bus::signing::Signer::load(
        "brigade",
        &hub.env.cfg.event_keys_dir().join("brigade.pem"),
    )
    .expect("the brigade's key")
    .sign(&mut poison);
    for (bytes, id) in [
        (garbage, uuid::Uuid::now_v7().to_string()),
        (poison.encode_to_vec(), poison_id.clone()),
    ] {
        let msg = async_nats::jetstream::message::PublishMessage::build()
            .payload(bytes.into())
            .message_id(id);
        js.send_publish(subject.clone(), msg)
            .await
            .unwrap()
            .await
            .unwrap();
    }
    // The referrals behind them: reported while the poison is still being retried.
    let load = Load::start(hub.brigade.clone(), 200, IN_FLIGHT);
    let dlq_name = dlq(&hub);
    let dlq_stream = js.get_stream(&dlq_name).await.unwrap();
    let started = Instant::now();
    // The read model observes the brigade's stream too, so it may dead-letter the same two
    // messages.
    let read_dlq = || fault::read_dead_letters(&dlq_stream);
    let county_dead = |all: &[fault::DeadLetter]| -> Vec<fault::DeadLetter> {
        all.iter()
            .filter(|d| d.consumer.starts_with("county-from-brigade"))
            .cloned()
            .collect()
    };
    let county = liandong_tests::eventually(
        "both messages to be dead-lettered by the county",
        Duration::from_secs(60),
        || async {
            let all = read_dlq().await?;
            let county = county_dead(&all);
            anyhow::Ok((county.len() >= 2).then_some(county))
        },
    )
    .await;
    let received_when_dead_lettered = dbs.received().await.unwrap();
    println!(
        "[dead letters] both dead-lettered after {:.1} s; meanwhile {received_when_dead_lettered} \
         referrals behind them reached the county",
        started.elapsed().as_secs_f64()
    );
    let mut errors = Vec::new();
    for d in &county {
        assert_eq!(d.subject, subject);
        errors.push(d.error.clone());
    }
    println!("[dead letters] errors: {errors:?}");
    assert!(errors[0].contains("decode"), "{errors:?}");
    assert!(
        errors[1].contains("0x00") || errors[1].to_lowercase().contains("database"),
        "the handler's error is kept: {errors:?}"
    );

    let (acknowledged, failed) = load.finish().await;
    let concluded = deliver_and_conclude(&dbs, hub.county.clone(), SETTLE).await;
    let metric_after = dead_letter_metric(hub.env.cfg.county_addr).await;
    let metric = match (metric_before, metric_after) {
        (_, Some(after)) => {
            let before = metric_before.unwrap_or(0.0);
            assert!(
                after >= before + 2.0,
                "liandong_dead_letters_total rose from {before} to {after}"
            );
            format!("liandong_dead_letters_total {before} -> {after}")
        }
        (_, None) => {
            // NOTE: GET /metrics is not served yet (another engineer is adding it); the DLQ
            // stream's contents above are the evidence until then.
            println!(
                "[dead letters] NOTE: no /metrics on the county's address yet; asserted on the DLQ stream"
            );
            "no /metrics endpoint yet".into()
        }
    };
    let injected = format!(
        "an undecodable message and an envelope whose handler fails every time (NUL in a \
         PostgreSQL text), then 200 referrals behind them ({acknowledged} acknowledged, {failed} \
         calls retried, {concluded} concluded); {metric}"
    );
    // Besides the county's two: the read model's copies of the same two messages (it observes
    // every event), and the undecodable message once for each other consumer of the brigade's
    // stream (which cannot tell it is not theirs); the poison envelope is none of theirs.
    let all = read_dlq().await.expect("the DLQ reads");
    assert_eq!(county_dead(&all).len(), 2, "{all:?}");
    for d in &all {
        assert!(
            d.consumer.starts_with("county-from-brigade")
                || d.consumer.starts_with("readmodel")
                || (d.consumer.contains("-from-brigade") && d.error.contains("decode")),
            "an unexpected dead letter: {all:?}"
        );
        assert_eq!(d.subject, subject);
    }
    check_invariants(
        "dead letters",
        &injected,
        &dbs,
        &urls,
        &dlq_name,
        all.len() as u64,
        SETTLE,
    )
    .await;
    dbs.close().await;
    hub.stop().await;
}

/// Reports sent by `in_flight` callers, each about once a second, until `stop`, each
/// answered or recorded as failed (never retried: the point is that none fails).
struct Reporters {
    answered: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    failures: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
    stop: tokio_util::sync::CancellationToken,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Reporters {
    fn start(
        client: liandong_proto::brigade::v1::brigade_service_client::BrigadeServiceClient<
            tonic::transport::Channel,
        >,
        in_flight: usize,
    ) -> Reporters {
        use std::sync::atomic::Ordering;
        let answered = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let failures = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let next = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let stop = tokio_util::sync::CancellationToken::new();
        let run = uuid::Uuid::now_v7().simple().to_string();
        let tasks = (0..in_flight)
            .map(|_| {
                let (client, answered, failures, next, stop, run) = (
                    client.clone(),
                    answered.clone(),
                    failures.clone(),
                    next.clone(),
                    stop.clone(),
                    run.clone(),
                );
                tokio::spawn(async move {
                    let officer = liandong_tests::hub::As::brigade_officer(fault::TOWN);
                    while !stop.is_cancelled() {
                        let n = next.fetch_add(1, Ordering::SeqCst);
                        let request = liandong_proto::brigade::v1::ReportCaseRequest {
                            request_id: format!("{run}-{n}"),
                            ..fault::out_of_scope_report(n)
                        };
                        match client.clone().report_case(officer.req(request)).await {
                            Ok(_) => {
                                answered.fetch_add(1, Ordering::SeqCst);
                                // Each caller reports about once a second: unpaced, the
                                // relay no longer holding anyone back, 16 callers made
                                // 4,000 reports in the 20 s outage, a backlog whose
                                // receipts took longer than the scenario waits to settle.
                                tokio::time::sleep(Duration::from_secs(1)).await;
                            }
                            Err(e) => failures.lock().expect("not poisoned").push(format!(
                                "report {n}: {:?} {}",
                                e.code(),
                                e.message()
                            )),
                        }
                    }
                })
            })
            .collect();
        Reporters {
            answered,
            failures,
            stop,
            tasks,
        }
    }

    fn answered(&self) -> usize {
        self.answered.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Waits until `more` further reports were answered (bounded).
    async fn until_more(&self, more: usize, what: &str) {
        let want = self.answered() + more;
        liandong_tests::eventually(what, Duration::from_secs(120), || async move {
            (self.answered() >= want).then_some(())
        })
        .await;
    }

    async fn finish(self) -> (usize, Vec<String>) {
        self.stop.cancel();
        for t in self.tasks {
            t.await.expect("a reporter did not panic");
        }
        let failures = self.failures.lock().expect("not poisoned").clone();
        (
            self.answered.load(std::sync::atomic::Ordering::SeqCst),
            failures,
        )
    }
}

/// How long the broker stays down while reports keep coming (the 20 s).
const OUTAGE: Duration = Duration::from_secs(20);

/// SQLite, the only nats-server killed for 20 s while reports arrive 16 at a time: every
/// report is answered (none fails: the relay publishes outside any transaction, so no writer
/// waits out the busy timeout behind it), the brigade says NOT_SERVING while the broker is
/// gone and SERVING again after, and every referral reaches the county exactly once.
/// About 80 s.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_the_broker_down_for_twenty_seconds_no_report_fails_and_no_referral_is_lost() {
    let _serial = SERIAL.read().await;
    let started = Instant::now();
    let mut nats = NatsServer::start().await;
    let mut env = fault_env(Backend::Sqlite);
    env.cfg.nats_url = nats.url();
    let hub = TestHub::start_processes(env).await;
    let dbs = Databases::open(&hub.env.cfg)
        .await
        .expect("the databases open");
    let reporters = Reporters::start(hub.brigade.clone(), 16);
    reporters
        .until_more(50, "50 reports before the broker goes")
        .await;

    nats.kill9();
    let at_kill = reporters.answered();
    let brigade_addr = hub.env.cfg.brigade_addr;
    liandong_tests::eventually(
        "the brigade to say NOT_SERVING without its broker",
        Duration::from_secs(30),
        || async move { (!liandong_tests::up::serving(brigade_addr).await).then_some(()) },
    )
    .await;
    // The outage's length is the scenario, not an assertion.
    tokio::time::sleep(OUTAGE).await;
    let during = reporters.answered() - at_kill;
    nats.restart().await;
    liandong_tests::eventually(
        "the brigade to say SERVING with its broker back",
        Duration::from_secs(60),
        || async move {
            liandong_tests::up::serving(brigade_addr)
                .await
                .then_some(())
        },
    )
    .await;
    reporters
        .until_more(50, "50 reports after the broker is back")
        .await;
    let (answered, failures) = reporters.finish().await;
    assert!(
        failures.is_empty(),
        "{} of {} reports failed, e.g. {:?}",
        failures.len(),
        answered + failures.len(),
        &failures[..failures.len().min(5)]
    );
    assert!(
        during > 0,
        "reports kept being answered while the broker was down"
    );

    let concluded = deliver_and_conclude(&dbs, hub.county.clone(), SETTLE).await;
    let injected = format!(
        "kill -9 of the single nats-server for {} s while reports arrived 16 at a time \
         ({answered} answered, {during} of them during the outage, 0 failed; {concluded} concluded)",
        OUTAGE.as_secs()
    );
    let f = check_invariants(
        "broker down 20 s",
        &injected,
        &dbs,
        &nats.url(),
        &dlq(&hub),
        0,
        SETTLE,
    )
    .await;
    assert_eq!(f.sent, answered as i64, "one referral per answered report");
    println!(
        "[broker down 20 s] took {:.0} s",
        started.elapsed().as_secs_f64()
    );
    dbs.close().await;
    hub.stop().await;
}

/// Under `liandong up` (SQLite), each service in turn killed with SIGKILL while 100 reports
/// go in 16 at a time (through the gateway for the gateway, else the brigade's gRPC): the
/// others keep answering, the killed one is started again by the supervisor and serves,
/// and every referral is delivered and concluded once. About 150 s.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn under_liandong_up_each_service_killed_in_turn_comes_back_by_itself() {
    use liandong_tests::hub::SERVICES;
    use liandong_tests::up::{self, Up};
    let _serial = SERIAL.read().await;
    let started = Instant::now();
    let env = fault_env(Backend::Sqlite);
    let mut hub = Up::start(&env);
    let (brigade, county) = up::clients_when_ready(&env, &[]).await;
    let dbs = Databases::open(&env.cfg).await.expect("the databases open");
    let mut reports = 0;
    for service in SERVICES {
        let via = if service == "gateway" {
            Via::Gateway(env.cfg.gateway_addr)
        } else {
            Via::Grpc(brigade.clone())
        };
        let load = Load::drive(via, Kind::Referral, 100, 16);
        let acknowledged = load.acknowledged.clone();
        liandong_tests::eventually(
            "a third of the load answered",
            Duration::from_secs(120),
            || {
                let acknowledged = acknowledged.clone();
                async move {
                    (acknowledged.load(std::sync::atomic::Ordering::SeqCst) >= 33).then_some(())
                }
            },
        )
        .await;
        let killed = hub.kill9(service);
        for other in SERVICES.iter().filter(|s| **s != service) {
            assert!(
                up::ready(&env, other).await,
                "{other} keeps answering while {service} is down"
            );
        }
        let hub_ref = &hub;
        let env_ref = &env;
        liandong_tests::eventually(
            &format!("{service} to be started again and serve"),
            Duration::from_secs(90),
            || async move {
                let pid = hub_ref.service_pid(service)?;
                (pid != killed && up::ready(env_ref, service).await).then_some(())
            },
        )
        .await;
        let (acknowledged, failed) = load.finish().await;
        assert_eq!(acknowledged, 100);
        reports += acknowledged;
        println!("[up, kill -9 {service}] back by itself; {failed} calls retried");
    }

    let concluded = deliver_and_conclude(&dbs, county, SETTLE).await;
    let f = check_invariants(
        "liandong up, kill -9 of each service in turn",
        &format!(
            "kill -9 of each of the 7 services in turn under liandong up, each at a third of 100 \
             reports; restarted by the supervisor ({concluded} concluded)"
        ),
        &dbs,
        &env.cfg.nats_url,
        &format!("{}DLQ", env.cfg.stream_prefix),
        0,
        SETTLE,
    )
    .await;
    assert_eq!(f.sent, reports as i64, "each report made exactly one case");
    let log = hub.log();
    assert!(!log.contains("GIVING UP"), "no service was given up on");
    dbs.close().await;
    assert!(hub.interrupt(), "Ctrl-C stops liandong up and its services");
    println!(
        "[up, kill -9 each] took {:.0} s",
        started.elapsed().as_secs_f64()
    );
    env.cleanup().await;
}

/// Under `liandong up`, the review service cannot start (its port is taken): it is started
/// again with growing pauses, then reported and left down after its five tries, while the
/// others serve. About 40 s.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn under_liandong_up_a_service_that_keeps_crashing_is_reported_and_given_up() {
    use liandong_tests::up::{self, Up};
    let _serial = SERIAL.read().await;
    let env = fault_env(Backend::Sqlite);
    let _taken = std::net::TcpListener::bind(env.cfg.review_addr).expect("the port is free");
    let mut hub = Up::start(&env);
    let _clients = up::clients_when_ready(&env, &["review"]).await;
    let hub_ref = &hub;
    let log = liandong_tests::eventually(
        "liandong up to give up on the review service",
        Duration::from_secs(120),
        || async move {
            let log = hub_ref.log();
            log.contains("GIVING UP on the review service")
                .then_some(log)
        },
    )
    .await;
    let restarts = log
        .lines()
        .filter(|l| l.contains("A service exited; starting it again") && l.contains("review"))
        .count();
    assert_eq!(restarts, 4, "started five times in all before giving up");
    // The supervisor's own /metrics says so too, for an alert.
    let metrics =
        liandong_tests::http::request(env.cfg.supervisor_addr, "GET", "/metrics", &[], None)
            .await
            .expect("the supervisor serves /metrics");
    assert_eq!(metrics.status, 200);
    assert!(
        metrics
            .body
            .contains("liandong_service_restarts_total{service=\"review\"} 4"),
        "{}",
        metrics.body
    );
    assert!(
        metrics
            .body
            .contains("liandong_service_given_up{service=\"review\"} 1"),
        "{}",
        metrics.body
    );
    assert!(
        !metrics
            .body
            .contains("liandong_service_given_up{service=\"brigade\"}"),
        "{}",
        metrics.body
    );
    assert!(!up::ready(&env, "review").await);
    for other in [
        "brigade",
        "board",
        "county",
        "disclosure",
        "readmodel",
        "gateway",
    ] {
        assert!(up::ready(&env, other).await, "{other} serves all along");
    }
    assert!(hub.interrupt(), "Ctrl-C stops the others");
    env.cleanup().await;
}
