//! A meeting's minutes (会议纪要) rendered as Markdown in Simplified Chinese, deterministically.

use std::fmt::Write;

use chrono::FixedOffset;
use liandong_domain::agenda::{ChairDecision, ItemKind};
use liandong_domain::towns::Town;

use crate::store::{ItemRow, MeetingRow, OpinionRow};

/// China Standard Time: the country keeps one zone and no daylight saving, so a fixed offset
/// is exact and needs no time-zone database.
fn beijing() -> FixedOffset {
    FixedOffset::east_opt(8 * 3600).expect("+08:00 is a valid offset")
}

/// Free text on one line: a line break inside an opinion or a description would otherwise end
/// the Markdown list item it stands in.
fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn or_none(s: String) -> String {
    if s.is_empty() { "（无）".into() } else { s }
}

/// Renders the minutes of `meeting`, whose items are given in the meeting's order with their
/// opinions. `town` is the meeting's town as the registry names it (`None` for a code the
/// registry does not hold, which the minutes then say); `department` names a department code
/// for people (e.g. `forestry` → 县林业局).
pub fn render(
    meeting: &MeetingRow,
    town: Option<&Town>,
    items: &[(ItemRow, Vec<OpinionRow>)],
    department: &dyn Fn(&str) -> String,
) -> String {
    let mut md = String::new();
    let held = meeting.held_at.with_timezone(&beijing());
    // Writing to a String cannot fail, hence the discarded results.
    let _ = writeln!(md, "# {}行政执法联席会议纪要\n", town_name(town));
    let _ = writeln!(md, "- 会议编号：{}", meeting.meeting_id);
    let _ = match town {
        Some(t) => writeln!(md, "- 乡镇：{}（{}）", t.name(), meeting.town),
        None => writeln!(md, "- 乡镇：{}（不在乡镇名录中）", meeting.town),
    };
    let _ = writeln!(
        md,
        "- 时间：{}（北京时间，UTC+08:00）",
        held.format("%Y年%m月%d日 %H:%M")
    );
    let _ = writeln!(md, "- 出席：{}", or_none(meeting.attendees.join("、")));
    let _ = writeln!(md, "- 记录：{}", meeting.recorded_by);
    if !meeting.notes.trim().is_empty() {
        let _ = writeln!(md, "\n## 会议情况\n\n{}", one_line(&meeting.notes));
    }
    let _ = writeln!(md, "\n## 审议事项");
    if items.is_empty() {
        let _ = writeln!(md, "\n本次会议未审议具体事项。");
    }
    for (n, (item, opinions)) in items.iter().enumerate() {
        render_item(&mut md, n + 1, meeting, town, item, opinions, department);
    }
    md
}

/// The town's name for the minutes' title and its brigade; a town the registry does not hold is
/// "镇", as the minutes said before towns had names.
fn town_name(town: Option<&Town>) -> &str {
    town.map_or("镇", Town::name)
}

fn render_item(
    md: &mut String,
    n: usize,
    meeting: &MeetingRow,
    town: Option<&Town>,
    item: &ItemRow,
    opinions: &[OpinionRow],
    department: &dyn Fn(&str) -> String,
) {
    let facts = &item.facts;
    let kind = match item.kind {
        ItemKind::JointCase => "联合处置案件（情况复杂、需多部门联动）",
        ItemKind::CompetenceDispute => "职权争议（移送被退回）",
    };
    let _ = writeln!(md, "\n### {n}. 案件 {}\n", item.case_id);
    let _ = writeln!(md, "- 议题编号：{}", item.item_id);
    let _ = writeln!(md, "- 类型：{kind}");
    let _ = writeln!(md, "- 涉及事项：{}", or_none(facts.matters.join("、")));
    let _ = writeln!(md, "- 案情：{}", or_none(one_line(&facts.description)));
    if let Some(by) = &item.returned_by {
        let _ = writeln!(md, "- 退回部门：{}", department(by));
        let reason = item.return_reason.as_deref().unwrap_or_default();
        let _ = writeln!(md, "- 退回理由：{}", or_none(one_line(reason)));
    }
    let _ = writeln!(md, "\n成员意见：\n");
    if opinions.is_empty() {
        let _ = writeln!(md, "- （无）");
    }
    for o in opinions {
        let _ = writeln!(md, "- {}：{}", o.member, one_line(&o.opinion));
    }
    let _ = writeln!(md);
    // A decision taken at another meeting belongs to that meeting's minutes.
    if let Some(other) = item
        .meeting_id
        .as_deref()
        .filter(|m| *m != meeting.meeting_id)
    {
        let _ = writeln!(md, "审定结果：另行审定（会议 {other}）");
        return;
    }
    let Some(result) = decision_text(item, town, department) else {
        let _ = writeln!(md, "审定结果：未作决定，待下次会议审议");
        return;
    };
    let _ = writeln!(md, "审定结果：{result}");
    let reason = one_line(item.decision_reason.as_deref().unwrap_or_default());
    if !reason.is_empty() {
        let label = if *item.decision == Some(ChairDecision::Approved) {
            "办理要求"
        } else {
            "理由"
        };
        let _ = writeln!(md, "\n{label}：{reason}");
    }
    if let Some(by) = &item.decided_by {
        let _ = writeln!(md, "\n审定人：{by}");
    }
}

