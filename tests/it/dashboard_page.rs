//! The dashboard page in a real headless browser (Debian's chromium, driven through
//! chromedriver's WebDriver protocol) after `liandong demo`: its visible Simplified Chinese
//! content, a screenshot kept under `tests/artifacts/dashboard/`, and a figure updated by a
//! server-sent event while the page stays loaded.

use std::net::SocketAddr;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use liandong_proto::readmodel::v1::GetDashboardRequest;
use liandong_tests::http::request;
use liandong_tests::hub::{As, TestHub, liandong_bin};
use liandong_tests::people::Report;
use liandong_tests::{Backend, eventually, free_port};
use serde_json::{Value, json};

const T1: &str = "330782101";

/// chromedriver on a port of its own, stopped when dropped.
struct Driver {
    child: Child,
    addr: SocketAddr,
}

/// chromedriver runs in a process group of its own with the browsers it starts, so a test
/// that fails before ending its session leaves no chromium behind: the whole group is stopped.
impl Drop for Driver {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg("--")
            .arg(format!("-{}", self.child.id()))
            .status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Driver {
    async fn start() -> Driver {
        let port = free_port();
        let child = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .process_group(0)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver runs (Debian's chromium-driver)");
        let addr: SocketAddr = ([127, 0, 0, 1], port).into();
        eventually(
            "chromedriver to answer",
            Duration::from_secs(20),
            || async move {
                let (status, _) = webdriver(addr, "GET", "/status", None).await.ok()?;
                (status == 200).then_some(())
            },
        )
        .await;
        Driver { child, addr }
    }

    async fn call(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let (status, reply) = webdriver(self.addr, method, path, body)
            .await
            .unwrap_or_else(|e| panic!("WebDriver {method} {path}: {e}"));
        assert_eq!(status, 200, "WebDriver {method} {path}: {reply}");
        reply["value"].clone()
    }
}

/// One WebDriver command over HTTP/1.1. chromedriver keeps connections open whatever the
/// request says, so the reply is read by its Content-Length, not to the end of the stream.
async fn webdriver(
    addr: SocketAddr,
    method: &str,
    path: &str,
    body: Option<Value>,
) -> anyhow::Result<(u16, Value)> {
    use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
    let body = body.map(|b| b.to_string()).unwrap_or_default();
    let mut stream = tokio::net::TcpStream::connect(addr).await?;
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\
         Content-Type: application/json; charset=utf-8\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await?;
    stream.write_all(body.as_bytes()).await?;
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    reader.read_line(&mut line).await?;
    let status: u16 = line
        .split_whitespace()
        .nth(1)
        .ok_or_else(|| anyhow::anyhow!("no status line: {line}"))?
        .parse()?;
    let mut length = None;
    loop {
        line.clear();
        reader.read_line(&mut line).await?;
        let l = line.trim_end();
        if l.is_empty() {
            break;
        }
        if let Some((k, v)) = l.split_once(':')
            && k.eq_ignore_ascii_case("content-length")
        {
            length = Some(v.trim().parse::<usize>()?);
        }
    }
    let mut raw = Vec::new();
    match length {
        Some(n) => {
            raw.resize(n, 0);
            reader.read_exact(&mut raw).await?;
        }
        None => {
            reader.read_to_end(&mut raw).await?;
        }
    }
    Ok((status, serde_json::from_slice(&raw)?))
}

/// One browser session.
struct Session<'a> {
    driver: &'a Driver,
    id: String,
    _profile: tempfile::TempDir,
}

impl<'a> Session<'a> {
    async fn new(driver: &'a Driver) -> Session<'a> {
        let profile = tempfile::tempdir().expect("a profile folder");
        let caps = json!({"capabilities": {"alwaysMatch": {"goog:chromeOptions": {
            "binary": "/usr/bin/chromium",
            "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--no-first-run", "--disable-background-networking", "--window-size=1280,2400",
                     format!("--user-data-dir={}", profile.path().display())]
        }}}});
        let v = driver.call("POST", "/session", Some(caps)).await;
        Session {
            driver,
            id: v["sessionId"].as_str().expect("a session id").to_owned(),
            _profile: profile,
        }
    }

