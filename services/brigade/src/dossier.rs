//! The case dossier (案卷) for case-file review: the record, documents, evidence list and the chain's verification, as JSON or as an HTML timeline (a maud template, which escapes every value).

use chrono::{DateTime, FixedOffset, Utc};
use liandong_domain::auth::{Action, Actor, permits_case_record};
use liandong_domain::catalogue::Catalogue;
use liandong_domain::dossier::STYLE;
use liandong_domain::towns::Towns;

use crate::documents::body_of;
use liandong_domain::ids::{DepartmentCode, MatterCode, TownCode, TownScopedId};
use liandong_domain::record::{Verification, encode_at, evidence_digest};
use liandong_grpc::ApiError;
use liandong_proto::brigade::v1 as pb;
use liandong_topology::names;
use maud::{DOCTYPE, PreEscaped, html};
use serde_json::{Value, json};

use crate::context::Api;
use crate::documents::{self, DocRow};
use crate::record::{self, RecordRow};
use crate::store::{self, CaseRow};

/// The version tag of the JSON bundle.
pub const FORMAT: &str = "liandong-dossier/v1";

/// Verification as the API and the dossier report it.
pub fn verification_to_pb(v: &Verification) -> pb::VerifyRecordResponse {
    let (first_bad_seq, reason) = v
        .first_bad
        .as_ref()
        .map_or((0, String::new()), |(seq, why)| (*seq, why.to_string()));
    pb::VerifyRecordResponse {
        ok: v.ok,
        length: v.length,
        head: hex::encode(v.head),
        first_bad_seq,
        reason,
        known_heads_checked: v.known_heads_checked as u32,
        signatures_checked: v.signatures_checked as u32,
    }
}

/// How the record's step kinds read in Chinese.
fn kind_name(kind: &str) -> &str {
    match kind {
        "reported" => "案件登记",
        "triaged" => "三路分流",
        "referred" => "移送（通报）",
        names::REFERRAL_SIGNED_FOR => "部门签收",
        names::REFERRAL_ACCEPTED => "部门受理",
        names::REFERRAL_ASSIGNED => "部门安排人员",
        names::REFERRAL_RETURNED => "部门退回",
        "result_received" => "办理结果反馈",
        "handed_over" => "案卷移交",
        "handover_received" => "移交确认",
        "assigned" => "指派执法人员",
        "inspection" => "现场检查",
        "evidence" => "调查取证",
        "notice" => "行政处罚事先告知",
        "statement" => "陈述申辩及复核",
        "statement_waived" => "放弃陈述申辩",
        "hearing_requested" => "要求听证",
        "hearing_held" => "举行听证",
        "hearing_waived" => "放弃听证",
        "collective_discussion" => "负责人集体讨论",
        "awaiting_discussion" => "待负责人集体讨论",
        "interview" => "询问",
        "execution_step" => "执行",
        "other" => "其他",
        "concluded" => "办结",
        "document" => "执法文书",
        "submitted_to_board" => "提交联席会议",
        "board_approved" => "联席会议审定",
        "board_reclassified" => "联席会议改判",
        "board_sent_back" => "联席会议退回补充",
        names::DISPUTE_SETTLED => "职权争议协调",
        "entrusted_decision" => "受委托作出决定",
        names::TASK_COMPLETED => "配合部门完成任务",
        names::JOINT_EXECUTED => "协同执法到位",
        "decision_amended" => "变更决定",
        "decision_revoked" => "撤销决定",
        other => other,
    }
}

/// How an agency reads in Chinese: `brigade:<town>` is the town's brigade, and so on.
fn agency_name(agency: &str, catalogue: &Catalogue, towns: &Towns) -> String {
    let (kind, home) = agency.split_once(':').unwrap_or((agency, ""));
    // A town the registry does not know is shown by its code: the record says what it says.
    let town = || {
        TownCode::parse(home)
            .ok()
            .and_then(|t| towns.town(&t).map(|t| t.name().to_owned()))
            .unwrap_or_else(|| home.to_owned())
    };
    match kind {
        "brigade" => format!("{}综合行政执法大队", town()),
        "board" => format!("{}行政执法联席会议", town()),
        "judicial" => format!("{}司法所", town()),
        "county" => DepartmentCode::parse(home)
            .ok()
            .and_then(|d| catalogue.department(&d).map(|d| d.name.clone()))
            .unwrap_or_else(|| home.to_owned()),
        _ => agency.to_owned(),
    }
}

