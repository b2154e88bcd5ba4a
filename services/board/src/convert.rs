//! Requests parsed and checked at the edge, and stored rows turned into API messages.

use chrono::{DateTime, Duration, Utc};
use liandong_domain::agenda::ChairDecision;
use liandong_domain::ids::{DepartmentCode, OfficerId, TownCode, TownScopedId};
use liandong_domain::limits::{FieldViolation, Limits, Validator};
use liandong_domain::triage::Path;
use liandong_proto::board::v1 as pb;
use liandong_proto::events::v1 as ev;
use liandong_proto::time::{from_ts, to_ts};

use crate::store::{ItemRow, MeetingRow, OpinionRow};

/// Item ids are `joint-<uuid>` or `dispute-<town>-<uuid>`; anything much longer is not one.
const ITEM_ID_CHARS: usize = 128;

/// How far ahead of the clock a meeting's time may be: clocks of clients drift, meetings are
/// recorded after they are held.
const MEETING_CLOCK_SKEW_MINUTES: i64 = 10;

pub fn opinion_to_pb(o: &OpinionRow) -> pb::Opinion {
    pb::Opinion {
        member: o.member.clone(),
        opinion: o.opinion.clone(),
        at: Some(to_ts(o.at)),
    }
}

pub fn item_to_pb(i: &ItemRow, opinions: &[OpinionRow]) -> pb::AgendaItem {
    pb::AgendaItem {
        item_id: i.item_id.clone(),
        town: i.town.clone(),
        kind: i.kind.as_str().into(),
        status: i.status.as_str().into(),
        facts: Some(i.facts.0.clone()),
        departments: i.departments.0.clone(),
        referral_id: i.referral_id.clone().unwrap_or_default(),
        returned_by: i.returned_by.clone().unwrap_or_default(),
        return_reason: i.return_reason.clone().unwrap_or_default(),
        created_at: Some(to_ts(i.created_at)),
        opinions: opinions.iter().map(opinion_to_pb).collect(),
        decision: i.decision.map_or("", ChairDecision::as_str).into(),
        lead_department: i.lead_department.clone().unwrap_or_default(),
        cooperating_departments: i.cooperating().to_vec(),
        decided_department: i.decided_department.clone().unwrap_or_default(),
        decision_reason: i.decision_reason.clone().unwrap_or_default(),
        decided_at: i.decided_at.map(to_ts),
        meeting_id: i.meeting_id.clone().unwrap_or_default(),
        entrusted_decision: i.entrusted_decision.as_ref().map(|d| d.0.clone()),
        completed_by: i.completed().to_vec(),
    }
}

pub fn meeting_to_pb(m: &MeetingRow) -> pb::Meeting {
    pb::Meeting {
        meeting_id: m.meeting_id.clone(),
        town: m.town.clone(),
        held_at: Some(to_ts(m.held_at)),
        attendees: m.attendees.0.clone(),
        item_ids: m.item_ids.0.clone(),
        notes: m.notes.clone(),
        recorded_by: m.recorded_by.clone(),
    }
}

/// Checks an item id's shape; whether it exists is the store's question.
pub fn item_id(v: &mut Validator, value: &str) -> String {
    v.text("item_id", value, ITEM_ID_CHARS, true);
    value.trim().to_owned()
}

/// An optional meeting id: empty is none, anything else must be a meeting's id.
fn meeting_id(v: &mut Validator, value: &str) -> Option<TownScopedId> {
    let value = value.trim();
    if value.is_empty() {
        None
    } else {
        v.check("meeting_id", TownScopedId::parse(value))
    }
}

/// A department named in a decision: required, well formed, and in the catalogue.
fn department(
    v: &mut Validator,
    field: &str,
    value: &str,
    known: &dyn Fn(&DepartmentCode) -> bool,
) -> Option<DepartmentCode> {
    if value.trim().is_empty() {
        v.violation(field, "is required");
        return None;
    }
    let code = v.check(field, DepartmentCode::parse(value.trim()))?;
    if known(&code) {
        Some(code)
    } else {
        v.violation(
            field,
            format!("{code} is not a department of the catalogue"),
        );
        None
    }
}

