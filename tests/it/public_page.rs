//! The public disclosure page, served by the gateway and opened in a real headless browser
//! (Debian's chromium), in Chinese and in English; a screenshot of each is kept. The deciding
//! town is named by the town registry, on the page and in the feed.

use std::path::{Path, PathBuf};
use std::process::Command;

use liandong_proto::events::v1 as ev;
use liandong_tests::Backend;
use liandong_tests::http::request;
use liandong_tests::hub::{As, TestHub};

use crate::disclosure::{T1, certify, conclude_in_scope, person, publish, town_disclosure_of};

/// The chromium binary; installs it with `tests/browser/ensure-chromium.sh` when missing, and
/// fails (never skips) when that is impossible: CI installs it.
fn chromium() -> PathBuf {
    let find = || {
        ["chromium", "chromium-browser"]
            .into_iter()
            .find_map(|name| {
                let ok = Command::new(name)
                    .arg("--version")
                    .output()
                    .is_ok_and(|o| o.status.success());
                ok.then(|| PathBuf::from(name))
            })
    };
    if let Some(found) = find() {
        return found;
    }
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("browser/ensure-chromium.sh");
    let status = Command::new("bash").arg(&script).status();
    find().unwrap_or_else(|| {
        panic!(
            "chromium is not installed and {} could not install it ({status:?}); install Debian's chromium",
            script.display()
        )
    })
}

/// Where this test keeps its screenshots: `tests/artifacts/public_page/` (gitignored).
fn artifacts() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("artifacts/public_page");
    std::fs::create_dir_all(&dir).expect("the artifacts folder");
    dir
}

/// Runs headless chromium on `url` with `extra` arguments, with a profile of its own.
fn headless(url: &str, extra: &[String]) -> std::process::Output {
    let profile = tempfile::tempdir().expect("a profile folder");
    Command::new(chromium())
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
            // Lets the page's deferred script run before the DOM is dumped.
            "--virtual-time-budget=5000",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(extra)
        .arg(url)
        .output()
        .expect("chromium runs")
}