fn beijing(at: DateTime<Utc>) -> String {
    let cst = FixedOffset::east_opt(8 * 3600).expect("UTC+8 is a valid offset");
    at.with_timezone(&cst)
        .format("%Y年%m月%d日 %H:%M:%S")
        .to_string()
}

/// One item of the evidence list: where it entered the case, its reference, its digest.
struct Evidence {
    source: String,
    reference: String,
    digest: String,
}

fn evidence_list(case: &CaseRow, entries: &[RecordRow]) -> Vec<Evidence> {
    let mut list: Vec<Evidence> = case
        .evidence_refs
        .0
        .clone()
        .into_iter()
        .map(|r| Evidence {
            source: "报案登记".into(),
            digest: evidence_digest(&r),
            reference: r,
        })
        .collect();
    for e in entries.iter().filter(|e| e.kind != "document") {
        for d in e.evidence_digests.0.clone() {
            if !list.iter().any(|x| x.digest == d) {
                list.push(Evidence {
                    source: format!("第{}条记录（{}）", e.seq, kind_name(&e.kind)),
                    reference: String::new(),
                    digest: d,
                });
            }
        }
    }
    list
}

/// Everything a dossier holds, gathered once for both formats.
struct Dossier {
    case: CaseRow,
    entries: Vec<RecordRow>,
    documents: Vec<DocRow>,
    evidence: Vec<Evidence>,
    verification: pb::VerifyRecordResponse,
    generated_at: DateTime<Utc>,
}

fn to_json(d: &Dossier, catalogue: &Catalogue, towns: &Towns) -> Result<Value, sqlx::Error> {
    let c = &d.case;
    Ok(json!({
        "format": FORMAT,
        "generated_at": encode_at(d.generated_at),
        "case": {
            "case_id": c.case_id,
            "town": c.town,
            "issuing_body": case_body(d, catalogue, towns),
            "matters": c.matters.0.clone(),
            "matter_names": c.matters.0.clone().iter().map(|m| matter_name(m, catalogue)).collect::<Vec<_>>(),
            "village": c.village,
            "location": c.location,
            "description": c.description,
            "found_at": encode_at(c.found_at),
            "act_date": c.act_date.map(|d| d.to_string()),
            "act_ongoing": c.act_ongoing,
            "reported_by": c.reported_by,
            "path": c.path,
            "status": c.status,
            "catalogue_version": c.catalogue_version,
        },
        "record": d.entries.iter().map(|e| json!({
            "seq": e.seq,
            "at": encode_at(e.at),
            "kind": e.kind,
            "agency": e.agency,
            "officer": e.officer,
            "role": e.role,
            "certificate_no": e.certificate_no,
            "detail": e.detail,
            "evidence_digests": e.evidence_digests.0.clone(),
            "event_id": e.event_id,
            "prev_hash": e.prev_hash,
            "hash": e.hash,
        })).collect::<Vec<_>>(),
        "documents": d.documents.iter().map(|x| json!({
            "doc_id": x.doc_id,
            "doc_no": x.doc_no,
            "kind": x.kind.as_str(),
            "kind_name": x.kind.name(),
            "issuing_body": x.issuing_body,
            "year": x.year,
            "number_seq": x.number_seq,
            "digest": x.digest,
            "created_at": encode_at(x.created_at),
            "body": x.body,
        })).collect::<Vec<_>>(),
        "evidence": d.evidence.iter().map(|x| json!({
            "source": x.source,
            "reference": x.reference,
            "digest": x.digest,
        })).collect::<Vec<_>>(),
        "verification": {
            "ok": d.verification.ok,
            "length": d.verification.length,
            "head": d.verification.head,
            "first_bad_seq": d.verification.first_bad_seq,
            "reason": d.verification.reason,
            "known_heads_checked": d.verification.known_heads_checked,
        },
    }))
}

/// The body the case's acts were done in the name of, as its documents say (the latest one),
/// else as the domain names it for the case's matters today (`documents::body_of`), else the
/// town government: a dossier is exported whatever its rows hold.
fn case_body(d: &Dossier, catalogue: &Catalogue, towns: &Towns) -> String {
    d.documents
        .last()
        .map(|doc| doc.issuing_body.clone())
        .or_else(|| {
            body_of(catalogue, towns, &d.case, d.generated_at)
                .ok()
                .map(|b| b.name)
        })
        .unwrap_or_else(|| towns.government_or_code(&d.case.town))
}