    async fn go(&self, url: &str) {
        self.driver
            .call(
                "POST",
                &format!("/session/{}/url", self.id),
                Some(json!({"url": url})),
            )
            .await;
    }

    async fn cookie(&self, name: &str, value: &str) {
        self.driver
            .call(
                "POST",
                &format!("/session/{}/cookie", self.id),
                Some(json!({"cookie": {"name": name, "value": value, "path": "/"}})),
            )
            .await;
    }

    async fn js(&self, script: &str) -> Value {
        self.driver
            .call(
                "POST",
                &format!("/session/{}/execute/sync", self.id),
                Some(json!({"script": script, "args": []})),
            )
            .await
    }

    async fn screenshot(&self, file: &Path) {
        let v = self
            .driver
            .call("GET", &format!("/session/{}/screenshot", self.id), None)
            .await;
        let png = base64(v.as_str().expect("base64 PNG"));
        assert!(png.starts_with(b"\x89PNG"), "a PNG");
        assert!(png.len() > 10_000, "the screenshot is nearly empty");
        std::fs::write(file, png).expect("the screenshot is written");
        println!("screenshot: {}", file.display());
    }

    async fn end(self) {
        self.driver
            .call("DELETE", &format!("/session/{}", self.id), None)
            .await;
    }
}

/// Standard base64 (RFC 4648) to bytes.
fn base64(s: &str) -> Vec<u8> {
    let value = |c: u8| match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'+' => 62,
        b'/' => 63,
        _ => panic!("not base64: {c}"),
    };
    let clean: Vec<u8> = s
        .bytes()
        .filter(|c| !c.is_ascii_whitespace() && *c != b'=')
        .collect();
    let mut out = Vec::with_capacity(clean.len() * 3 / 4);
    for chunk in clean.chunks(4) {
        let mut n = 0u32;
        for (i, c) in chunk.iter().enumerate() {
            n |= u32::from(value(*c)) << (18 - 6 * i);
        }
        let bytes = n.to_be_bytes();
        out.extend_from_slice(&bytes[1..chunk.len()]);
    }
    out
}

/// Where the screenshot is kept: `tests/artifacts/dashboard/` (gitignored).
fn artifacts() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("artifacts/dashboard");
    std::fs::create_dir_all(&dir).expect("the artifacts folder");
    dir
}

