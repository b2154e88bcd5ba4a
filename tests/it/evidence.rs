//! Evidence end to end: uploads cited by reports verify at a department's handover, altered evidence is refused and recorded, and the store works against an S3-compatible server (moto).

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use liandong_evidence::{Bytes, EvidenceError, EvidenceStore, S3Settings, digest_of};
use liandong_proto::brigade::v1 as brigade;
use liandong_proto::county::v1 as county;
use liandong_tests::hub::{As, TestHub};
use liandong_tests::people::Report;
use liandong_tests::{Backend, eventually};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tonic::Code;

const T1: &str = "330782101";
const WAIT: Duration = Duration::from_secs(30);

fn report(evidence_refs: Vec<String>) -> brigade::ReportCaseRequest {
    Report::new(T1, &["LY-001"], "发现有人在后山滥伐林木")
        .with_evidence(evidence_refs)
        .request()
}

/// Reports an out-of-scope case citing `refs`, and has forestry sign for and accept it, which
/// hands the case file over. Returns the case id.
async fn referred_and_accepted(hub: &TestHub, refs: Vec<String>) -> String {
    let case = hub
        .brigade
        .clone()
        .report_case(As::brigade_officer(T1).req(report(refs)))
        .await
        .expect("the report is taken")
        .into_inner()
        .case
        .expect("a case");
    assert_eq!(case.status, "referred");
    let case_id = case.case_id;
    let c = hub.county.clone();
    let referral = eventually("the referral in forestry's inbox", WAIT, || {
        let mut c = c.clone();
        let case_id = case_id.clone();
        async move {
            c.list_inbox(As::dispatcher("forestry").req(county::ListInboxRequest {
                department: "forestry".into(),
                status: String::new(),
                town: String::new(),
                page_size: 0,
            }))
            .await
            .ok()?
            .into_inner()
            .referrals
            .into_iter()
            .find(|r| r.facts.as_ref().is_some_and(|f| f.case_id == case_id))
        }
    })
    .await;
    let dispatcher = As::dispatcher("forestry");
    let mut c = hub.county.clone();
    c.sign_for_referral(dispatcher.req(county::SignForReferralRequest {
        referral_id: referral.referral_id.clone(),
    }))
    .await
    .expect("signed for");
    c.accept_referral(dispatcher.req(county::AcceptReferralRequest {
        referral_id: referral.referral_id,
    }))
    .await
    .expect("accepted");
    case_id
}

/// The case's history entry of `kind`, once it is there.
async fn entry(hub: &TestHub, case_id: &str, kind: &'static str) -> brigade::HistoryEntry {
    eventually(kind, WAIT, || {
        let mut b = hub.brigade.clone();
        let case_id = case_id.to_owned();
        async move {
            b.get_case(As::brigade_officer(T1).req(brigade::GetCaseRequest { case_id }))
                .await
                .ok()?
                .into_inner()
                .history
                .into_iter()
                .find(|h| h.kind == kind)
        }
    })
    .await
}

async fn kinds(hub: &TestHub, case_id: &str) -> Vec<String> {
    hub.brigade
        .clone()
        .get_case(As::brigade_officer(T1).req(brigade::GetCaseRequest {
            case_id: case_id.into(),
        }))
        .await
        .expect("the case")
        .into_inner()
        .history
        .into_iter()
        .map(|h| h.kind)
        .collect()
}

