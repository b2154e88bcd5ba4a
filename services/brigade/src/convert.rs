//! Conversions between the brigade's stored rows, domain types and generated proto types.

use liandong_domain::triage::Path;
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

pub(crate) fn path_from_str(s: &str) -> ev::Path {
    match s {
        "in_scope" => ev::Path::InScope,
        "joint" => ev::Path::Joint,
        "out_of_scope" => ev::Path::OutOfScope,
        _ => ev::Path::Unspecified,
    }
}

pub fn source_to_str(s: pb::CaseSource) -> Option<&'static str> {
    Some(match s {
        pb::CaseSource::Unspecified => return None,
        pb::CaseSource::Patrol => "patrol",
        pb::CaseSource::PublicReport => "public_report",
        pb::CaseSource::Hotline12345 => "hotline_12345",
        pb::CaseSource::GridCentre => "grid_centre",
        pb::CaseSource::Cctv => "cctv",
    })
}

fn source_from_str(s: &str) -> pb::CaseSource {
    match s {
        "patrol" => pb::CaseSource::Patrol,
        "public_report" => pb::CaseSource::PublicReport,
        "hotline_12345" => pb::CaseSource::Hotline12345,
        "grid_centre" => pb::CaseSource::GridCentre,
        "cctv" => pb::CaseSource::Cctv,
        _ => pb::CaseSource::Unspecified,
    }
}

pub fn json_list(s: &str) -> Vec<String> {
    serde_json::from_str(s).unwrap_or_default()
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
        source: source_from_str(&c.source) as i32,
        matters: json_list(&c.matters),
        village: c.village.clone(),
        location: c.location.clone(),
        description: c.description.clone(),
        found_at: Some(to_ts(c.found_at)),
        reported_by: c.reported_by.clone(),
        evidence_refs: json_list(&c.evidence_refs),
        triage: Some(pb::TriageResult {
            path: path_from_str(&c.path) as i32,
            rule: c.rule as u32,
            rule_name: rule_name(c.rule).into(),
            deciding_matters: json_list(&c.deciding),
            departments: json_list(&c.departments),
            department: c.department.clone().unwrap_or_default(),
            overridden: c.override_reason.is_some(),
            override_reason: c.override_reason.clone().unwrap_or_default(),
            computed_path: path_from_str(&c.computed_path) as i32,
        }),
        status: c.status.clone(),
        created_at: Some(to_ts(c.created_at)),
        updated_at: Some(to_ts(c.updated_at)),
        catalogue_version: c.catalogue_version.clone(),
        officers: vec![],
        outcome: None,
        joint: None,
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
        matters: json_list(&c.matters),
        source: c.source.clone(),
        village: c.village.clone(),
        location: c.location.clone(),
        description: c.description.clone(),
        found_at: Some(to_ts(c.found_at)),
        reported_by: c.reported_by.clone(),
        evidence_refs: json_list(&c.evidence_refs),
        path: path_from_str(&c.path) as i32,
        triage_rule: c.rule as u32,
        override_reason: c.override_reason.clone().unwrap_or_default(),
    }
}