/// The chair's decision as the minutes state it, or `None` while the item is undecided.
fn decision_text(
    item: &ItemRow,
    town: Option<&Town>,
    department: &dyn Fn(&str) -> String,
) -> Option<String> {
    let named = |d: &Option<String>| department(d.as_deref().unwrap_or_default());
    Some(match (*item.decision)? {
        ChairDecision::Approved => {
            let cooperating: Vec<String> =
                item.cooperating().iter().map(|d| department(d)).collect();
            format!(
                "同意联合处置，牵头部门 {}，配合部门 {}",
                named(&item.lead_department),
                or_none(cooperating.join("、"))
            )
        }
        ChairDecision::Reclassified => match &item.decided_department {
            Some(_) => format!(
                "改判为职权范围外，移送 {} 调查处理",
                named(&item.decided_department)
            ),
            None => format!(
                "改判为职权范围内，由{}综合行政执法大队办理",
                town_name(town)
            ),
        },
        ChairDecision::SentBack => "退回补充材料".into(),
        ChairDecision::Settled => format!("争议裁定由 {} 办理", named(&item.decided_department)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};
    use liandong_domain::state::{DisputeStatus, JointStatus};
    use liandong_domain::towns::Towns;
    use liandong_proto::events::v1 as ev;
    use liandong_store::typed::{Json, Nullable};

    fn department(code: &str) -> String {
        match code {
            "forestry" => "县林业局（forestry）".into(),
            "natural_resources" => "县自然资源局（natural_resources）".into(),
            other => other.into(),
        }
    }

    /// The meeting's town, 赤岸镇, as the shipped registry names it.
    fn chian() -> Town {
        let code = liandong_domain::ids::TownCode::parse("330782101").unwrap();
        Towns::shipped().town(&code).unwrap().clone()
    }

    fn at(h: u32, m: u32) -> chrono::DateTime<Utc> {
        Utc.with_ymd_and_hms(2025, 3, 4, h, m, 0).unwrap()
    }

    fn meeting() -> MeetingRow {
        MeetingRow {
            meeting_id: "330782101-0195b3c0-0000-7000-8000-000000000001".into(),
            town: "330782101".into(),
            // 01:30 UTC is 09:30 in Beijing.
            held_at: at(1, 30),
            attendees: Json(vec!["chair.li".into(), "委员王五".into()]),
            item_ids: Json(vec!["joint-a".into(), "dispute-b".into(), "joint-c".into()]),
            notes: "会议由李主任主持。\n三项议题。".into(),
            recorded_by: "chair.li".into(),
            created_at: at(3, 0),
        }
    }

    fn joint(item_id: &str, case_id: &str, description: &str) -> ItemRow {
        ItemRow::on_agenda(
            item_id.into(),
            "330782101".into(),
            JointStatus::OnAgenda.into(),
            ev::CaseFacts {
                case_id: case_id.into(),
                matters: vec!["CXGH-001".into(), "LY-002".into()],
                description: description.into(),
                ..Default::default()
            },
            vec![],
            at(0, 0),
        )
    }

    #[test]
    fn minutes_are_pinned() {
        let m = meeting();
        let mut approved = joint("joint-a", "330782101-case-a", "村民在林地\n违法建房");
        approved.status = JointStatus::Approved.into();
        approved.decision = Nullable(Some(ChairDecision::Approved));
        approved.lead_department = Some("natural_resources".into());
        approved.cooperating_departments = Nullable(Some(Json(vec!["forestry".into()])));
        approved.decision_reason = Some("七日内拆除".into());
        approved.decided_by = Some("chair.li".into());
        approved.meeting_id = Some(m.meeting_id.clone());
        let opinions = vec![OpinionRow {
            opinion_id: "o1".into(),
            item_id: "joint-a".into(),
            town: "330782101".into(),
            member: "wang.wu".into(),
            opinion: "同意由自然资源局牵头".into(),
            at: at(1, 40),
        }];
        let mut dispute = ItemRow {
            item_id: "dispute-b".into(),
            kind: ItemKind::CompetenceDispute,
            status: DisputeStatus::Settled.into(),
            case_id: "330782101-case-b".into(),
            returned_by: Some("forestry".into()),
            return_reason: Some("非林地".into()),
            decision: Nullable(Some(ChairDecision::Settled)),
            decided_department: Some("natural_resources".into()),
            decision_reason: Some("属耕地".into()),
            decided_by: Some("chair.li".into()),
            ..joint("dispute-b", "330782101-case-b", "")
        };
        dispute.facts = Default::default();
        let pending = joint("joint-c", "330782101-case-c", "河道采砂");

        let md = render(
            &m,
            Some(&chian()),
            &[(approved, opinions), (dispute, vec![]), (pending, vec![])],
            &department,
        );
        let want = "\
# 赤岸镇行政执法联席会议纪要

- 会议编号：330782101-0195b3c0-0000-7000-8000-000000000001
- 乡镇：赤岸镇（330782101）
- 时间：2025年03月04日 09:30（北京时间，UTC+08:00）
- 出席：chair.li、委员王五
- 记录：chair.li

## 会议情况

会议由李主任主持。 三项议题。

## 审议事项

### 1. 案件 330782101-case-a

- 议题编号：joint-a
- 类型：联合处置案件（情况复杂、需多部门联动）
- 涉及事项：CXGH-001、LY-002
- 案情：村民在林地 违法建房

成员意见：

- wang.wu：同意由自然资源局牵头

审定结果：同意联合处置，牵头部门 县自然资源局（natural_resources），配合部门 县林业局（forestry）

办理要求：七日内拆除

审定人：chair.li

### 2. 案件 330782101-case-b

- 议题编号：dispute-b
- 类型：职权争议（移送被退回）
- 涉及事项：（无）
- 案情：（无）
- 退回部门：县林业局（forestry）
- 退回理由：非林地

成员意见：

- （无）

审定结果：争议裁定由 县自然资源局（natural_resources） 办理

理由：属耕地

审定人：chair.li

### 3. 案件 330782101-case-c

- 议题编号：joint-c
- 类型：联合处置案件（情况复杂、需多部门联动）
- 涉及事项：CXGH-001、LY-002
- 案情：河道采砂

成员意见：

- （无）

审定结果：未作决定，待下次会议审议
";
        assert_eq!(md, want);
    }

    #[test]
    fn reclassified_sent_back_and_elsewhere_decided_items_read_right() {
        let m = meeting();
        let mut item = joint("joint-a", "c", "d");
        item.decision = Nullable(Some(ChairDecision::Reclassified));
        assert_eq!(
            decision_text(&item, Some(&chian()), &department).unwrap(),
            "改判为职权范围内，由赤岸镇综合行政执法大队办理"
        );
        assert_eq!(
            decision_text(&item, None, &department).unwrap(),
            "改判为职权范围内，由镇综合行政执法大队办理"
        );
        item.decided_department = Some("forestry".into());
        assert_eq!(
            decision_text(&item, Some(&chian()), &department).unwrap(),
            "改判为职权范围外，移送 县林业局（forestry） 调查处理"
        );
        item.decision = Nullable(Some(ChairDecision::SentBack));
        assert_eq!(
            decision_text(&item, Some(&chian()), &department).unwrap(),
            "退回补充材料"
        );
        item.meeting_id = Some("330782101-other".into());
        let md = render(&m, Some(&chian()), &[(item, vec![])], &department);
        assert!(md.contains("审定结果：另行审定（会议 330782101-other）"));
        let empty = render(&m, Some(&chian()), &[], &department);
        assert!(empty.ends_with("本次会议未审议具体事项。\n"));
    }

    #[test]
    fn a_town_outside_the_registry_is_named_by_its_code_and_said_so() {
        let md = render(&meeting(), None, &[], &department);
        assert!(md.starts_with("# 镇行政执法联席会议纪要\n"), "{md}");
        assert!(md.contains("- 乡镇：330782101（不在乡镇名录中）\n"), "{md}");
    }
}