fn reason(v: &mut Validator, value: &str, limits: &Limits) -> String {
    v.text("reason", value, limits.reason_chars, true);
    value.trim().to_owned()
}

/// A member's opinion on an item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewOpinion {
    pub item_id: String,
    pub opinion: String,
}

pub fn parse_opinion(
    r: &pb::RecordOpinionRequest,
    limits: &Limits,
) -> Result<NewOpinion, Vec<FieldViolation>> {
    let mut v = Validator::new();
    let item_id = item_id(&mut v, &r.item_id);
    v.text("opinion", &r.opinion, limits.reason_chars, true);
    v.finish()?;
    Ok(NewOpinion {
        item_id,
        opinion: r.opinion.trim().to_owned(),
    })
}

/// The chair's approval of a joint case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Approval {
    pub item_id: String,
    pub lead: DepartmentCode,
    pub cooperating: Vec<DepartmentCode>,
    pub instructions: String,
    pub meeting_id: Option<TownScopedId>,
}

pub fn parse_approval(
    r: &pb::ApproveJointRequest,
    limits: &Limits,
    known: &dyn Fn(&DepartmentCode) -> bool,
) -> Result<Approval, Vec<FieldViolation>> {
    let mut v = Validator::new();
    let item_id = item_id(&mut v, &r.item_id);
    let lead = department(&mut v, "lead_department", &r.lead_department, known);
    v.max_items(
        "cooperating_departments",
        r.cooperating_departments.len(),
        limits.departments_per_decision,
    );
    let mut cooperating: Vec<DepartmentCode> = Vec::new();
    for (i, d) in r.cooperating_departments.iter().enumerate() {
        let field = format!("cooperating_departments[{i}]");
        let Some(code) = department(&mut v, &field, d, known) else {
            continue;
        };
        if lead.as_ref() == Some(&code) {
            v.violation(field, format!("{code} is already the lead department"));
        } else if cooperating.contains(&code) {
            v.violation(field, format!("{code} is named twice"));
        } else {
            cooperating.push(code);
        }
    }
    v.text(
        "instructions",
        &r.instructions,
        limits.description_chars,
        false,
    );
    let meeting_id = meeting_id(&mut v, &r.meeting_id);
    v.finish()?;
    Ok(Approval {
        item_id,
        lead: lead.expect("checked"),
        cooperating,
        instructions: r.instructions.trim().to_owned(),
        meeting_id,
    })
}

/// Where the chair reclassifies a case to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reclassified {
    /// The brigade handles it itself.
    InScope,
    /// Referred to the competent county department.
    OutOfScope(DepartmentCode),
}

impl Reclassified {
    pub fn path(&self) -> ev::Path {
        match self {
            Reclassified::InScope => ev::Path::InScope,
            Reclassified::OutOfScope(_) => ev::Path::OutOfScope,
        }
    }

    /// The path as the domain names it, for `agenda_items.reclassified_path`.
    pub fn triage_path(&self) -> Path {
        match self {
            Reclassified::InScope => Path::InScope,
            Reclassified::OutOfScope(_) => Path::OutOfScope,
        }
    }

