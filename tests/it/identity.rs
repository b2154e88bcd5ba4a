//! Signed identities: every service and the gateway verify the caller's token themselves. A
//! missing, forged or expired token is refused as unauthenticated; a genuine token of another
//! town or department is refused the resource; a rotated-out key is accepted for its overlap
//! and refused after; the operator's `liandong token issue` makes tokens the hub accepts.

use std::process::Command;
use std::time::{Duration, SystemTime};

use liandong_grpc::identity::{KeySet, SigningKey};
use liandong_proto::brigade::v1 as brigade;
use liandong_proto::county::v1 as county;
use liandong_tests::http::request;
use liandong_tests::hub::{As, TestHub, liandong_bin};
use liandong_tests::people::Report;
use liandong_tests::{Backend, eventually};
use tonic::Code;

const T1: &str = "330782101";
const T2: &str = "330782102";

fn report() -> brigade::ReportCaseRequest {
    Report::new(T1, &["LY-001"], "砍伐林木").request()
}

/// `msg` carrying `authorization: <value>`.
fn with_auth<T>(msg: T, value: &str) -> tonic::Request<T> {
    let mut r = tonic::Request::new(msg);
    r.metadata_mut()
        .insert("authorization", value.parse().expect("ASCII"));
    r
}

fn get_case(case_id: &str) -> brigade::GetCaseRequest {
    brigade::GetCaseRequest {
        case_id: case_id.into(),
    }
}

#[tokio::test]
async fn forged_expired_foreign_and_missing_tokens_are_refused() {
    let hub = TestHub::start(Backend::Sqlite).await;
    let gw = hub.env.cfg.gateway_addr;
    let officer = As::brigade_officer(T1);
    let case = hub
        .brigade
        .clone()
        .report_case(officer.req(report()))
        .await
        .expect("a genuine token is accepted")
        .into_inner()
        .case
        .unwrap();
    let path = format!("/v1/cases/{}", case.case_id);

    // Forged: the same claims signed by a key the hub does not know, and by another key under
    // the hub's key id.
    let stranger = SigningKey::generate().unwrap();
    let now = SystemTime::now();
    let hour = Duration::from_secs(3600);
    let forged = stranger.issue("liandong", &officer.actor(), now, hour);
    let under_our_kid = {
        // Re-sign the header naming the hub's key with the stranger's key.
        let token = liandong_tests::auth::ISSUER.token(&officer.actor());
        let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
        let other = stranger.issue("liandong", &officer.actor(), now, hour);
        parts[2] = other.split('.').nth(2).unwrap().to_owned();
        parts.join(".")
    };
    // Expired an hour ago, by the hub's own key.
    let expired =
        liandong_tests::auth::test_key().issue("liandong", &officer.actor(), now - 2 * hour, hour);
    for (what, token) in [
        ("a stranger's key", forged.as_str()),
        (
            "a stranger's signature under the hub's key id",
            &under_our_kid,
        ),
        ("an expired token", &expired),
    ] {
        let err = hub
            .brigade
            .clone()
            .get_case(with_auth(
                get_case(&case.case_id),
                &format!("Bearer {token}"),
            ))
            .await
            .expect_err(what);
        assert_eq!(err.code(), Code::Unauthenticated, "{what}: {err:?}");
        let reply = request(
            gw,
            "GET",
            &path,
            &[("authorization", &format!("Bearer {token}"))],
            None,
        )
        .await
        .unwrap();
        assert_eq!(reply.status, 401, "{what} at the gateway: {}", reply.body);
        println!("{what}: {}", err.message());
    }
    // Services check for themselves: a county call with a stranger's token never reaches a
    // handler either.
    let err = hub
        .county
        .clone()
        .list_inbox(with_auth(
            county::ListInboxRequest {
                department: "forestry".into(),
                ..Default::default()
            },
            &format!(
                "Bearer {}",
                stranger.issue("liandong", &As::dispatcher("forestry").actor(), now, hour)
            ),
        ))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::Unauthenticated);

    // No token, or not a bearer one.
    let err = hub
        .brigade
        .clone()
        .get_case(tonic::Request::new(get_case(&case.case_id)))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::Unauthenticated);
    assert!(err.message().contains("no token"), "{}", err.message());
    let reply = request(gw, "GET", &path, &[], None).await.unwrap();
    assert_eq!(reply.status, 401);
    let reply = request(
        gw,
        "GET",
        &path,
        &[("authorization", "Basic d2FuZzp3dQ==")],
        None,
    )
    .await
    .unwrap();
    assert_eq!(reply.status, 401);
    // The old headers name no one any more.
    let reply = request(
        gw,
        "GET",
        &path,
        &[
            ("x-liandong-officer", "wang.wu"),
            ("x-liandong-role", "brigade_officer"),
            ("x-liandong-town", T1),
        ],
        None,
    )
    .await
    .unwrap();
    assert_eq!(reply.status, 401);

    // A genuine token of another town, or of a department the case is not addressed to.
    let err = hub
        .brigade
        .clone()
        .get_case(As::brigade_officer(T2).req(get_case(&case.case_id)))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied, "{err:?}");
    let reply = request(
        gw,
        "GET",
        &path,
        &[("authorization", &As::brigade_captain(T2).bearer())],
        None,
    )
    .await
    .unwrap();
    assert_eq!(reply.status, 403, "{}", reply.body);
    let referral = eventually(
        "the referral in forestry's inbox",
        Duration::from_secs(30),
        || async {
            hub.county
                .clone()
                .list_inbox(As::dispatcher("forestry").req(county::ListInboxRequest {
                    department: "forestry".into(),
                    ..Default::default()
                }))
                .await
                .ok()?
                .into_inner()
                .referrals
                .into_iter()
                .find(|r| r.facts.as_ref().is_some_and(|f| f.case_id == case.case_id))
        },
    )
    .await;
    let err = hub
        .county
        .clone()
        .sign_for_referral(
            As::dispatcher("public_security").req(county::SignForReferralRequest {
                referral_id: referral.referral_id.clone(),
            }),
        )
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied, "{err:?}");
    let reply = request(
        gw,
        "POST",
        &format!("/v1/referrals/{}/sign-for", referral.referral_id),
        &[("authorization", &As::dispatcher("public_security").bearer())],
        Some("{}"),
    )
    .await
    .unwrap();
    assert_eq!(reply.status, 403, "{}", reply.body);

    // The public feed needs no token.
    let reply = request(gw, "GET", "/public/disclosures.json", &[], None)
        .await
        .unwrap();
    assert_eq!(reply.status, 200, "{}", reply.body);
    hub.stop().await;
}