#[tokio::test]
async fn cited_evidence_verifies_at_handover_and_altered_evidence_is_refused() {
    let hub = TestHub::start(Backend::Sqlite).await;
    let mut b = hub.brigade.clone();
    let photo = b"\xff\xd8\xff\xe0 a photo of felled trees".to_vec();
    let uploaded = b
        .upload_evidence(As::brigade_officer(T1).req(brigade::UploadEvidenceRequest {
            case_id: String::new(),
            town: T1.into(),
            filename: "现场照片1.jpg".into(),
            content_type: "image/jpeg".into(),
            content: photo.clone(),
        }))
        .await
        .expect("the photo is stored")
        .into_inner();
    assert_eq!(uploaded.digest, digest_of(&photo));
    assert_eq!(uploaded.size, photo.len() as u64);

    // What is not evidence, and digests of nothing stored, are refused.
    let err = b
        .upload_evidence(As::brigade_officer(T1).req(brigade::UploadEvidenceRequest {
            case_id: String::new(),
            town: T1.into(),
            filename: "tool.exe".into(),
            content_type: "application/x-msdownload".into(),
            content: b"MZ".to_vec(),
        }))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    assert!(err.message().contains("content_type"), "{}", err.message());
    let err = b
        .report_case(As::brigade_officer(T1).req(report(vec![digest_of(b"nothing")])))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    assert!(
        err.message().contains("evidence_refs[0]: no such evidence"),
        "{}",
        err.message()
    );

    // Intact evidence: the handover is received and acknowledged. A free-text reference
    // (legacy) is carried along unchecked.
    let first =
        referred_and_accepted(&hub, vec![uploaded.digest.clone(), "纸质笔录-001".into()]).await;
    entry(&hub, &first, "handover_received").await;
    assert!(
        !kinds(&hub, &first)
            .await
            .contains(&"handover_refused".to_string())
    );

    // An upload naming a case enters the record with its digest.
    b.upload_evidence(As::brigade_officer(T1).req(brigade::UploadEvidenceRequest {
        case_id: first.clone(),
        town: String::new(),
        filename: "询问笔录.pdf".into(),
        content_type: "application/pdf".into(),
        content: b"%PDF-1.4 record of interview".to_vec(),
    }))
    .await
    .expect("the interview record is stored");
    let e = entry(&hub, &first, "evidence").await;
    assert!(
        e.detail
            .contains(&digest_of(b"%PDF-1.4 record of interview")),
        "{}",
        e.detail
    );

    // Someone alters the stored photo; the next handover citing it is refused and recorded.
    let hex = uploaded.digest.strip_prefix("sha256:").unwrap();
    let path = hub
        .env
        .cfg
        .data_dir
        .join("evidence")
        .join("sha256")
        .join(hex);
    assert!(path.exists(), "{} is where the photo lies", path.display());
    std::fs::write(&path, b"a different photo").expect("the stored photo is overwritten");
    let second = referred_and_accepted(&hub, vec![uploaded.digest.clone()]).await;
    let refused = entry(&hub, &second, "handover_refused").await;
    assert!(refused.detail.contains("mismatch"), "{}", refused.detail);
    assert!(
        refused.detail.contains(&uploaded.digest),
        "{}",
        refused.detail
    );
    assert!(
        !kinds(&hub, &second)
            .await
            .contains(&"handover_received".to_string())
    );
    hub.stop().await;
}

/// The moto S3 server: `LIANDONG_MOTO_SERVER`, or the tools venv's (deploy/moto.sh installs it).
fn moto_server() -> PathBuf {
    std::env::var_os("LIANDONG_MOTO_SERVER")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var_os("HOME").expect("HOME"))
                .join(".cache/liandong-tools/venv/bin/moto_server")
        })
}

struct Moto(Child);

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// One plain HTTP request; moto takes unsigned requests, which is all creating a bucket needs.
async fn http(port: u16, method: &str, path: &str) -> std::io::Result<String> {
    let mut s = tokio::net::TcpStream::connect(("127.0.0.1", port)).await?;
    let req = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    );
    s.write_all(req.as_bytes()).await?;
    let mut out = String::new();
    s.read_to_string(&mut out).await?;
    Ok(out)
}

