//! Conversions between the brigade's stored rows, domain types and generated proto types.

use liandong_domain::triage::{CaseSource, Path};
use liandong_proto::brigade::v1 as pb;
use liandong_proto::events::v1 as ev;
use liandong_proto::time::to_ts;

use crate::store::{CaseRow, HistoryRow};

pub fn path_from_pb(p: ev::Path) -> Option<Path> {
    match p {
        ev::Path::Unspecified => None,
        ev::Path::InScope => Some(Path::InScope),
        ev::Path::Joint => Some(Path::Joint),
        ev::Path::OutOfScope => Some(Path::OutOfScope),
    }
}

/// A path as events carry it.
pub(crate) fn path_to_pb(p: Path) -> ev::Path {
    match p {
        Path::InScope => ev::Path::InScope,
        Path::Joint => ev::Path::Joint,
        Path::OutOfScope => ev::Path::OutOfScope,
    }
}

/// Where a report came from, as a request names it; none for an unnamed source.
pub fn source_from_pb(s: pb::CaseSource) -> Option<CaseSource> {
    Some(match s {
        pb::CaseSource::Unspecified => return None,
        pb::CaseSource::Patrol => CaseSource::Patrol,
        pb::CaseSource::PublicReport => CaseSource::PublicReport,
        pb::CaseSource::Hotline12345 => CaseSource::Hotline12345,
        pb::CaseSource::GridCentre => CaseSource::GridCentre,
        pb::CaseSource::Cctv => CaseSource::Cctv,
    })
}

fn source_to_pb(s: CaseSource) -> pb::CaseSource {
    match s {
        CaseSource::Patrol => pb::CaseSource::Patrol,
        CaseSource::PublicReport => pb::CaseSource::PublicReport,
        CaseSource::Hotline12345 => pb::CaseSource::Hotline12345,
        CaseSource::GridCentre => pb::CaseSource::GridCentre,
        CaseSource::Cctv => pb::CaseSource::Cctv,
    }
}

pub fn rule_name(n: i64) -> &'static str {
    match n {
        1 => "always_joint_or_complex",
        2 => "mixed_powers",
        3 => "several_departments",
        4 => "all_within_town",
        5 => "one_department",
        _ => "unknown",
    }
}

pub fn case_to_pb(c: &CaseRow) -> pb::Case {
    pb::Case {
        case_id: c.case_id.clone(),
        town: c.town.clone(),
        source: source_to_pb(c.source) as i32,
        matters: c.matters.0.clone(),
        village: c.village.clone(),
        location: c.location.clone(),
        description: c.description.clone(),
        found_at: Some(to_ts(c.found_at)),
        act_date: c.act_date.map(|d| d.to_string()).unwrap_or_default(),
        act_ongoing: c.act_ongoing,
        reported_by: c.reported_by.clone(),
        evidence_refs: c.evidence_refs.0.clone(),
        triage: Some(pb::TriageResult {
            path: path_to_pb(c.path) as i32,
            rule: c.rule as u32,
            rule_name: rule_name(c.rule).into(),
            deciding_matters: c.deciding.0.clone(),
            departments: c.departments.0.clone(),
            department: c.department.clone().unwrap_or_default(),
            overridden: c.override_reason.is_some(),
            override_reason: c.override_reason.clone().unwrap_or_default(),
            computed_path: path_to_pb(c.computed_path) as i32,
        }),
        status: c.status.as_str().into(),
        created_at: Some(to_ts(c.created_at)),
        updated_at: Some(to_ts(c.updated_at)),
        catalogue_version: c.catalogue_version.clone(),
        officers: vec![],
        outcome: None,
        joint: None,
        // Read with the case's clock (`Api::full`).
        penalty_period: None,
    }
}

pub fn history_to_pb(h: &HistoryRow) -> pb::HistoryEntry {
    pb::HistoryEntry {
        at: Some(to_ts(h.at)),
        kind: h.kind.clone(),
        actor: h.actor.clone(),
        detail: h.detail.clone(),
    }
}

/// The facts of a case as referrals and board submissions carry them.
pub fn facts(c: &CaseRow) -> ev::CaseFacts {
    ev::CaseFacts {
        case_id: c.case_id.clone(),
        town: c.town.clone(),
        matters: c.matters.0.clone(),
        source: c.source.as_str().into(),
        village: c.village.clone(),
        location: c.location.clone(),
        description: c.description.clone(),
        found_at: Some(to_ts(c.found_at)),
        reported_by: c.reported_by.clone(),
        evidence_refs: c.evidence_refs.0.clone(),
        path: path_to_pb(c.path) as i32,
        triage_rule: c.rule as u32,
        override_reason: c.override_reason.clone().unwrap_or_default(),
        act_date: c.act_date.map(|d| d.to_string()).unwrap_or_default(),
        act_ongoing: c.act_ongoing,
    }
}

/// A value as JSON text for a column that stores it so.
pub fn json<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string(v).expect("lists of strings serialise")
}