fn matter_name(code: &str, catalogue: &Catalogue) -> String {
    MatterCode::parse(code)
        .ok()
        .and_then(|m| catalogue.matter(&m).map(|m| m.name.clone()))
        .unwrap_or_else(|| code.to_owned())
}

fn status_name(status: &str) -> &str {
    match status {
        "concluded" => "已办结",
        "closed" => "已结案",
        "revoked" => "决定已撤销",
        "amendment_in_review" => "决定变更待法制审核",
        "awaiting_review" => "待法制审核",
        "awaiting_discussion" => "待负责人集体讨论",
        other => other,
    }
}

fn to_html(d: &Dossier, catalogue: &Catalogue, towns: &Towns) -> Result<String, sqlx::Error> {
    let c = &d.case;
    let body = case_body(d, catalogue, towns);
    let matters = c
        .matters
        .0
        .clone()
        .iter()
        .map(|m| matter_name(m, catalogue))
        .collect::<Vec<_>>()
        .join("、");
    let facts = [
        ("案由", matters),
        ("发生地点", format!("{}{}", c.village, c.location)),
        ("案情", c.description.clone()),
        ("发现时间", beijing(c.found_at)),
        (
            "违法行为发生日期",
            match c.act_date {
                Some(d) if c.act_ongoing => format!("{d}（发现时仍在持续）"),
                Some(d) => d.to_string(),
                None => format!("未载明（以发现之日 {} 计）", c.act_day()),
            },
        ),
        ("登记人", c.reported_by.clone()),
        ("案件状态", status_name(c.status.as_str()).to_owned()),
        ("事项目录版本", c.catalogue_version.clone()),
    ];
    let v = &d.verification;
    // Line breaks between the blocks keep the filed page readable as text; they are literal
    // text, escaped like everything else but the stylesheet (a constant of ours).
    let page = html! {
        (DOCTYPE) "\n"
        html lang="zh-CN" {
            "\n"
            head {
                "\n" meta charset="utf-8"; "\n"
                title { "案卷 " (c.case_id) } "\n"
                style { (PreEscaped(STYLE)) } "\n"
            }
            "\n"
            body {
                "\n"
                h1 { (body) " 行政执法案卷" } "\n"
                p { "案件编号：" (c.case_id) "　生成时间：" (beijing(d.generated_at)) } "\n"
                h2 { "一、基本情况" } "\n"
                table {
                    "\n"
                    @for (k, v) in &facts { tr { th { (k) } td { (v) } } "\n" }
                }
                "\n"
                h2 { "二、执法全过程记录" } "\n"
                ol class="timeline" {
                    "\n"
                    @for e in &d.entries {
                        li value=(e.seq) {
                            strong { (beijing(e.at)) } "　" (kind_name(&e.kind)) "　"
                            (agency_name(&e.agency, catalogue, towns)) "："
                            @if e.officer == record::SYSTEM {
                                "系统自动"
                            } @else {
                                "执法人员 " (e.officer) "（" (e.role) "）"
                            }
                            @if !e.certificate_no.is_empty() { "，执法证号 " (e.certificate_no) }
                            br; (e.detail)
                            @for dg in &e.evidence_digests.0 {
                                br; span class="digest" { "摘要 SHA-256：" (dg) }
                            }
                            br; span class="digest" { "链哈希：" (e.hash) }
                        }
                        "\n"
                    }
                }
                "\n"
                h2 { "三、执法文书" } "\n"
                @if d.documents.is_empty() { p { "无" } "\n" }
                @for x in &d.documents {
                    h3 { (x.kind.name()) "　" (x.doc_no) } "\n"
                    p class="digest" { "摘要 SHA-256：" (x.digest) } "\n"
                    pre { (x.body) } "\n"
                }
                h2 { "四、证据清单" } "\n"
                table {
                    "\n"
                    tr { th { "序号" } th { "来源" } th { "证据" } th { "摘要 SHA-256" } } "\n"
                    @for (i, x) in d.evidence.iter().enumerate() {
                        tr {
                            td { (i + 1) }
                            td { (x.source) }
                            td { (x.reference) }
                            td class="digest" { (x.digest) }
                        }
                        "\n"
                    }
                }
                "\n"
                h2 { "五、记录链校验" } "\n"
                @if v.ok {
                    p class="ok" {
                        "校验通过：共 " (v.length) " 条记录，链头 " span class="digest" { (v.head) }
                        "，核对其他机关持有的链头 " (v.known_heads_checked) " 个。"
                    }
                } @else {
                    p class="bad" {
                        "校验未通过：第 " (v.first_bad_seq) " 条记录有误（" (v.reason) "）。共 "
                        (v.length) " 条记录，核对其他机关持有的链头 " (v.known_heads_checked) " 个。"
                    }
                }
                "\n"
            }
            "\n"
        }
        "\n"
    };
    Ok(page.into_string())
}

