//! Standard enforcement documents (执法文书): kinds, document numbers (文号), issuing bodies and template rendering.

use chrono::{DateTime, Datelike, FixedOffset, Utc};

use crate::catalogue::LegalBasis;

/// The kinds of document the brigade issues, each with its name and number prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DocKind {
    /// 立案审批表: approval to open a case, when officers are assigned.
    CaseFiling,
    /// 责令改正通知书.
    OrderToCorrect,
    /// 行政处罚事先告知书: the party is told of the intended penalty and their rights.
    NoticeBeforePenalty,
    /// 行政处罚决定书.
    PenaltyDecision,
    /// 不予行政处罚决定书.
    NoPenaltyDecision,
    /// 案件移送函: a case referred to the competent department.
    TransferLetter,
    /// 陈述申辩笔录: the party's statement and defence, and the body's answer (第四十五条).
    StatementRecord,
    /// 听证笔录: the hearing held (第六十四条、第六十五条).
    HearingRecord,
    /// 重大案件集体讨论记录: the heads' collective discussion (第五十七条).
    DiscussionRecord,
    /// 当场行政处罚决定书: a decision in the simple procedure (第五十一条、第五十二条).
    OnTheSpotDecision,
}

impl DocKind {
    pub const ALL: [DocKind; 10] = [
        DocKind::CaseFiling,
        DocKind::OrderToCorrect,
        DocKind::NoticeBeforePenalty,
        DocKind::PenaltyDecision,
        DocKind::NoPenaltyDecision,
        DocKind::TransferLetter,
        DocKind::StatementRecord,
        DocKind::HearingRecord,
        DocKind::DiscussionRecord,
        DocKind::OnTheSpotDecision,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            DocKind::CaseFiling => "case_filing",
            DocKind::OrderToCorrect => "order_to_correct",
            DocKind::NoticeBeforePenalty => "notice_before_penalty",
            DocKind::PenaltyDecision => "penalty_decision",
            DocKind::NoPenaltyDecision => "no_penalty_decision",
            DocKind::TransferLetter => "transfer_letter",
            DocKind::StatementRecord => "statement_record",
            DocKind::HearingRecord => "hearing_record",
            DocKind::DiscussionRecord => "discussion_record",
            DocKind::OnTheSpotDecision => "on_the_spot_decision",
        }
    }

    pub fn parse(s: &str) -> Option<DocKind> {
        DocKind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// The document's Chinese name.
    pub fn name(self) -> &'static str {
        match self {
            DocKind::CaseFiling => "立案审批表",
            DocKind::OrderToCorrect => "责令改正通知书",
            DocKind::NoticeBeforePenalty => "行政处罚事先告知书",
            DocKind::PenaltyDecision => "行政处罚决定书",
            DocKind::NoPenaltyDecision => "不予行政处罚决定书",
            DocKind::TransferLetter => "案件移送函",
            DocKind::StatementRecord => "陈述申辩笔录",
            DocKind::HearingRecord => "听证笔录",
            DocKind::DiscussionRecord => "重大案件集体讨论记录",
            DocKind::OnTheSpotDecision => "当场行政处罚决定书",
        }
    }

    /// The prefix of its number, between the body's abbreviation and 字.
    pub fn prefix(self) -> &'static str {
        match self {
            DocKind::CaseFiling => "立",
            DocKind::OrderToCorrect => "责改",
            DocKind::NoticeBeforePenalty => "罚告",
            DocKind::PenaltyDecision => "罚决",
            DocKind::NoPenaltyDecision => "不罚",
            DocKind::TransferLetter => "移",
            DocKind::StatementRecord => "陈",
            DocKind::HearingRecord => "听",
            DocKind::DiscussionRecord => "集",
            DocKind::OnTheSpotDecision => "简罚",
        }
    }

    /// The document that concludes a case with an outcome of this kind (`OutcomeKind::as_str`).
    pub fn for_outcome(outcome_kind: &str) -> Option<DocKind> {
        match outcome_kind {
            "warning" | "fine" | "confiscation" => Some(DocKind::PenaltyDecision),
            "education" | "no_violation" => Some(DocKind::NoPenaltyDecision),
            "order_to_correct" | "demolition" => Some(DocKind::OrderToCorrect),
            _ => None,
        }
    }
}