    pub fn department(&self) -> Option<&DepartmentCode> {
        match self {
            Reclassified::InScope => None,
            Reclassified::OutOfScope(d) => Some(d),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reclassification {
    pub item_id: String,
    pub to: Reclassified,
    pub reason: String,
    pub meeting_id: Option<TownScopedId>,
}

pub fn parse_reclassification(
    r: &pb::ReclassifyJointRequest,
    limits: &Limits,
    known: &dyn Fn(&DepartmentCode) -> bool,
) -> Result<Reclassification, Vec<FieldViolation>> {
    let mut v = Validator::new();
    let item_id = item_id(&mut v, &r.item_id);
    let to = match ev::Path::try_from(r.path) {
        Ok(ev::Path::InScope) => {
            if !r.department.trim().is_empty() {
                v.violation(
                    "department",
                    "must be empty when the case is reclassified in scope",
                );
            }
            Some(Reclassified::InScope)
        }
        Ok(ev::Path::OutOfScope) => {
            department(&mut v, "department", &r.department, known).map(Reclassified::OutOfScope)
        }
        _ => {
            v.violation("path", "must be PATH_IN_SCOPE or PATH_OUT_OF_SCOPE");
            None
        }
    };
    let reason = reason(&mut v, &r.reason, limits);
    let meeting_id = meeting_id(&mut v, &r.meeting_id);
    v.finish()?;
    Ok(Reclassification {
        item_id,
        to: to.expect("checked"),
        reason,
        meeting_id,
    })
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendBack {
    pub item_id: String,
    pub reason: String,
    pub meeting_id: Option<TownScopedId>,
}

pub fn parse_send_back(
    r: &pb::SendBackJointRequest,
    limits: &Limits,
) -> Result<SendBack, Vec<FieldViolation>> {
    let mut v = Validator::new();
    let item_id = item_id(&mut v, &r.item_id);
    let reason = reason(&mut v, &r.reason, limits);
    let meeting_id = meeting_id(&mut v, &r.meeting_id);
    v.finish()?;
    Ok(SendBack {
        item_id,
        reason,
        meeting_id,
    })
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settlement {
    pub item_id: String,
    pub department: DepartmentCode,
    pub reason: String,
    pub meeting_id: Option<TownScopedId>,
}

pub fn parse_settlement(
    r: &pb::SettleDisputeRequest,
    limits: &Limits,
    known: &dyn Fn(&DepartmentCode) -> bool,
) -> Result<Settlement, Vec<FieldViolation>> {
    let mut v = Validator::new();
    let item_id = item_id(&mut v, &r.item_id);
    let department = department(&mut v, "department", &r.department, known);
    let reason = reason(&mut v, &r.reason, limits);
    let meeting_id = meeting_id(&mut v, &r.meeting_id);
    v.finish()?;
    Ok(Settlement {
        item_id,
        department: department.expect("checked"),
        reason,
        meeting_id,
    })
}

/// A meeting to record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewMeeting {
    pub town: TownCode,
    pub held_at: DateTime<Utc>,
    pub attendees: Vec<String>,
    pub item_ids: Vec<String>,
    pub notes: String,
}

pub fn parse_meeting(
    r: &pb::RecordMeetingRequest,
    limits: &Limits,
    now: DateTime<Utc>,
) -> Result<NewMeeting, Vec<FieldViolation>> {
    let mut v = Validator::new();
    let town = v.check("town", TownCode::parse(r.town.trim()));
    let held_at = match (&r.held_at, from_ts(r.held_at.as_ref())) {
        (None, _) => {
            v.violation("held_at", "is required");
            None
        }
        (Some(_), None) => {
            v.violation("held_at", "is not a valid time");
            None
        }
        (Some(_), Some(t)) if t > now + Duration::minutes(MEETING_CLOCK_SKEW_MINUTES) => {
            v.violation("held_at", "must not be in the future");
            None
        }
        (Some(_), Some(t)) => Some(t),
    };
    if r.attendees.is_empty() {
        v.violation("attendees", "name at least one attendee");
    }
    v.max_items("attendees", r.attendees.len(), limits.attendees_per_meeting);
    let mut attendees: Vec<String> = Vec::new();
    for (i, a) in r.attendees.iter().enumerate() {
        let field = format!("attendees[{i}]");
        let a = a.trim();
        // An officer id is also a short name, so one check serves both; line breaks would
        // break the minutes' layout.
        if a.is_empty() {
            v.violation(field, "is required");
        } else if a.chars().any(char::is_control) {
            v.violation(field, "must not contain line breaks or control characters");
        } else if OfficerId::parse(a).is_err() && a.chars().count() > limits.short_text_chars {
            v.violation(
                field,
                format!(
                    "must be an officer id or a name of at most {} characters",
                    limits.short_text_chars
                ),
            );
        } else if attendees.iter().any(|x| x == a) {
            v.violation(field, "is listed twice");
        } else {
            attendees.push(a.to_owned());
        }
    }
    // A meeting discusses at most a page of the agenda.
    v.max_items("item_ids", r.item_ids.len(), limits.page_size_max as usize);
    let mut item_ids: Vec<String> = Vec::new();
    for (i, id) in r.item_ids.iter().enumerate() {
        let field = format!("item_ids[{i}]");
        let id = id.trim();
        if id.is_empty() {
            v.violation(field, "is required");
        } else if id.chars().count() > ITEM_ID_CHARS {
            v.violation(field, "is not an agenda item's id");
        } else if item_ids.iter().any(|x| x == id) {
            v.violation(field, "is listed twice");
        } else {
            item_ids.push(id.to_owned());
        }
    }
    v.text("notes", &r.notes, limits.description_chars, false);
    v.finish()?;
    Ok(NewMeeting {
        town: town.expect("checked"),
        held_at: held_at.expect("checked"),
        attendees,
        item_ids,
        notes: r.notes.trim().to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn known(d: &DepartmentCode) -> bool {
        ["forestry", "natural_resources", "public_security"].contains(&d.as_str())
    }

    fn fields(r: Result<impl std::fmt::Debug, Vec<FieldViolation>>) -> Vec<String> {
        r.expect_err("must be refused")
            .into_iter()
            .map(|f| f.field)
            .collect()
    }

    #[test]
    fn an_approval_names_a_known_lead_and_distinct_cooperating_departments() {
        let l = Limits::default();
        let ok = parse_approval(
            &pb::ApproveJointRequest {
                item_id: "joint-1".into(),
                lead_department: "forestry".into(),
                cooperating_departments: vec!["natural_resources".into()],
                instructions: " 依法处置 ".into(),
                meeting_id: String::new(),
            },
            &l,
            &known,
        )
        .unwrap();
        assert_eq!(ok.lead.as_str(), "forestry");
        assert_eq!(ok.cooperating.len(), 1);
        assert_eq!(ok.instructions, "依法处置");
        assert_eq!(ok.meeting_id, None);

        let bad = parse_approval(
            &pb::ApproveJointRequest {
                item_id: String::new(),
                lead_department: "forestry".into(),
                cooperating_departments: vec![
                    "forestry".into(),
                    "unknown_dept".into(),
                    "public_security".into(),
                    "public_security".into(),
                    "Bad".into(),
                ],
                instructions: String::new(),
                meeting_id: "not-a-meeting".into(),
            },
            &l,
            &known,
        );
        assert_eq!(
            fields(bad),
            [
                "item_id",
                "cooperating_departments[0]",
                "cooperating_departments[1]",
                "cooperating_departments[3]",
                "cooperating_departments[4]",
                "meeting_id"
            ]
        );
    }

    #[test]
    fn an_approval_needs_a_lead_and_at_most_the_limit_of_departments() {
        let l = Limits {
            departments_per_decision: 1,
            ..Limits::default()
        };
        let bad = parse_approval(
            &pb::ApproveJointRequest {
                item_id: "joint-1".into(),
                lead_department: String::new(),
                cooperating_departments: vec!["forestry".into(), "public_security".into()],
                ..Default::default()
            },
            &l,
            &known,
        );
        assert_eq!(fields(bad), ["lead_department", "cooperating_departments"]);
    }

    #[test]
    fn reclassification_rules_for_the_department() {
        let l = Limits::default();
        let check = |path: ev::Path, department: &str, reason: &str, want: &[&str]| {
            let r = parse_reclassification(
                &pb::ReclassifyJointRequest {
                    item_id: "joint-1".into(),
                    path: path as i32,
                    department: department.into(),
                    reason: reason.into(),
                    meeting_id: String::new(),
                },
                &l,
                &known,
            );
            match r {
                Ok(_) => assert!(want.is_empty(), "{path:?} {department:?} accepted"),
                Err(vs) => assert_eq!(
                    vs.into_iter().map(|f| f.field).collect::<Vec<_>>(),
                    want,
                    "{path:?} {department:?}"
                ),
            }
        };
        check(ev::Path::InScope, "", "镇职权", &[]);
        check(ev::Path::InScope, "forestry", "镇职权", &["department"]);
        check(ev::Path::OutOfScope, "forestry", "林业职权", &[]);
        check(ev::Path::OutOfScope, "", "林业职权", &["department"]);
        check(ev::Path::OutOfScope, "water", "x", &["department"]);
        check(ev::Path::Joint, "", "x", &["path"]);
        check(ev::Path::Unspecified, "", "", &["path", "reason"]);
    }

    #[test]
    fn a_settlement_and_a_send_back_need_a_reason() {
        let l = Limits::default();
        let s = parse_settlement(
            &pb::SettleDisputeRequest {
                item_id: "dispute-1".into(),
                department: "forestry".into(),
                reason: "  ".into(),
                meeting_id: String::new(),
            },
            &l,
            &known,
        );
        assert_eq!(fields(s), ["reason"]);
        let b = parse_send_back(
            &pb::SendBackJointRequest {
                item_id: "joint-1".into(),
                reason: "补".repeat(1001),
                meeting_id: String::new(),
            },
            &l,
        );
        assert_eq!(fields(b), ["reason"]);
        let o = parse_opinion(
            &pb::RecordOpinionRequest {
                item_id: "joint-1".into(),
                opinion: String::new(),
            },
            &l,
        );
        assert_eq!(fields(o), ["opinion"]);
    }

    #[test]
    fn a_meeting_has_attendees_a_past_time_and_distinct_items() {
        let l = Limits {
            short_text_chars: 5,
            ..Limits::default()
        };
        let now = Utc.with_ymd_and_hms(2025, 3, 4, 2, 0, 0).unwrap();
        let ok = parse_meeting(
            &pb::RecordMeetingRequest {
                town: "330782101".into(),
                held_at: Some(to_ts(now + Duration::minutes(9))),
                attendees: vec!["wang.wu".into(), "张三".into()],
                item_ids: vec!["joint-1".into()],
                notes: "按时召开".into(),
            },
            &l,
            now,
        )
        .unwrap();
        assert_eq!(ok.attendees, ["wang.wu", "张三"]);

        let bad = parse_meeting(
            &pb::RecordMeetingRequest {
                town: "33".into(),
                held_at: Some(to_ts(now + Duration::minutes(11))),
                attendees: vec![
                    "".into(),
                    "一二三四五六".into(),
                    "zhang.san.the.longest.officer".into(),
                    "张三".into(),
                    "张三".into(),
                    "a\nb".into(),
                ],
                item_ids: vec!["joint-1".into(), "joint-1".into(), " ".into()],
                notes: String::new(),
            },
            &l,
            now,
        );
        assert_eq!(
            fields(bad),
            [
                "town",
                "held_at",
                "attendees[0]",
                "attendees[1]",
                "attendees[4]",
                "attendees[5]",
                "item_ids[1]",
                "item_ids[2]"
            ]
        );

        let none = parse_meeting(
            &pb::RecordMeetingRequest {
                town: "330782101".into(),
                ..Default::default()
            },
            &l,
            now,
        );
        assert_eq!(fields(none), ["held_at", "attendees"]);
    }
}