impl Api {
    /// Loads a case whose record the actor may read: a town's own roles, or the staff of a
    /// department the case was sent to (by referral, handover or joint-case task).
    async fn readable(&self, actor: &Actor, case_id: &str) -> Result<CaseRow, ApiError> {
        let id =
            TownScopedId::parse(case_id).map_err(|e| ApiError::field("case_id", e.to_string()))?;
        let involved: Vec<DepartmentCode> = store::involved_departments(&self.db, case_id)
            .await?
            .iter()
            .filter_map(|d| DepartmentCode::parse(d).ok())
            .collect();
        permits_case_record(actor, Action::ReadRecord, id.town(), &involved)?;
        store::case(&self.db, case_id)
            .await?
            .ok_or_else(|| ApiError::NotFound(format!("no case {case_id}")))
    }

    pub(crate) async fn verify_record(
        &self,
        actor: &Actor,
        case_id: &str,
    ) -> Result<pb::VerifyRecordResponse, ApiError> {
        let case = self.readable(actor, case_id).await?;
        let v = record::verify(&self.db, &case.case_id, &self.keys).await?;
        if !v.ok {
            tracing::warn!(case_id = %case.case_id, first_bad = ?v.first_bad, "A case's record failed verification.");
        }
        Ok(verification_to_pb(&v))
    }

    pub(crate) async fn list_documents(
        &self,
        actor: &Actor,
        case_id: &str,
    ) -> Result<Vec<pb::Document>, ApiError> {
        let case = self.readable(actor, case_id).await?;
        let docs = documents::of_case(&self.db, &case.case_id).await?;
        Ok(docs.iter().map(documents::to_pb).collect())
    }