/// A stored document kind: one the hub does not know is an error naming it.
impl TryFrom<String> for DocKind {
    type Error = crate::state::UnknownValue;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        DocKind::parse(&s).ok_or_else(|| crate::state::UnknownValue {
            kind: "document kind",
            value: s.chars().take(64).collect(),
        })
    }
}

/// China Standard Time, in which documents are dated and numbered by year.
fn cst() -> FixedOffset {
    FixedOffset::east_opt(8 * 3600).expect("UTC+8 is a valid offset")
}

/// The year a document issued at `at` is numbered in (Beijing time).
pub fn doc_year(at: DateTime<Utc>) -> i32 {
    at.with_timezone(&cst()).year()
}

/// What a document says, gathered from the case.
#[derive(Debug, Clone, Default)]
pub struct DocFacts {
    pub issuing_body: String,
    pub doc_no: String,
    pub case_id: String,
    /// The party as the decision names them (当事人); empty when not yet known.
    pub party: String,
    /// The matters, by name.
    pub matters: Vec<String>,
    pub location: String,
    pub facts: String,
    pub legal_basis: Vec<LegalBasis>,
    /// What the legal basis leaves out and why (an article that could not be confirmed).
    pub basis_note: String,
    /// The decision or the intended decision, in words.
    pub decision: String,
    pub officers: Vec<String>,
    /// For a transfer letter: the department the case goes to.
    pub to_department: String,
    pub issued_at: Option<DateTime<Utc>>,
    /// For a document issued in an entrusting department's name: who acts for it and under
    /// which letter (`受委托实施：赤岸镇人民政府（委托书 县环委〔2026〕1号）`); empty otherwise.
    pub entrusted: String,
    /// For a prior notice: the intended penalty gives the right to a hearing (第六十三条).
    pub hearing_due: bool,
}

/// A remedy against an enforcement decision (救济途径), as the public page before enforcement
/// (事前公开) states it and the decision's [`RIGHTS`] cite it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Remedy {
    /// The law and its article, e.g. `《中华人民共和国行政复议法》第二十条`.
    pub law: &'static str,
    pub law_en: &'static str,
    /// The time limit in words.
    pub limit: &'static str,
    pub limit_en: &'static str,
}

/// The two remedies: administrative reconsideration within sixty days (行政复议法, as revised on
/// 2023-09-01, 第二十条; the revised text: https://bjxclawfirm.com/index50.html) and litigation
/// within six months (行政诉讼法 第四十六条: "应当自知道或者应当知道作出行政行为之日起六个月内提出";
/// https://mip.64365.com/special/18571846).
pub const REMEDIES: [Remedy; 2] = [
    Remedy {
        law: "《中华人民共和国行政复议法》第二十条",
        law_en: "Administrative Reconsideration Law (2023 revision), Art. 20",
        limit: "自知道或者应当知道该行政行为之日起六十日内申请行政复议",
        limit_en: "apply for administrative reconsideration within sixty days of learning of the decision",
    },
    Remedy {
        law: "《中华人民共和国行政诉讼法》第四十六条",
        law_en: "Administrative Litigation Law, Art. 46",
        limit: "自知道或者应当知道作出行政行为之日起六个月内直接向人民法院提起行政诉讼",
        limit_en: "bring an administrative lawsuit directly before the people's court within six months of learning of the decision",
    },
];

/// Rights of appeal as the Administrative Reconsideration Law (2023 revision, art. 20: sixty
/// days) and the Administrative Litigation Law (art. 46: six months) set them: [`REMEDIES`].
const RIGHTS: &str = "如不服本决定，可以自收到本决定书之日起六十日内依照《中华人民共和国行政复议法》第二十条的规定申请行政复议，或者自收到本决定书之日起六个月内依照《中华人民共和国行政诉讼法》第四十六条的规定直接向人民法院提起行政诉讼。";