#[tokio::test]
async fn the_dashboard_shows_the_demo_in_chinese_and_updates_without_a_reload() {
    let hub = TestHub::start(Backend::Sqlite).await;
    let out = Command::new(liandong_bin())
        .arg("--config")
        .arg(hub.config_file())
        .arg("demo")
        .env("RUST_LOG", "warn")
        .output()
        .expect("the demo runs");
    assert!(
        out.status.success(),
        "demo failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    // The county leadership: a viewer of no town and no department.
    let leadership = As {
        officer: "xian.lingdao",
        role: "viewer",
        town: None,
        department: None,
    };
    let bearer = leadership.bearer();
    let token = bearer.trim_start_matches("Bearer ").to_owned();
    let gateway = hub.env.cfg.gateway_addr;
    // The read model has caught up with the demo's decisions.
    eventually("the demo's figures", Duration::from_secs(60), || {
        let bearer = bearer.clone();
        async move {
            let r = request(
                gateway,
                "GET",
                "/dashboard",
                &[("authorization", bearer.as_str())],
                None,
            )
            .await
            .ok()?;
            (r.status == 200 && r.body.contains("data-department=")).then_some(())
        }
    })
    .await;
    // The demo's two call-backs (basically satisfied in one town, satisfied in the other) are
    // in the county's figures.
    let satisfaction = eventually("the demo's call-backs", Duration::from_secs(30), || async {
        let f = hub
            .readmodel
            .clone()
            .get_dashboard(leadership.req(GetDashboardRequest::default()))
            .await
            .ok()?
            .into_inner();
        f.satisfaction
            .filter(|s| s.satisfied + s.basically_satisfied + s.unsatisfied == 2)
    })
    .await;
    assert_eq!(
        (
            satisfaction.satisfied,
            satisfaction.basically_satisfied,
            satisfaction.unsatisfied
        ),
        (1, 1, 0)
    );
    // Without a token the page says to sign in.
    let anonymous = request(gateway, "GET", "/dashboard", &[], None)
        .await
        .unwrap();
    assert_eq!(anonymous.status, 401);
    assert!(anonymous.body.contains("请先登录"), "{}", anonymous.body);

    let driver = Driver::start().await;
    let browser = Session::new(&driver).await;
    let base = format!("http://{gateway}");
    // The cookie belongs to the gateway's origin: visit it first.
    browser.go(&format!("{base}/healthz")).await;
    browser.cookie("liandong_token", &token).await;
    browser.go(&format!("{base}/dashboard")).await;

    // The first server-sent event has replaced the figures in place.
    let version = eventually(
        "the first server-sent figures",
        Duration::from_secs(20),
        || async {
            let v = browser
                .js("return document.getElementById('figures').getAttribute('data-version');")
                .await;
            v.as_str().map(str::to_owned)
        },
    )
    .await;
    let text = browser.js("return document.body.innerText;").await;
    let text = text.as_str().expect("the page's text");
    let lang = browser.js("return document.documentElement.lang;").await;
    assert_eq!(lang, "zh-CN");
    for shown in [
        "执法统计看板",
        "按时办理率",
        "各部门响应时间",
        "部门排名",
        "在办与超期件",
        "案件分布",
        "处理结果",
        "仅教育不处罚",
        "法制审核用时",
        "公示及时率",
        "回访满意度",
        "满意及基本满意 100.0%",
        "超期督办",
        "English",
    ] {
        assert!(text.contains(shown), "the page shows {shown}: {text}");
    }
    let charts = browser
        .js("return document.querySelectorAll('figure.chart svg rect').length;")
        .await;
    assert!(charts.as_u64().unwrap_or(0) > 0, "the charts have bars");
    browser
        .screenshot(&artifacts().join("dashboard-zh.png"))
        .await;

    // A new referral reaches the page without a reload: the marker set in this page survives,
    // and the count of open items grows by one.
    browser.js("window.__stayed = 'yes'; return null;").await;
    let before: u64 = browser
        .js("return document.getElementById('open-count').textContent;")
        .await
        .as_str()
        .and_then(|s| s.parse().ok())
        .expect("the open count");
    hub.brigade
        .clone()
        .report_case(
            As::brigade_officer(T1).req(
                Report::new(T1, &["SL-001"], "河道内新建砖房一间")
                    .in_village("东山村", "东山村河道")
                    .found_at(liandong_proto::time::to_ts(chrono::Utc::now()))
                    .with_evidence(vec!["photo-009.jpg".into()])
                    .request(),
            ),
        )
        .await
        .expect("the report is taken");
    let after = eventually("the open count to grow on the page", Duration::from_secs(30), || async {
        let v = browser
            .js("return [window.__stayed || '', document.getElementById('open-count').textContent, document.getElementById('figures').getAttribute('data-version')];")
            .await;
        let open: u64 = v[1].as_str()?.parse().ok()?;
        (open > before).then(|| (v[0].as_str().unwrap_or("").to_owned(), open, v[2].clone()))
    })
    .await;
    assert_eq!(after.0, "yes", "the page was not reloaded");
    assert_eq!(after.1, before + 1);
    assert_ne!(after.2.as_str(), Some(version.as_str()), "a newer version");
    browser
        .screenshot(&artifacts().join("dashboard-zh-updated.png"))
        .await;

    // English on request.
    browser.go(&format!("{base}/dashboard?lang=en")).await;
    let en = browser.js("return document.body.innerText;").await;
    assert!(
        en.as_str()
            .unwrap_or("")
            .contains("Response times per department"),
        "{en}"
    );
    browser.end().await;
    drop(driver);
    hub.stop().await;
}
