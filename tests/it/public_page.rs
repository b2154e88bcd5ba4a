//! The public disclosure page, served by the gateway and opened in a real headless browser
//! (Debian's chromium), in Chinese and in English; a screenshot of each is kept.

use std::path::{Path, PathBuf};
use std::process::Command;

use liandong_proto::events::v1 as ev;
use liandong_tests::Backend;
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