    pub(crate) async fn export_dossier(
        &self,
        actor: &Actor,
        r: pb::ExportDossierRequest,
    ) -> Result<pb::ExportDossierResponse, ApiError> {
        let html = match r.format.as_str() {
            "" | "json" => false,
            "html" => true,
            _ => return Err(ApiError::field("format", "must be \"json\" or \"html\"")),
        };
        let case = self.readable(actor, &r.case_id).await?;
        if !matches!(case.status.as_str(), "concluded" | "closed" | "revoked") {
            return Err(ApiError::FailedPrecondition(format!(
                "case {} is {}; only a concluded, closed or revoked case is filed as a dossier",
                case.case_id, case.status
            )));
        }
        let entries = record::entries(&self.db, &case.case_id).await?;
        let verification =
            verification_to_pb(&record::verify(&self.db, &case.case_id, &self.keys).await?);
        let dossier = Dossier {
            evidence: evidence_list(&case, &entries),
            documents: documents::of_case(&self.db, &case.case_id).await?,
            entries,
            verification,
            generated_at: self.clock.now(),
            case,
        };
        Ok(if html {
            pb::ExportDossierResponse {
                content_type: "text/html; charset=utf-8".into(),
                body: to_html(&dossier, &self.catalogue, &self.towns)?,
            }
        } else {
            pb::ExportDossierResponse {
                content_type: "application/json; charset=utf-8".into(),
                body: serde_json::to_string_pretty(&to_json(
                    &dossier,
                    &self.catalogue,
                    &self.towns,
                )?)
                .expect("a JSON value serialises"),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOSTILE: &str = "<script>alert(1)</script>\"'><img src=x onerror=alert(2)>&amp;";
    const ESCAPED: &str = "&lt;script&gt;alert(1)&lt;/script&gt;&quot;'&gt;&lt;img src=x onerror=alert(2)&gt;&amp;amp;";

    /// A dossier with hostile text in every field a person or another agency could have typed.
    fn hostile() -> Dossier {
        use liandong_domain::documents::DocKind;
        use liandong_domain::state::CaseStatus;
        use liandong_domain::triage::{CaseSource, Path};
        use liandong_store::typed::Json;
        let at = DateTime::<Utc>::from_timestamp(1_780_000_000, 0).unwrap();
        let h = || HOSTILE.to_owned();
        let entry = |seq: i64, officer: String| RecordRow {
            case_id: h(),
            seq,
            at,
            kind: h(),
            agency: h(),
            officer,
            role: h(),
            certificate_no: h(),
            detail: h(),
            evidence_digests: Json(vec![h()]),
            event_id: None,
            prev_hash: h(),
            hash: h(),
            signed_by: None,
            signature_key_id: None,
            signature: None,
            event_digest: None,
            signed_event: None,
        };
        Dossier {
            case: CaseRow {
                case_id: h(),
                town: "330782101".into(),
                source: CaseSource::Patrol,
                matters: Json(vec![h()]),
                village: h(),
                location: h(),
                description: h(),
                found_at: at,
                act_date: None,
                act_ongoing: false,
                reported_by: h(),
                evidence_refs: Json(vec![h()]),
                complex: false,
                path: Path::InScope,
                rule: 1,
                deciding: Json(vec![]),
                departments: Json(vec![]),
                department: None,
                computed_path: Path::InScope,
                override_reason: None,
                status: CaseStatus::Concluded,
                catalogue_version: h(),
                created_at: at,
                updated_at: at,
            },
            entries: vec![entry(1, h()), entry(2, record::SYSTEM.to_owned())],
            documents: vec![DocRow {
                doc_id: h(),
                case_id: h(),
                town: "330782101".into(),
                issuing_body: h(),
                kind: DocKind::PenaltyDecision,
                year: 2026,
                number_seq: 1,
                doc_no: h(),
                body: h(),
                digest: h(),
                created_at: at,
            }],
            evidence: vec![Evidence {
                source: h(),
                reference: h(),
                digest: h(),
            }],
            verification: pb::VerifyRecordResponse {
                ok: false,
                length: 2,
                head: h(),
                first_bad_seq: 2,
                reason: h(),
                known_heads_checked: 1,
                signatures_checked: 0,
            },
            generated_at: at,
        }
    }

    #[test]
    fn hostile_text_in_the_dossier_comes_out_escaped() {
        let catalogue = Catalogue::default_catalogue();
        let html = to_html(&hostile(), &catalogue, &Towns::shipped()).unwrap();
        assert!(!html.contains("<script>alert"), "{html}");
        assert!(!html.contains("<img"), "{html}");
        assert!(!html.contains("\"'>"), "{html}");
        assert!(
            html.contains(&format!("<title>案卷 {ESCAPED}</title>")),
            "{html}"
        );
        assert!(html.contains(&format!("<pre>{ESCAPED}</pre>")), "{html}");
        assert!(
            html.contains(&format!("<td class=\"digest\">{ESCAPED}</td>")),
            "{html}"
        );
        // The title, the number, the matter, the place (twice), the case, the reporter, the
        // catalogue; per entry the kind, the agency and the detail, a digest and the hash, and
        // for the officer's the name, role and certificate; the document's number, digest and
        // body; the evidence's source, reference and digest; the reason; and the body the
        // case's documents were issued in, named once for the case.
        assert_eq!(
            html.matches(ESCAPED).count(),
            9 + 13 + 3 + 3 + 1 + 1,
            "{html}"
        );
        // The one inline stylesheet is ours, as the gateway's policy allows it; no script.
        assert!(html.contains(&format!("<style>{STYLE}</style>")), "{html}");
        assert!(!html.contains("<script"), "{html}");
        assert!(html.starts_with("<!DOCTYPE html>\n<html lang=\"zh-CN\">"));
    }

    #[test]
    fn steps_and_agencies_read_in_chinese() {
        let catalogue = Catalogue {
            version: "t".into(),
            departments: vec![],
            matters: vec![],
            entrustments: vec![],
        };
        assert_eq!(kind_name(names::REFERRAL_ACCEPTED), "部门受理");
        let towns = Towns::shipped();
        assert_eq!(
            agency_name("brigade:330782101", &catalogue, &towns),
            "赤岸镇综合行政执法大队"
        );
        assert_eq!(
            agency_name("judicial:330782102", &catalogue, &towns),
            "义亭镇司法所"
        );
        assert_eq!(
            agency_name("county:forestry", &catalogue, &towns),
            "forestry"
        );
    }
}