fn basis_lines(basis: &[LegalBasis]) -> String {
    if basis.is_empty() {
        return "（依据见案卷）".into();
    }
    basis
        .iter()
        .map(|b| match &b.text {
            Some(t) => format!("《{}》{}：{}", b.law, b.article, t),
            None => format!("《{}》{}", b.law, b.article),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn party(f: &DocFacts) -> &str {
    if f.party.trim().is_empty() {
        "（待查明）"
    } else {
        f.party.trim()
    }
}

/// Renders a document from its template (plain text with Markdown headings, Simplified Chinese).
pub fn render(kind: DocKind, f: &DocFacts) -> String {
    let date = f
        .issued_at
        .map(|t| t.with_timezone(&cst()).format("%Y年%m月%d日").to_string())
        .unwrap_or_default();
    let matters = f.matters.join("、");
    let mut basis = basis_lines(&f.legal_basis);
    if !f.basis_note.trim().is_empty() {
        basis.push_str(&format!("\n（注：{}）", f.basis_note.trim()));
    }
    let entrusted = if f.entrusted.is_empty() {
        String::new()
    } else {
        format!("{}\n\n", f.entrusted)
    };
    let head = format!(
        "# {}\n# {}\n\n{}\n\n{entrusted}",
        f.issuing_body,
        kind.name(),
        f.doc_no
    );
    let body = match kind {
        DocKind::CaseFiling => format!(
            "案件编号：{}\n案由：{matters}\n案发地点：{}\n当事人：{}\n\n案情摘要：{}\n\n依据：\n{basis}\n\n承办人员：{}\n\n经审查，符合立案条件，同意立案。\n",
            f.case_id,
            f.location,
            party(f),
            f.facts,
            f.officers.join("、")
        ),
        DocKind::OrderToCorrect => format!(
            "当事人：{}\n\n经查，你（单位）在{}存在以下违法行为：{}\n\n上述行为违反了下列规定：\n{basis}\n\n现责令你（单位）：{}\n\n{RIGHTS}\n",
            party(f),
            f.location,
            f.facts,
            f.decision
        ),
        DocKind::NoticeBeforePenalty => format!(
            "当事人：{}\n\n经查，你（单位）在{}存在以下违法行为：{}\n\n依据：\n{basis}\n\n本机关拟作出如下行政处罚：{}\n\n根据《中华人民共和国行政处罚法》第四十四条、第四十五条的规定，你（单位）有权进行陈述和申辩。{}\n",
            party(f),
            f.location,
            f.facts,
            f.decision,
            if f.hearing_due {
                "根据第六十三条、第六十四条的规定，你（单位）有权要求听证；要求听证的，应当在收到本告知书之日起五个工作日内提出。"
            } else {
                ""
            }
        ),
        DocKind::PenaltyDecision => format!(
            "当事人：{}\n\n违法事实：你（单位）在{}{}\n\n以上事实有现场检查记录、照片等证据为证。\n\n依据：\n{basis}\n\n本机关决定：{}\n\n{RIGHTS}\n",
            party(f),
            f.location,
            f.facts,
            f.decision
        ),
        DocKind::NoPenaltyDecision => format!(
            "当事人：{}\n\n经查：{}\n\n依据：\n{basis}\n\n根据《中华人民共和国行政处罚法》第三十三条的规定，本机关决定不予行政处罚：{}\n\n{RIGHTS}\n",
            party(f),
            f.facts,
            f.decision
        ),
        DocKind::TransferLetter => format!(
            "{}：\n\n本机关在执法中发现下列案件（案件编号 {}），经审查不属于本机关职权范围，依法移送你单位处理：\n\n案由：{matters}\n地点：{}\n案情：{}\n\n依据：\n{basis}\n\n请于收到本函后依法处理，并将处理结果抄告本机关。相关证据材料随案移交。\n",
            f.to_department, f.case_id, f.location, f.facts
        ),
        DocKind::StatementRecord => format!(
            "案件编号：{}\n当事人：{}\n\n当事人的陈述和申辩：{}\n\n本机关的复核意见：{}\n\n（《中华人民共和国行政处罚法》第四十五条：当事人有权进行陈述和申辩，行政机关必须充分听取当事人的意见，不得因当事人陈述、申辩而给予更重的处罚。）\n",
            f.case_id,
            party(f),
            f.facts,
            f.decision
        ),
        DocKind::HearingRecord => format!(
            "案件编号：{}\n当事人：{}\n案由：{matters}\n\n听证情况：{}\n\n（《中华人民共和国行政处罚法》第六十四条、第六十五条：听证结束后，行政机关根据听证笔录作出决定。）\n",
            f.case_id,
            party(f),
            f.facts
        ),
        DocKind::DiscussionRecord => format!(
            "案件编号：{}\n案由：{matters}\n\n参加讨论的负责人：{}\n\n讨论意见及决定：{}\n\n（《中华人民共和国行政处罚法》第五十七条：对情节复杂或者重大违法行为给予行政处罚，行政机关负责人应当集体讨论决定。）\n",
            f.case_id,
            f.officers.join("、"),
            f.decision
        ),
        DocKind::OnTheSpotDecision => format!(
            "当事人：{}\n\n违法行为：在{}{}\n\n依据：\n{basis}\n\n执法人员：{}\n\n经当场告知违法事实、理由和依据并听取陈述申辩，依照《中华人民共和国行政处罚法》第五十一条、第五十二条的规定，当场作出行政处罚决定：{}\n\n{RIGHTS}\n",
            party(f),
            f.location,
            f.facts,
            f.officers.join("、"),
            f.decision
        ),
    };
    format!("{head}{body}\n{}\n{date}\n", f.issuing_body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_decisions_rights_cite_the_remedies_the_public_page_lists() {
        for r in REMEDIES {
            assert!(RIGHTS.contains(r.law), "{}", r.law);
        }
        assert!(REMEDIES[0].limit.contains("六十日"));
        assert!(REMEDIES[1].limit.contains("六个月"));
    }

    #[test]
    fn a_registered_town_issues_in_its_government_s_name() {
        let towns = crate::towns::Towns::shipped();
        let code = crate::ids::TownCode::parse("330782102").unwrap();
        let body = crate::acting::town_body(&towns, &code).unwrap();
        assert_eq!(body.name, "义亭镇人民政府");
        assert_eq!(
            body.number(DocKind::PenaltyDecision, 2026, 3),
            "义亭综执罚决字〔2026〕第3号"
        );
        assert_eq!(
            body.number(DocKind::TransferLetter, 2025, 1),
            "义亭综执移字〔2025〕第1号"
        );
    }

    #[test]
    fn documents_are_numbered_in_the_beijing_year() {
        let new_year_eve_utc = DateTime::parse_from_rfc3339("2025-12-31T17:00:00Z")
            .unwrap()
            .to_utc();
        assert_eq!(doc_year(new_year_eve_utc), 2026);
    }

    #[test]
    fn each_outcome_has_its_document() {
        let check = |outcome: &str, expected: Option<DocKind>| {
            assert_eq!(DocKind::for_outcome(outcome), expected, "{outcome}")
        };
        check("fine", Some(DocKind::PenaltyDecision));
        check("warning", Some(DocKind::PenaltyDecision));
        check("confiscation", Some(DocKind::PenaltyDecision));
        check("education", Some(DocKind::NoPenaltyDecision));
        check("no_violation", Some(DocKind::NoPenaltyDecision));
        check("order_to_correct", Some(DocKind::OrderToCorrect));
        check("demolition", Some(DocKind::OrderToCorrect));
        check("other", None);
        for k in DocKind::ALL {
            assert_eq!(DocKind::parse(k.as_str()), Some(k));
        }
    }

    #[test]
    fn a_penalty_decision_names_basis_party_and_rights() {
        let f = DocFacts {
            issuing_body: "东山镇人民政府".into(),
            doc_no: "东山综执罚决字〔2026〕第3号".into(),
            party: "王某某".into(),
            location: "东山村".into(),
            facts: "未取得乡村建设规划许可证建房".into(),
            legal_basis: vec![LegalBasis {
                law: "中华人民共和国城乡规划法".into(),
                article: "第六十五条".into(),
                text: None,
            }],
            decision: "罚款人民币5000.00元".into(),
            issued_at: Some(
                DateTime::parse_from_rfc3339("2026-03-02T09:00:00+08:00")
                    .unwrap()
                    .to_utc(),
            ),
            ..DocFacts::default()
        };
        let text = render(DocKind::PenaltyDecision, &f);
        for needle in [
            "# 行政处罚决定书",
            "东山综执罚决字〔2026〕第3号",
            "当事人：王某某",
            "《中华人民共和国城乡规划法》第六十五条",
            "罚款人民币5000.00元",
            "六十日内",
            "六个月内",
            "申请行政复议",
            "提起行政诉讼",
            "2026年03月02日",
        ] {
            assert!(text.contains(needle), "{needle} missing from\n{text}");
        }
    }
}
