//! The annual report (`liandong report annual`) generated from the demo's records: its figures
//! checked against what the demo did in town 330782101, written out as Markdown and HTML under
//! `tests/artifacts/annual_report/` (gitignored).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use chrono::Datelike;
use liandong_proto::brigade::v1 as brigade;
use liandong_proto::readmodel::v1 as readmodel;
use liandong_tests::hub::{As, TestHub, liandong_bin};
use liandong_tests::{Backend, eventually};

const T1: &str = "330782101";

fn artifacts() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("artifacts/annual_report");
    std::fs::create_dir_all(&dir).expect("the artifacts folder");
    dir
}

/// The table row of the Markdown report that starts with `label`, as its cells.
fn row<'a>(markdown: &'a str, label: &str) -> Vec<&'a str> {
    markdown
        .lines()
        .find(|l| l.starts_with(&format!("| {label} |")))
        .unwrap_or_else(|| panic!("no row {label:?} in\n{markdown}"))
        .trim_matches('|')
        .split(" | ")
        .map(str::trim)
        .collect()
}

#[tokio::test]
async fn the_annual_report_of_the_demo_town_adds_up() {
    let hub = TestHub::start(Backend::Sqlite).await;
    let demo = Command::new(liandong_bin())
        .arg("--config")
        .arg(hub.config_file())
        .arg("demo")
        .env("RUST_LOG", "warn")
        .output()
        .expect("the demo runs");
    assert!(
        demo.status.success(),
        "the demo failed:\n{}\n{}",
        String::from_utf8_lossy(&demo.stdout),
        String::from_utf8_lossy(&demo.stderr)
    );
    // The demo's cases were made now, so they fall in this Beijing year.
    let year = chrono::Utc::now()
        .with_timezone(&chrono::FixedOffset::east_opt(8 * 3600).unwrap())
        .year();
    // The read model applies the events after the demo's calls return: wait for its five
    // decisions in the town (one brigade, three referrals, one joint case).
    eventually(
        "the read model to hold the demo's decisions",
        Duration::from_secs(60),
        || async {
            let f = hub
                .readmodel
                .clone()
                .get_dashboard(As::board_chair(T1).req(readmodel::GetDashboardRequest {
                    town: T1.into(),
                    from: format!("{year}-01-01"),
                    to: format!("{year}-12-31"),
                    ..Default::default()
                }))
                .await
                .ok()?
                .into_inner();
            (f.outcomes.as_ref()?.decisions == 5).then_some(())
        },
    )
    .await;
    eventually(
        "the board's call-back tally",
        Duration::from_secs(30),
        || async {
            let f = hub
                .board
                .clone()
                .get_satisfaction_figures(As::board_chair(T1).req(
                    liandong_proto::board::v1::GetSatisfactionFiguresRequest {
                        town: T1.into(),
                        year,
                    },
                ))
                .await
                .ok()?
                .into_inner();
            (f.basically_satisfied == 1).then_some(())
        },
    )
    .await;

    let out = artifacts();
    let run = Command::new(liandong_bin())
        .arg("--config")
        .arg(hub.config_file())
        .args([
            "report",
            "annual",
            "--town",
            T1,
            "--year",
            &year.to_string(),
            "--out",
        ])
        .arg(&out)
        .env("RUST_LOG", "warn")
        .output()
        .expect("the report runs");
    assert!(
        run.status.success(),
        "the report failed:\n{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let stem = format!("{T1}-{year}-annual-report");
    let md = std::fs::read_to_string(out.join(format!("{stem}.md"))).expect("the Markdown");
    let page = std::fs::read_to_string(out.join(format!("{stem}.html"))).expect("the HTML");
    println!("{md}");

    assert!(
        md.starts_with(&format!("# 赤岸镇{year}年度行政执法情况报告")),
        "{md}"
    );
    // Five cases: one the brigade concluded, three referred and closed (one after a return and
    // the chair's reassignment), one joint case executed.
    assert!(md.contains("立案 5 件，已办结 5 件，办结率 100.0%"), "{md}");
    assert_eq!(
        row(&md, "职权范围内（大队自办）")[1..],
        ["1", "1", "0", "0"]
    );
    assert_eq!(
        row(&md, "职权范围外（通报、移送县直部门）")[1..],
        ["3", "3", "0", "0"]
    );
    assert_eq!(
        row(&md, "联合执法（联席会议审定、派驻机构受委托决定）")[1..],
        ["1", "1", "0", "0"]
    );
    // Decisions: an order to correct; a fine of 3000 yuan, a confiscation of 35 ground cages
    // and 12 nets (each in its unit, as the seed counts them), a warning, and a demolition order.
    assert!(
        md.contains("全年作出执法决定 5 件，其中说服教育、不予处罚 0 件，行政处罚 4 件，其他（责令改正等）1 件；处罚金额 3000 元；收缴地笼 35 个、渔网 12 匹"),
        "{md}"
    );
    // Each department the town's cases went to, with its referrals, tasks and returns.
    let dept = |name: &str| row(&md, name)[1..4].to_vec();
    assert_eq!(dept("县林业局"), ["1", "0", "0"]);
    assert_eq!(dept("县农业农村局（渔政）"), ["1", "1", "0"]);
    assert_eq!(dept("县公安局"), ["1", "0", "1"]);
    assert_eq!(dept("县交通运输局"), ["1", "0", "0"]);
    assert_eq!(dept("县自然资源和规划局"), ["0", "1", "0"]);
    // The town's one decision of its own was disclosed on time by the demo.
    assert!(
        md.contains(
            "镇政府作出的执法决定 1 件应予公示：已按时公示 1 件，逾期公示 0 件，待公示 0 件"
        ),
        "{md}"
    );
    // The public reporter of the joint case was called back.
    assert!(
        md.contains("回访 1 次：满意 0 次，基本满意 1 次，不满意 0 次，满意率（含基本满意）100.0%"),
        "{md}"
    );
    // Patrols and persuasion turnouts as the brigade lists them for the year.
    let activities = hub
        .brigade
        .clone()
        .list_activities(As::brigade_officer(T1).req(brigade::ListActivitiesRequest {
            town: T1.into(),
            page_size: 200,
            ..Default::default()
        }))
        .await
        .expect("the brigade lists its activities")
        .into_inner();
    assert!(
        md.contains(&format!(
            "日常巡查 {} 次；交通劝导出勤 {} 次",
            activities.patrols.len(),
            activities.persuasions.len()
        )),
        "{md}"
    );
    // The page says the same, escaped, in Chinese.
    assert!(page.starts_with("<!DOCTYPE html>"));
    assert!(page.contains("<html lang=\"zh-CN\">"));
    assert!(
        page.contains("<td>县林业局</td><td>1</td><td>0</td><td>0</td>"),
        "{page}"
    );
    assert!(page.contains("处罚金额 3000 元"));
    hub.stop().await;
}