/// The DOM after scripts ran, as chromium serialises it.
fn dump_dom(url: &str) -> String {
    let out = headless(url, &["--dump-dom".into()]);
    assert!(
        out.status.success(),
        "chromium --dump-dom {url} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("the DOM is UTF-8")
}

fn screenshot(url: &str, file: &Path) {
    let _ = std::fs::remove_file(file);
    let out = headless(
        url,
        &[
            format!("--screenshot={}", file.display()),
            "--window-size=1280,1600".into(),
            "--hide-scrollbars".into(),
        ],
    );
    assert!(
        out.status.success() && file.exists(),
        "chromium --screenshot {url} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let size = std::fs::metadata(file).map(|m| m.len()).unwrap_or(0);
    assert!(
        size > 10_000,
        "the screenshot {} is nearly empty",
        file.display()
    );
    println!("screenshot: {}", file.display());
}

#[tokio::test]
async fn the_public_page_renders_in_a_real_browser_in_both_languages() {
    let hub = TestHub::start(Backend::Sqlite).await;
    certify(&hub).await;
    let case_id = conclude_in_scope(
        &hub,
        "村民张三丰未取得乡村建设规划许可证，在东山村村口建房，手机13812345678",
        ev::Outcome {
            kind: "warning".into(),
            summary: "对张三丰给予警告，责令限期改正".into(),
            party: Some(person("张三丰", false)),
            ..Default::default()
        },
    )
    .await;
    let d = town_disclosure_of(&hub, &case_id).await;
    publish(&hub, &As::brigade_captain(T1), &d.disclosure_id)
        .await
        .expect("published");
    let base = format!("http://{}", hub.env.cfg.gateway_addr);

    let zh = tokio::task::spawn_blocking({
        let url = format!("{base}/");
        move || dump_dom(&url)
    })
    .await
    .unwrap();
    assert!(zh.contains("lang=\"zh-CN\""), "{zh}");
    assert!(zh.contains("<h1>行政执法公示</h1>"), "{zh}");
    assert!(zh.contains("张某（浙江省义乌市佛堂镇东山村）"), "{zh}");
    assert!(zh.contains("警告"));
    assert!(zh.contains("行政裁决事项清单"));
    assert!(
        zh.contains("林木、林地权属争议的处理"),
        "the adjudication list"
    );
    assert!(zh.contains("第四十八条"), "the legal basis is cited");
    for raw in ["张三丰", "13812345678", "33078219900101123X", "3组12号"] {
        assert!(!zh.contains(raw), "the page shows {raw}");
    }
    // The script ran in the browser: it added the filter box.
    assert!(zh.contains("type=\"search\""), "the filter box: {zh}");
    assert!(zh.contains("hreflang=\"en\""), "the language switch");

    let en = tokio::task::spawn_blocking({
        let url = format!("{base}/?lang=en");
        move || dump_dom(&url)
    })
    .await
    .unwrap();
    assert!(en.contains("lang=\"en\""));
    assert!(
        en.contains("<h1>Administrative Enforcement Disclosure</h1>"),
        "{en}"
    );
    assert!(en.contains("张某"));
    assert!(en.contains("Warning"));
    assert!(en.contains("Administrative adjudication matters"));
    assert!(en.contains("简体中文"), "the switch back to Chinese");

    let dir = artifacts();
    tokio::task::spawn_blocking(move || {
        screenshot(&format!("{base}/"), &dir.join("public-zh.png"));
        screenshot(&format!("{base}/?lang=en"), &dir.join("public-en.png"));
    })
    .await
    .unwrap();
    hub.stop().await;
}

#[tokio::test]
async fn the_public_page_names_the_deciding_town_by_its_name_not_its_code() {
    let hub = TestHub::start(Backend::Sqlite).await;
    certify(&hub).await;
    let case_id = conclude_in_scope(
        &hub,
        "村民未取得乡村建设规划许可证擅自建房",
        ev::Outcome {
            kind: "warning".into(),
            summary: "给予警告，责令限期改正".into(),
            party: Some(person("张三丰", false)),
            ..Default::default()
        },
    )
    .await;
    let d = town_disclosure_of(&hub, &case_id).await;
    publish(&hub, &As::brigade_captain(T1), &d.disclosure_id)
        .await
        .expect("published");
    let gw = hub.env.cfg.gateway_addr;

    // T1 is 330782101, 赤岸镇 in the registry: its government decided, and the page says so.
    let page = request(gw, "GET", "/", &[], None).await.unwrap();
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(
        page.body.contains("<dd>赤岸镇人民政府</dd>"),
        "{}",
        page.body
    );
    assert!(!page.body.contains("（330782101）"), "{}", page.body);
    assert!(
        page.body
            .contains("<option value=\"330782101\">赤岸镇</option>"),
        "the town filter lists the towns by name: {}",
        page.body
    );
    let en = request(gw, "GET", "/?lang=en", &[], None).await.unwrap();
    // An apostrophe is text in an element (the page's attributes are all double-quoted).
    assert!(
        en.body.contains("People's Government of Chi'an Town"),
        "{}",
        en.body
    );

    // Filtered by the town, the page keeps the decision and shows the town chosen.
    let only = request(gw, "GET", "/?town=330782101", &[], None)
        .await
        .unwrap();
    assert_eq!(only.status, 200, "{}", only.body);
    assert!(only.body.contains("<dd>赤岸镇人民政府</dd>"));
    assert!(
        only.body
            .contains("<option value=\"330782101\" selected>赤岸镇</option>")
    );

    // The feed names the body the same way, in both languages.
    let feed = request(gw, "GET", "/public/disclosures.json", &[], None)
        .await
        .unwrap();
    assert_eq!(feed.status, 200, "{}", feed.body);
    let json = feed.json();
    let shown = json["disclosures"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["disclosureId"] == d.disclosure_id.as_str())
        .expect("the published decision is in the feed");
    assert_eq!(shown["body"]["code"], T1);
    assert_eq!(shown["body"]["name"], "赤岸镇人民政府");
    assert_eq!(
        shown["body"]["nameEn"],
        "People's Government of Chi'an Town"
    );

    // A code that is no town of 义乌市 in the registry is refused as a filter, naming the field.
    let unknown = request(
        gw,
        "GET",
        "/public/disclosures.json?town=330782199",
        &[],
        None,
    )
    .await
    .unwrap();
    assert_eq!(unknown.status, 400, "{}", unknown.body);
    assert!(unknown.body.contains("town"), "{}", unknown.body);
    assert!(
        unknown.body.contains("330782199 is not a town of 义乌市"),
        "{}",
        unknown.body
    );
    let unknown_page = request(gw, "GET", "/?town=330782199", &[], None)
        .await
        .unwrap();
    assert_eq!(unknown_page.status, 400);
    hub.stop().await;
}

/// 事前公开: the page before enforcement, in a real browser in both languages, with a
/// screenshot of each: the town's enforcing bodies and powers from the catalogue, the certified
/// officers with their certificate numbers and issuing bodies (from the review service's copy
/// of the registries, without signing in), the letters of entrustment, the procedure and the
/// remedies with their time limits.
#[tokio::test]
async fn the_page_before_enforcement_renders_in_a_real_browser_in_both_languages() {
    let hub = TestHub::start(Backend::Sqlite).await;
    certify(&hub).await;
    let gw = hub.env.cfg.gateway_addr;
    // The registry's changes reach the review service as events: wait for both officers.
    let officers = liandong_tests::eventually(
        "both certified officers in the public list",
        std::time::Duration::from_secs(30),
        || async {
            let r = request(gw, "GET", "/public/officers.json", &[], None)
                .await
                .ok()?;
            (r.status == 200 && r.body.contains("ZJ-330782-0001") && r.body.contains("ZJ-LY-0002"))
                .then_some(r)
        },
    )
    .await;
    let json = officers.json();
    let wang = json["officers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["officer"] == "wang.wu")
        .expect("the brigade's officer");
    assert_eq!(wang["agency"], T1);
    assert_eq!(wang["certificateNo"], "ZJ-330782-0001");
    assert_eq!(wang["issuingAuthority"], "浙江省人民政府");
    assert_eq!(wang["validUntil"], "2099-12-31");
    // Only what a certificate shows.
    let mut keys: Vec<&String> = wang.as_object().unwrap().keys().collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "agency",
            "certificateNo",
            "issuingAuthority",
            "officer",
            "validFrom",
            "validUntil"
        ],
        "{wang}"
    );
    // One agency's list, and a bad agency refused naming the field.
    let one = request(
        gw,
        "GET",
        "/public/officers.json?agency=forestry",
        &[],
        None,
    )
    .await
    .unwrap();
    assert_eq!(one.status, 200, "{}", one.body);
    assert!(one.body.contains("ZJ-LY-0002") && !one.body.contains("ZJ-330782-0001"));
    let bad = request(
        gw,
        "GET",
        "/public/officers.json?agency=no%20such",
        &[],
        None,
    )
    .await
    .unwrap();
    assert_eq!(bad.status, 400, "{}", bad.body);
    assert!(bad.body.contains("agency"), "{}", bad.body);
    // A town that is not the county's is refused (and the page still renders).
    let unknown = request(gw, "GET", "/enforcement?town=330782199", &[], None)
        .await
        .unwrap();
    assert_eq!(unknown.status, 400, "{}", unknown.body);

    let base = format!("http://{gw}");
    let zh = tokio::task::spawn_blocking({
        let url = format!("{base}/enforcement?town={T1}");
        move || dump_dom(&url)
    })
    .await
    .unwrap();
    assert!(zh.contains("lang=\"zh-CN\""), "{zh}");
    assert!(zh.contains("<h1>行政执法事前公开</h1>"), "{zh}");
    assert!(zh.contains("执法主体与职责"), "{zh}");
    assert!(zh.contains("赤岸镇人民政府"), "the town's government: {zh}");
    assert!(zh.contains("CXGH-001"), "a matter of the catalogue: {zh}");
    assert!(
        zh.contains("ZJ-330782-0001") && zh.contains("ZJ-LY-0002"),
        "{zh}"
    );
    assert!(zh.contains("浙江省人民政府"), "the issuing body: {zh}");
    assert!(zh.contains("行政处罚委托书"), "{zh}");
    assert!(
        zh.contains("第四十四条") && zh.contains("第五十一条"),
        "the procedure: {zh}"
    );
    assert!(zh.contains("《中华人民共和国行政复议法》第二十条"), "{zh}");
    assert!(
        zh.contains("六十日内") && zh.contains("六个月内"),
        "the remedies' limits: {zh}"
    );
    assert!(
        zh.contains("<option value=\"330782101\" selected=\"\">赤岸镇</option>")
            || zh.contains("<option value=\"330782101\" selected>赤岸镇</option>"),
        "{zh}"
    );

    let en = tokio::task::spawn_blocking({
        let url = format!("{base}/enforcement?town={T1}&lang=en");
        move || dump_dom(&url)
    })
    .await
    .unwrap();
    assert!(en.contains("lang=\"en\""), "{en}");
    assert!(en.contains("Enforcing bodies and their powers"), "{en}");
    assert!(en.contains("Certified enforcement officers"), "{en}");
    assert!(en.contains("ZJ-330782-0001"), "{en}");
    assert!(en.contains("Letters of entrustment"), "{en}");
    assert!(
        en.contains("within sixty days") && en.contains("within six months"),
        "{en}"
    );
    assert!(en.contains("简体中文"), "the switch back to Chinese");

    let dir = artifacts();
    tokio::task::spawn_blocking(move || {
        screenshot(
            &format!("{base}/enforcement?town={T1}"),
            &dir.join("enforcement-zh.png"),
        );
        screenshot(
            &format!("{base}/enforcement?town={T1}&lang=en"),
            &dir.join("enforcement-en.png"),
        );
    })
    .await
    .unwrap();
    hub.stop().await;
}
