//! Public disclosure end to end: decisions with crafted personal data become disclosures, the
//! deciding bodies publish and withdraw them, and the gateway's public feed and page carry no
//! unmasked name, ID, phone or bank number, no minor's decision, and a withdrawal's reason.

use std::time::Duration;

use liandong_domain::calendar::Calendar;
use liandong_proto::brigade::v1 as brigade;
use liandong_proto::county::v1 as county;
use liandong_proto::disclosure::v1 as disclosure;
use liandong_proto::events::v1 as ev;
use liandong_proto::time::from_ts;
use liandong_tests::http::request;
use liandong_tests::hub::{As, TestHub};
use liandong_tests::people::Report;
use liandong_tests::{Backend, eventually};
use tonic::Code;

pub(crate) const T1: &str = "330782101";
const WAIT: Duration = Duration::from_secs(30);

/// Raw personal data that must never reach the public.
const RAW: &[&str] = &[
    "张三丰",
    "330782198503123412",
    "33078219900101123X",
    "13812345678",
    "13912345678",
    "13712345678",
    "6222021234567890123",
    "6217001234567890",
    "3组12号",
    "0579-82345678",
    "82345678",
    "王小明",
    "李四",
    "赵六",
];

pub(crate) fn person(name: &str, minor: bool) -> ev::Party {
    ev::Party {
        kind: "person".into(),
        name: name.into(),
        id_number: "33078219900101123X".into(),
        phone: "13812345678".into(),
        address: "浙江省义乌市佛堂镇东山村3组12号".into(),
        bank_account: "6222021234567890123".into(),
        minor,
    }
}

/// Registers the enforcement certificates the acting officers need (持证上岗).
pub(crate) async fn certify(hub: &TestHub) {
    let _ = hub
        .brigade
        .clone()
        .register_officer(
            As::brigade_captain(T1).req(brigade::RegisterOfficerRequest {
                town: T1.into(),
                officer: "wang.wu".into(),
                certificate_no: "ZJ-330782-0001".into(),
                issuing_authority: "浙江省人民政府".into(),
                valid_from: "2020-01-01".into(),
                valid_until: "2099-12-31".into(),
            }),
        )
        .await;
    let _ = hub
        .county
        .clone()
        .register_officer(
            As::dispatcher("forestry").req(county::RegisterOfficerRequest {
                department: "forestry".into(),
                officer: "zhou.diaocha".into(),
                certificate_no: "ZJ-LY-0002".into(),
                issuing_authority: "浙江省人民政府".into(),
                valid_from: "2020-01-01".into(),
                valid_until: "2099-12-31".into(),
            }),
        )
        .await;
}

/// Reports an in-scope case in T1, has the captain assign it, and concludes it with `outcome`.
pub(crate) async fn conclude_in_scope(
    hub: &TestHub,
    description: &str,
    outcome: ev::Outcome,
) -> String {
    let mut b = hub.brigade.clone();
    let case = hub
        .brigade_officer(T1)
        .report(Report::new(T1, &["CXGH-001"], description).in_village("东山村", "东山村村口"))
        .await
        .expect("the report is taken");
    b.assign_case(As::brigade_captain(T1).req(brigade::AssignCaseRequest {
        case_id: case.case_id.clone(),
        officers: vec!["wang.wu".into(), "li.si".into()],
    }))
    .await
    .expect("assigned");
    liandong_tests::people::hear_before_deciding(
        &hub.brigade,
        &As::brigade_officer(T1),
        &case.case_id,
        &outcome,
    )
    .await
    .expect("notified and heard");
    b.conclude_case(As::brigade_officer(T1).req(brigade::ConcludeCaseRequest {
        case_id: case.case_id.clone(),
        outcome: Some(outcome),
        ..Default::default()
    }))
    .await
    .expect("concluded");
    case.case_id
}

async fn town_disclosures(hub: &TestHub) -> Vec<disclosure::Disclosure> {
    hub.disclosure
        .clone()
        .list_disclosures(
            As::brigade_captain(T1).req(disclosure::ListDisclosuresRequest {
                town: T1.into(),
                ..Default::default()
            }),
        )
        .await
        .expect("the town's disclosures are readable")
        .into_inner()
        .disclosures
}