fn liandong(hub: &TestHub, args: &[&str]) -> String {
    let out = Command::new(liandong_bin())
        .arg("--config")
        .arg(hub.config_file())
        .args(args)
        .env("RUST_LOG", "warn")
        .output()
        .expect("liandong runs");
    assert!(
        out.status.success(),
        "liandong {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[tokio::test]
async fn a_rotated_key_is_accepted_for_its_overlap_then_refused() {
    let hub = TestHub::start(Backend::Sqlite).await;
    let gw = hub.env.cfg.gateway_addr;
    let reviewer = As::judicial_reviewer(T1);
    // Issued by the operator's command with the current key.
    let old = liandong(
        &hub,
        &[
            "token",
            "issue",
            "--officer",
            "zheng.sifa",
            "--role",
            "judicial_reviewer",
            "--town",
            T1,
        ],
    );
    let old = format!("Bearer {}", old.trim());
    let list = || brigade::ListCasesRequest {
        town: T1.into(),
        ..Default::default()
    };
    hub.brigade
        .clone()
        .list_cases(with_auth(list(), &old))
        .await
        .expect("the issued token is accepted");

    let overlap = 4;
    let rotated = liandong(
        &hub,
        &["keys", "rotate", "--overlap-secs", &overlap.to_string()],
    );
    println!("{rotated}");
    let rotated_at = std::time::Instant::now();
    let set = KeySet::load(&hub.env.cfg.jwks_file()).unwrap();
    assert_eq!(set.keys.len(), 2, "{set:?}");
    assert!(set.keys[0].retire_at.is_some() && set.keys[1].retire_at.is_none());
    let new_key = SigningKey::load(&hub.env.cfg.signing_key_file()).unwrap();
    assert_eq!(new_key.kid(), set.keys[1].kid);
    let new = format!(
        "Bearer {}",
        new_key.issue(
            "liandong",
            &reviewer.actor(),
            SystemTime::now(),
            Duration::from_secs(3600)
        )
    );
    // Within the overlap both keys are accepted, by the services and the gateway, which read
    // the new key set without a restart (each at most once a second, so each in its own time).
    let path = format!("/v1/towns/{T1}/cases");
    eventually(
        "the new key to be accepted by the brigade and the gateway",
        Duration::from_secs(3),
        || async {
            hub.brigade
                .clone()
                .list_cases(with_auth(list(), &new))
                .await
                .ok()?;
            let r = request(gw, "GET", &path, &[("authorization", &new)], None)
                .await
                .ok()?;
            (r.status == 200).then_some(())
        },
    )
    .await;
    hub.brigade
        .clone()
        .list_cases(with_auth(list(), &old))
        .await
        .expect("the old key within its overlap");
    for token in [&old, &new] {
        let r = request(gw, "GET", &path, &[("authorization", token)], None)
            .await
            .unwrap();
        assert_eq!(r.status, 200, "{}", r.body);
    }
    assert!(
        rotated_at.elapsed() < Duration::from_secs(overlap),
        "the checks within the overlap took too long to mean anything"
    );
    // After it, the old key's tokens are refused, though they have not expired; the new
    // key's are still accepted.
    tokio::time::sleep(Duration::from_secs(overlap) + Duration::from_millis(1500)).await;
    let err = hub
        .brigade
        .clone()
        .list_cases(with_auth(list(), &old))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::Unauthenticated);
    assert!(err.message().contains("retired"), "{}", err.message());
    let r = request(gw, "GET", &path, &[("authorization", &old)], None)
        .await
        .unwrap();
    assert_eq!(r.status, 401, "{}", r.body);
    hub.brigade
        .clone()
        .list_cases(with_auth(list(), &new))
        .await
        .expect("the new key after the overlap");
    let r = request(gw, "GET", &path, &[("authorization", &new)], None)
        .await
        .unwrap();
    assert_eq!(r.status, 200, "{}", r.body);
    hub.stop().await;
}