#[tokio::test]
async fn the_store_round_trips_through_an_s3_compatible_server() {
    let bin = moto_server();
    assert!(
        bin.exists(),
        "{} is missing: run deploy/moto.sh",
        bin.display()
    );
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let _moto = Moto(
        Command::new(&bin)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("moto_server starts"),
    );
    let created = eventually("moto answers and the bucket exists", WAIT, || async move {
        let r = http(port, "PUT", "/evidence").await.ok()?;
        r.starts_with("HTTP/1.1 200").then_some(r)
    })
    .await;
    assert!(created.contains("200"));
    let store = EvidenceStore::s3(
        &S3Settings {
            bucket: "evidence".into(),
            endpoint: Some(format!("http://127.0.0.1:{port}")),
            region: Some("us-east-1".into()),
            access_key_id: Some("testing".into()),
            secret_access_key: Some("testing".into()),
            allow_http: true,
        },
        1024,
    )
    .expect("the S3 store is configured");
    let digest = store
        .put(Bytes::from_static(b"an audio recording"), "audio/amr")
        .await
        .expect("stored in S3");
    assert_eq!(digest, digest_of(b"an audio recording"));
    assert_eq!(
        store.get(&digest).await.unwrap(),
        Bytes::from_static(b"an audio recording")
    );
    store.verify(&digest).await.expect("it verifies");
    assert!(store.exists(&digest).await.unwrap());
    let absent = digest_of(b"not uploaded");
    assert!(!store.exists(&absent).await.unwrap());
    assert!(matches!(
        store.verify(&absent).await,
        Err(EvidenceError::Missing(_))
    ));
    assert!(matches!(
        store.put(Bytes::from(vec![0u8; 1025]), "video/mp4").await,
        Err(EvidenceError::TooLarge { .. })
    ));
}

/// A photo or video larger than gRPC's default message size (4 MiB) is stored whole; one over
/// the configured evidence limit is refused by field, and nothing of it is stored.
#[tokio::test]
async fn a_file_over_four_mib_is_stored_and_one_over_the_limit_is_refused_by_field() {
    const MIB: usize = 1024 * 1024;
    let mut env = liandong_tests::TestEnv::new(Backend::Sqlite);
    env.cfg.evidence_max_bytes = 6 * MIB as u64;
    let hub = TestHub::start_with(env).await;
    let mut b = hub.brigade.clone();
    let upload = |content: Vec<u8>| {
        As::brigade_officer(T1).req(brigade::UploadEvidenceRequest {
            case_id: String::new(),
            town: T1.into(),
            filename: "执法记录仪视频.mp4".into(),
            content_type: "video/mp4".into(),
            content,
        })
    };
    // Five MiB of a video (not all zeros, so that no layer could shrink it).
    let video: Vec<u8> = (0..5 * MIB).map(|i| (i % 251) as u8).collect();
    let stored = b
        .upload_evidence(upload(video.clone()))
        .await
        .expect("a 5 MiB video is stored")
        .into_inner();
    assert_eq!(stored.digest, digest_of(&video));
    assert_eq!(stored.size, 5 * MIB as u64);
    // Cited by a report, it is found by its digest.
    b.report_case(As::brigade_officer(T1).req(report(vec![stored.digest.clone()])))
        .await
        .expect("a report citing the video");

    // One byte over the limit: refused, naming the field and the limit.
    let over: Vec<u8> = (0..6 * MIB + 1).map(|i| (i % 241) as u8).collect();
    let err = b.upload_evidence(upload(over.clone())).await.unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument, "{err:?}");
    assert!(
        err.message().contains("content")
            && err
                .message()
                .contains(&format!("is over the limit of {} bytes", 6 * MIB)),
        "{}",
        err.message()
    );
    // Nothing of it was kept: a report citing its digest is refused.
    let err = b
        .report_case(As::brigade_officer(T1).req(report(vec![digest_of(&over)])))
        .await
        .unwrap_err();
    assert!(
        err.message().contains("evidence_refs[0]: no such evidence"),
        "{}",
        err.message()
    );
    hub.stop().await;
}