/// Waits for the disclosure of `case_id` among the town's.
pub(crate) async fn town_disclosure_of(hub: &TestHub, case_id: &str) -> disclosure::Disclosure {
    eventually(&format!("the disclosure of {case_id}"), WAIT, || async {
        town_disclosures(hub)
            .await
            .into_iter()
            .find(|d| d.case_id == case_id)
    })
    .await
}

pub(crate) async fn publish(
    hub: &TestHub,
    who: &As,
    id: &str,
) -> Result<disclosure::Disclosure, tonic::Status> {
    hub.disclosure
        .clone()
        .publish_disclosure(who.req(disclosure::PublishDisclosureRequest {
            disclosure_id: id.into(),
        }))
        .await
        .map(|r| r.into_inner().disclosure.expect("a disclosure"))
}

#[tokio::test]
async fn the_public_feed_shows_masked_decisions_and_withdrawals_and_no_minors() {
    let hub = TestHub::start(Backend::Sqlite).await;
    certify(&hub).await;
    let captain = As::brigade_captain(T1);

    // A warning on a person, with personal data in every free text.
    let warned = conclude_in_scope(
        &hub,
        "村民张三丰（身份证330782198503123412，手机138 1234 5678，住浙江省义乌市佛堂镇东山村3组12号）\
         未取得乡村建设规划许可证建房，邻居李四举报，李四电话13912345678",
        ev::Outcome {
            kind: "warning".into(),
            summary: "对张三丰给予警告，责令限期改正；联系电话0579-82345678，罚没款账户6217001234567890"
                .into(),
            party: Some(person("张三丰", false)),
            ..Default::default()
        },
    )
    .await;
    // Education of a minor: never published.
    let minor = conclude_in_scope(
        &hub,
        "村民王小明（未成年）搭建简易棚",
        ev::Outcome {
            kind: "education".into(),
            summary: "王小明系未成年人，教育后自行拆除".into(),
            party: Some(person("王小明", true)),
            ..Default::default()
        },
    )
    .await;
    // Education of an adult, published and then withdrawn.
    let withdrawn = conclude_in_scope(
        &hub,
        "村民赵六在自家院内搭建彩钢棚",
        ev::Outcome {
            kind: "education".into(),
            summary: "初次轻微违法，教育后赵六自行拆除".into(),
            party: Some(person("赵六", false)),
            ..Default::default()
        },
    )
    .await;

    let d_warned = town_disclosure_of(&hub, &warned).await;
    let d_minor = town_disclosure_of(&hub, &minor).await;
    let d_withdrawn = town_disclosure_of(&hub, &withdrawn).await;

    // The town government discloses its brigade's decisions, due by class in working days.
    let body = d_warned.body.clone().unwrap();
    assert_eq!((body.kind.as_str(), body.code.as_str()), ("town", T1));
    assert_eq!(d_warned.status, "pending");
    assert_eq!(d_warned.class, "penalty_or_licensing");
    assert_eq!(d_withdrawn.class, "other_enforcement");
    let cal = Calendar::shipped();
    let decided = from_ts(d_warned.decision.as_ref().unwrap().decided_at.as_ref()).unwrap();
    assert_eq!(
        from_ts(d_warned.due_at.as_ref()).unwrap(),
        cal.add_working_days(decided, 7).due
    );
    assert!(!d_warned.overdue);
    assert_eq!(d_minor.status, "withheld");
    assert!(d_minor.withheld_reason.contains("未成年人"));

    // Only the deciding body publishes, and a minor's decision never.
    let err = publish(&hub, &As::brigade_officer(T1), &d_warned.disclosure_id)
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied);
    let published = publish(&hub, &captain, &d_warned.disclosure_id)
        .await
        .unwrap();
    assert_eq!(published.status, "published");
    assert!(!published.published_late);
    let err = publish(&hub, &captain, &d_minor.disclosure_id)
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition);
    publish(&hub, &captain, &d_withdrawn.disclosure_id)
        .await
        .unwrap();
    let w = hub
        .disclosure
        .clone()
        .withdraw_disclosure(captain.req(disclosure::WithdrawDisclosureRequest {
            disclosure_id: d_withdrawn.disclosure_id.clone(),
            reason: "经行政复议，原处理决定被撤销（赵六电话13712345678）".into(),
            decision_changed_at: None,
        }))
        .await
        .unwrap()
        .into_inner()
        .disclosure
        .unwrap();
    assert_eq!(w.status, "withdrawn");
    assert!(!w.withdrawn_late);
    let changed = from_ts(w.decision_changed_at.as_ref()).unwrap();
    assert_eq!(
        from_ts(w.withdrawal_due_at.as_ref()).unwrap(),
        cal.add_working_days(changed, 3).due
    );

    // The public feed, through the gateway, without any identity.
    let gw = hub.env.cfg.gateway_addr;
    let feed = request(gw, "GET", "/public/disclosures.json", &[], None)
        .await
        .unwrap();
    assert_eq!(feed.status, 200, "{}", feed.body);
    for raw in RAW {
        assert!(
            !feed.body.contains(raw),
            "the feed has {raw}: {}",
            feed.body
        );
    }
    for masked in [
        "张某",
        "李某",
        "赵某",
        "[证件号码已隐去]",
        "[联系电话已隐去]",
        "[银行账号已隐去]",
        "浙江省义乌市佛堂镇东山村",
        "经行政复议，原处理决定被撤销",
    ] {
        assert!(
            feed.body.contains(masked),
            "the feed lacks {masked}: {}",
            feed.body
        );
    }
    let json = feed.json();
    let items = json["disclosures"].as_array().unwrap();
    let ids: Vec<&str> = items
        .iter()
        .map(|d| d["disclosureId"].as_str().unwrap())
        .collect();
    assert!(!ids.contains(&d_minor.disclosure_id.as_str()), "{ids:?}");
    assert_eq!(ids.len(), 2, "{ids:?}");
    let shown = items
        .iter()
        .find(|d| d["disclosureId"] == d_withdrawn.disclosure_id.as_str())
        .unwrap();
    assert_eq!(shown["status"], "withdrawn");
    assert!(
        shown["withdrawalReason"]
            .as_str()
            .unwrap()
            .contains("[联系电话已隐去]")
    );
    let shown = items
        .iter()
        .find(|d| d["disclosureId"] == d_warned.disclosure_id.as_str())
        .unwrap();
    assert_eq!(shown["decision"]["party"]["name"], "张某");
    assert_eq!(
        shown["decision"]["party"]["address"],
        "浙江省义乌市佛堂镇东山村"
    );
    assert!(shown["publishedAt"].is_string());

    // The page says the same, in Chinese and in English.
    let page = request(gw, "GET", "/", &[], None).await.unwrap();
    assert_eq!(page.status, 200);
    assert!(page.content_type.starts_with("text/html"));
    for raw in RAW {
        assert!(!page.body.contains(raw), "the page has {raw}");
    }
    for text in [
        "行政执法公示",
        "张某",
        "已撤回",
        "教育劝导（不予处罚）",
        "行政裁决事项清单",
    ] {
        assert!(page.body.contains(text), "the page lacks {text}");
    }
    let en = request(gw, "GET", "/?lang=en", &[], None).await.unwrap();
    assert!(en.body.contains("Administrative Enforcement Disclosure"));
    assert!(en.body.contains("Withdrawn"));
    let css = request(gw, "GET", "/static/site.css", &[], None)
        .await
        .unwrap();
    assert_eq!(css.status, 200);
    assert!(css.content_type.starts_with("text/css"));
    hub.stop().await;
}

