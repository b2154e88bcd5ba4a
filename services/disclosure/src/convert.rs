//! Stored disclosures turned into API messages, with the registry's and the catalogue's names
//! and the catalogue's legal bases.

use chrono::{DateTime, Utc};
use liandong_domain::catalogue::Catalogue;
use liandong_domain::disclosure::{self, BodyKind};
use liandong_domain::ids::{DepartmentCode, MatterCode};
use liandong_domain::towns::Towns;
use liandong_proto::disclosure::v1 as pb;
use liandong_proto::time::to_ts;

use crate::store::DisclosureRow;

/// The deciding body with its names in both languages: a town's government as the registry
/// names it (赤岸镇人民政府), a department as the catalogue does; one neither names is shown by
/// its code.
pub fn body(cat: &Catalogue, towns: &Towns, kind: BodyKind, code: &str) -> pb::Body {
    let (name, name_en) = match kind {
        BodyKind::Town => (
            towns.government_or_code(code),
            towns.government_en_or_code(code),
        ),
        BodyKind::Department => DepartmentCode::parse(code)
            .ok()
            .and_then(|c| cat.department(&c))
            .map(|d| (d.name.clone(), d.name_en.clone()))
            .unwrap_or_else(|| (code.to_owned(), code.to_owned())),
    };
    pb::Body {
        kind: kind.as_str().into(),
        code: code.to_owned(),
        name,
        name_en,
    }
}

fn matters(cat: &Catalogue, codes: &[String]) -> Vec<pb::DisclosedMatter> {
    codes
        .iter()
        .map(|code| {
            let m = MatterCode::parse(code).ok().and_then(|c| cat.matter(&c));
            pb::DisclosedMatter {
                code: code.clone(),
                name: m.map(|m| m.name.clone()).unwrap_or_default(),
                name_en: m.map(|m| m.name_en.clone()).unwrap_or_default(),
                legal_basis: m
                    .map(|m| {
                        m.latest()
                            .legal_basis
                            .iter()
                            .map(|b| format!("{} {}", b.law, b.article))
                            .collect()
                    })
                    .unwrap_or_default(),
            }
        })
        .collect()
}

fn decision(cat: &Catalogue, r: &DisclosureRow) -> pb::DisclosedDecision {
    pb::DisclosedDecision {
        outcome: r.outcome.as_str().into(),
        fine_fen: r.fine_fen,
        confiscated: r
            .confiscated
            .iter()
            .map(|item| {
                let (kind, count, unit) = item.parts();
                pb::DisclosedItem {
                    kind: kind.to_owned(),
                    count,
                    unit: unit.to_owned(),
                }
            })
            .collect(),
        summary: r.summary.clone(),
        description: r.description.clone(),
        party: Some(pb::MaskedParty {
            kind: r.party_kind.as_str().into(),
            name: r.party_name.clone(),
            address: r.party_address.clone(),
        }),
        matters: matters(cat, &r.matters),
        decided_at: Some(to_ts(r.decided_at)),
        applied_basis: r.applied_basis.0.clone(),
        orders: r.orders.0.clone(),
    }
}

/// The disclosure as its deciding body sees it at `now`.
pub fn to_pb(
    cat: &Catalogue,
    towns: &Towns,
    r: &DisclosureRow,
    now: DateTime<Utc>,
) -> pb::Disclosure {
    pb::Disclosure {
        disclosure_id: r.disclosure_id.clone(),
        town: r.town.clone(),
        case_id: r.case_id.clone(),
        body: Some(body(cat, towns, r.body_kind, &r.body_code)),
        class: r.class.as_str().into(),
        status: r.status.as_str().into(),
        decision: Some(decision(cat, r)),
        due_at: Some(to_ts(r.due_at)),
        due_provisional: r.due_provisional,
        overdue: disclosure::is_overdue(r.status, r.due_at, now),
        published_at: r.published_at.map(to_ts),
        published_by: r.published_by.clone().unwrap_or_default(),
        published_late: r.published_at.is_some_and(|p| p >= r.due_at),
        withdrawn_at: r.withdrawn_at.map(to_ts),
        withdrawn_by: r.withdrawn_by.clone().unwrap_or_default(),
        withdrawal_reason: r.withdrawal_reason.clone().unwrap_or_default(),
        decision_changed_at: r.decision_changed_at.map(to_ts),
        withdrawal_due_at: r.withdrawal_due_at.map(to_ts),
        withdrawn_late: matches!((r.withdrawn_at, r.withdrawal_due_at), (Some(w), Some(due)) if w >= due),
        withheld_reason: r.withheld_reason.clone().unwrap_or_default(),
        created_at: Some(to_ts(r.created_at)),
    }
}

/// The disclosure as the public sees it: no officer names, no internal dates.
pub fn to_public(
    cat: &Catalogue,
    towns: &Towns,
    r: &DisclosureRow,
    retention_days: u32,
) -> pb::PublicDisclosure {
    pb::PublicDisclosure {
        disclosure_id: r.disclosure_id.clone(),
        town: r.town.clone(),
        body: Some(body(cat, towns, r.body_kind, &r.body_code)),
        status: r.status.as_str().into(),
        decision: Some(decision(cat, r)),
        published_at: r.published_at.map(to_ts),
        withdrawn_at: r.withdrawn_at.map(to_ts),
        withdrawal_reason: r.withdrawal_reason.clone().unwrap_or_default(),
        expires_at: r
            .published_at
            .map(|p| to_ts(disclosure::expires_at(p, retention_days))),
        class: r.class.as_str().into(),
    }
}