#[tokio::test]
async fn a_departments_decision_is_disclosed_by_the_department() {
    let hub = TestHub::start(Backend::Postgres).await;
    certify(&hub).await;
    // An out-of-scope case goes to forestry, which concludes it with a fine on a company.
    let case = hub
        .brigade_officer(T1)
        .report(
            Report::new(
                T1,
                &["LY-001"],
                "义乌市东山木业有限公司在后山滥伐林木约20株，负责人赵六，电话13712345678",
            )
            .in_village("东山村", "后山林区")
            .with_evidence(vec![]),
        )
        .await
        .unwrap();
    let dispatcher = As::dispatcher("forestry");
    let mut c = hub.county.clone();
    let referral = eventually("the referral in forestry's inbox", WAIT, || {
        let mut c = c.clone();
        let dispatcher = dispatcher.clone();
        async move {
            c.list_inbox(dispatcher.req(county::ListInboxRequest {
                department: "forestry".into(),
                ..Default::default()
            }))
            .await
            .ok()?
            .into_inner()
            .referrals
            .into_iter()
            .next()
        }
    })
    .await;
    let id = referral.referral_id.clone();
    c.sign_for_referral(dispatcher.req(county::SignForReferralRequest {
        referral_id: id.clone(),
    }))
    .await
    .unwrap();
    c.accept_referral(dispatcher.req(county::AcceptReferralRequest {
        referral_id: id.clone(),
    }))
    .await
    .unwrap();
    c.assign_referral(dispatcher.req(county::AssignReferralRequest {
        referral_id: id.clone(),
        staff: vec!["zhou.diaocha".into()],
    }))
    .await
    .unwrap();
    c.conclude_referral(
        As::investigator("forestry").req(county::ConcludeReferralRequest {
            referral_id: id,
            outcome: Some(ev::Outcome {
                kind: "fine".into(),
                fine_fen: 300_000,
                summary: "责令补种并处罚款".into(),
                party: Some(ev::Party {
                    kind: "organisation".into(),
                    name: "义乌市东山木业有限公司".into(),
                    bank_account: "6222021234567890123".into(),
                    ..Default::default()
                }),
                ..Default::default()
            }),
        }),
    )
    .await
    .unwrap();

    let d = eventually("the department's disclosure", WAIT, || {
        let mut s = hub.disclosure.clone();
        let dispatcher = dispatcher.clone();
        let case_id = case.case_id.clone();
        async move {
            s.list_disclosures(dispatcher.req(disclosure::ListDisclosuresRequest {
                department: "forestry".into(),
                ..Default::default()
            }))
            .await
            .ok()?
            .into_inner()
            .disclosures
            .into_iter()
            .find(|d| d.case_id == case_id)
        }
    })
    .await;
    let body = d.body.clone().unwrap();
    assert_eq!(
        (body.kind.as_str(), body.code.as_str()),
        ("department", "forestry")
    );
    assert_eq!(d.class, "penalty_or_licensing");
    // 谁执法谁公示: the town's captain may not publish the department's decision.
    let err = publish(&hub, &As::brigade_captain(T1), &d.disclosure_id)
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied);
    publish(&hub, &dispatcher, &d.disclosure_id).await.unwrap();

    let feed = request(
        hub.env.cfg.gateway_addr,
        "GET",
        "/public/disclosures.json",
        &[],
        None,
    )
    .await
    .unwrap();
    assert_eq!(feed.status, 200, "{}", feed.body);
    // An organisation keeps its name; its bank account and the people named do not.
    assert!(feed.body.contains("义乌市东山木业有限公司"));
    for raw in ["6222021234567890123", "13712345678", "赵六"] {
        assert!(
            !feed.body.contains(raw),
            "the feed has {raw}: {}",
            feed.body
        );
    }
    assert!(feed.body.contains("县林业局") || feed.body.contains("forestry"));
    hub.stop().await;
}

/// 自执法决定作出之日起: a decision dated Mon 2026-06-01 and recorded Thu 06-04 (three working
/// days on) is due at 24:00 of Wed 06-10 (7 working days from its date, 4 from its recording)
/// and overdue from then; a bad or future date is refused naming the field and changes nothing;
/// an undated decision is dated the day it takes effect.
#[tokio::test]
async fn the_disclosure_clock_runs_from_the_decisions_own_date() {
    use liandong_config::clock::OffsetFileClock;
    let at = |s: &str| {
        chrono::DateTime::parse_from_rfc3339(s)
            .unwrap()
            .with_timezone(&chrono::Utc)
    };
    let mut env = liandong_tests::TestEnv::new(Backend::Sqlite);
    std::fs::create_dir_all(&env.cfg.data_dir).unwrap();
    let file = env.cfg.data_dir.join("clock-offset-ms");
    OffsetFileClock::set_file(&file, at("2026-06-04T10:00:00+08:00")).unwrap();
    env.cfg.clock_offset_file = Some(file.clone());
    env.cfg.clock_check_ms = 100;
    let hub = TestHub::start_with(env).await;
    certify(&hub).await;
    let warning = |decided_on: &str| ev::Outcome {
        kind: "warning".into(),
        summary: "给予警告".into(),
        party: Some(person("张三丰", false)),
        decided_on: decided_on.into(),
        ..Default::default()
    };

    // Refused, naming the field, and the case is still open: a date that is no date, one in
    // the future, one before the case was found (05-29 in China).
    let mut b = hub.brigade.clone();
    let case = hub
        .brigade_officer(T1)
        .report(Report::new(T1, &["CXGH-001"], "村民未批先建").in_village("东山村", "东山村村口"))
        .await
        .unwrap();
    b.assign_case(As::brigade_captain(T1).req(brigade::AssignCaseRequest {
        case_id: case.case_id.clone(),
        officers: vec!["wang.wu".into(), "li.si".into()],
    }))
    .await
    .unwrap();
    liandong_tests::people::hear_before_deciding(
        &hub.brigade,
        &As::brigade_officer(T1),
        &case.case_id,
        &warning(""),
    )
    .await
    .unwrap();
    for bad in ["6月1日", "2026-06-05", "2026-05-27"] {
        let err = b
            .conclude_case(As::brigade_officer(T1).req(brigade::ConcludeCaseRequest {
                case_id: case.case_id.clone(),
                outcome: Some(warning(bad)),
                ..Default::default()
            }))
            .await
            .unwrap_err();
        assert_eq!(err.code(), Code::InvalidArgument, "{bad}: {err:?}");
        assert!(err.message().contains("decided_on"), "{bad}: {err:?}");
    }
    let still = b
        .get_case(As::brigade_officer(T1).req(brigade::GetCaseRequest {
            case_id: case.case_id.clone(),
        }))
        .await
        .unwrap()
        .into_inner()
        .case
        .unwrap();
    assert_ne!(still.status, "concluded");

    // Dated three working days before it is recorded.
    b.conclude_case(As::brigade_officer(T1).req(brigade::ConcludeCaseRequest {
        case_id: case.case_id.clone(),
        outcome: Some(warning("2026-06-01")),
        ..Default::default()
    }))
    .await
    .expect("concluded");
    let d = town_disclosure_of(&hub, &case.case_id).await;
    let decided = from_ts(d.decision.as_ref().unwrap().decided_at.as_ref()).unwrap();
    assert_eq!(decided, at("2026-06-01T00:00:00+08:00"));
    let due = from_ts(d.due_at.as_ref()).unwrap();
    assert_eq!(due, at("2026-06-11T00:00:00+08:00"), "24:00 of Wed 06-10");
    let cal = Calendar::shipped();
    assert_eq!(
        cal.working_days_between(decided, at("2026-06-04T10:00:00+08:00")),
        3
    );
    assert_eq!(
        cal.working_days_between(
            at("2026-06-04T10:00:00+08:00"),
            due - chrono::Duration::seconds(1)
        ),
        4
    );
    assert!(!d.overdue);

    // An undated decision is dated the day it takes effect.
    let undated = conclude_in_scope(&hub, "村民搭建彩钢棚", warning("")).await;
    let u = town_disclosure_of(&hub, &undated).await;
    assert_eq!(
        Calendar::local_date(from_ts(u.decision.as_ref().unwrap().decided_at.as_ref()).unwrap()),
        Calendar::local_date(at("2026-06-04T10:00:00+08:00"))
    );
    assert_eq!(
        from_ts(u.due_at.as_ref()).unwrap(),
        at("2026-06-16T00:00:00+08:00"),
        "24:00 of Mon 06-15"
    );

    // The last minute of its last day it is not overdue; at 24:00 it is, the undated one not.
    OffsetFileClock::set_file(&file, at("2026-06-10T23:59:00+08:00")).unwrap();
    assert!(!town_disclosure_of(&hub, &case.case_id).await.overdue);
    OffsetFileClock::set_file(&file, at("2026-06-11T00:00:01+08:00")).unwrap();
    assert!(town_disclosure_of(&hub, &case.case_id).await.overdue);
    assert!(!town_disclosure_of(&hub, &undated).await.overdue);
    hub.stop().await;
}
