//! The brigade's standard documents (执法文书): issued at its own steps, numbered per issuing body and year, kept in the record with their digests.

use chrono::{DateTime, Utc};
use liandong_domain::acting::{self, ActingBody};
use liandong_domain::calendar::Calendar;
use liandong_domain::catalogue::Catalogue;
use liandong_domain::documents::{self as doc, DocFacts, DocKind};
use liandong_domain::ids::{DepartmentCode, MatterCode, TownCode, TownScopedId};
use liandong_domain::procedure::Procedure;
use liandong_domain::record::digest_hex;
use liandong_domain::towns::Towns;
use liandong_proto::brigade::v1 as pb;
use liandong_proto::events::v1 as ev;
use liandong_proto::time::to_ts;
use liandong_store::typed::decode_all;
use liandong_store::{Db, Tx};
use liandong_store::{with_db, with_tx};
use uuid::Uuid;

use crate::record::{self, NewEntry, Who};
use crate::store::CaseRow;

/// A document as stored.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DocRow {
    pub doc_id: String,
    pub case_id: String,
    pub town: String,
    pub issuing_body: String,
    #[sqlx(try_from = "String")]
    pub kind: DocKind,
    pub year: i64,
    pub number_seq: i64,
    pub doc_no: String,
    pub body: String,
    pub digest: String,
    pub created_at: DateTime<Utc>,
}

/// What the step that issues a document adds to the case's own facts.
pub struct Issue<'a> {
    pub kind: DocKind,
    pub who: &'a Who,
    /// For a transfer letter: the department code the case goes to.
    pub to_department: &'a str,
    /// The decision or intended decision, in words.
    pub decision: &'a str,
    pub party: &'a str,
    pub officers: &'a [String],
    /// What the document records in place of the case's facts (a statement, a hearing).
    pub facts: Option<&'a str>,
    /// For a prior notice: the party may ask for a hearing (第六十三条).
    pub hearing_due: bool,
}

/// Takes the next number of `issuing_body` in `year` within `tx`; the row lock of the upsert
/// makes concurrent issuers queue, so numbers are never shared or skipped.
async fn next_number(tx: &mut Tx, issuing_body: &str, year: i32) -> Result<i64, sqlx::Error> {
    with_tx!(tx, |conn| sqlx::query_scalar(
        "INSERT INTO doc_counters (issuing_body, year, last) VALUES ($1, $2, 1) \
         ON CONFLICT (issuing_body, year) DO UPDATE SET last = doc_counters.last + 1 RETURNING last"
    )
    .bind(issuing_body)
    .bind(i64::from(year))
    .fetch_one(conn)
    .await)
}

fn facts_of(case: &CaseRow, catalogue: &Catalogue, now: DateTime<Utc>) -> DocFacts {
    let matters: Vec<String> = case.matters.0.clone();
    let find = |code: &str| {
        MatterCode::parse(code)
            .ok()
            .and_then(|c| catalogue.matter(&c).cloned())
    };
    // The law that applies to the act (行政处罚法 Art. 37), never an unconfirmed article.
    let (legal_basis, basis_note) =
        crate::law::for_document(catalogue, case, Calendar::local_date(now));
    DocFacts {
        case_id: case.case_id.clone(),
        matters: matters
            .iter()
            .map(|m| find(m).map_or_else(|| m.clone(), |m| m.name))
            .collect(),
        location: format!("{}{}", case.village, case.location),
        facts: case.description.clone(),
        legal_basis,
        basis_note,
        ..DocFacts::default()
    }
}

/// The body in whose name `case`'s acts are done on `now` (`liandong_domain::acting`): the
/// town government, or the department that entrusted the case's matters to the town. Named
/// here without refusing a day outside the letter's term: the command that acts checks it
/// first (`Api::acting_body`), and a decision concluded when its review approves it keeps
/// the name it was proposed in.
pub fn body_of(
    catalogue: &Catalogue,
    towns: &Towns,
    case: &CaseRow,
    now: DateTime<Utc>,
) -> Result<ActingBody, sqlx::Error> {
    let (town, matters) = town_and_matters(case)?;
    match acting::named_body(catalogue, towns, &town, &matters, Calendar::local_date(now)) {
        // A case whose matters are not the town's (a joint case, a transfer): the town's own
        // procedural documents, in its own name.
        Err(acting::ActingRefused::NotTheTowns { .. }) => acting::town_body(towns, &town),
        other => other,
    }
    .map_err(|e| sqlx::Error::Decode(e.into()))
}

/// The case's town and matters as the domain types them.
pub fn town_and_matters(case: &CaseRow) -> Result<(TownCode, Vec<MatterCode>), sqlx::Error> {
    let town = TownCode::parse(&case.town).map_err(|e| sqlx::Error::Decode(e.into()))?;
    let matters = case
        .matters
        .0
        .iter()
        .map(|m| MatterCode::parse(m).map_err(|e| sqlx::Error::Decode(e.into())))
        .collect::<Result<Vec<_>, _>>()?;
    Ok((town, matters))
}

/// Issues a document at one of the brigade's steps, within that step's transaction: numbers
/// it, renders it, stores it, and records it as an entry carrying its digest.
#[tracing::instrument(skip_all, fields(case_id = %case.case_id, kind = i.kind.as_str()), err)]
pub async fn issue(
    tx: &mut Tx,
    now: DateTime<Utc>,
    catalogue: &Catalogue,
    towns: &Towns,
    case: &CaseRow,
    i: Issue<'_>,
) -> Result<DocRow, sqlx::Error> {
    // A transfer letter refers what is not the town's: always in the town's own name.
    let body_of = match i.kind {
        DocKind::TransferLetter => {
            let town = TownCode::parse(&case.town).map_err(|e| sqlx::Error::Decode(e.into()))?;
            acting::town_body(towns, &town).map_err(|e| sqlx::Error::Decode(e.into()))?
        }
        _ => body_of(catalogue, towns, case, now)?,
    };
    let year = doc::doc_year(now);
    let n = next_number(tx, body_of.counter_key(), year).await?;
    let doc_no = body_of.number(i.kind, year, n as u32);
    let mut facts = facts_of(case, catalogue, now);
    facts.issuing_body = body_of.name.clone();
    facts.entrusted = body_of.entrusted_line(towns);
    facts.hearing_due = i.hearing_due;
    if let Some(f) = i.facts {
        facts.facts = f.to_owned();
    }
    facts.doc_no = doc_no.clone();
    facts.party = i.party.to_owned();
    facts.decision = i.decision.to_owned();
    facts.officers = i.officers.to_vec();
    facts.issued_at = Some(now);
    facts.to_department = DepartmentCode::parse(i.to_department)
        .ok()
        .and_then(|d| catalogue.department(&d).map(|d| d.name.clone()))
        .unwrap_or_else(|| i.to_department.to_owned());
    let body = doc::render(i.kind, &facts);
    let digest = digest_hex(body.as_bytes());
    let town = TownCode::parse(&case.town).map_err(|e| sqlx::Error::Decode(e.into()))?;
    let row = DocRow {
        doc_id: TownScopedId::new(town, Uuid::now_v7()).to_string(),
        case_id: case.case_id.clone(),
        town: case.town.clone(),
        issuing_body: body_of.name,
        kind: i.kind,
        year: i64::from(year),
        number_seq: n,
        doc_no,
        body,
        digest,
        created_at: now,
    };
    with_tx!(tx, |conn| {
        sqlx::query(
            "INSERT INTO documents (doc_id, case_id, town, issuing_body, kind, year, number_seq, doc_no, body, digest, created_at) \
             VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11)",
        )
        .bind(&row.doc_id)
        .bind(&row.case_id)
        .bind(&row.town)
        .bind(&row.issuing_body)
        .bind(row.kind.as_str())
        .bind(row.year)
        .bind(row.number_seq)
        .bind(&row.doc_no)
        .bind(&row.body)
        .bind(&row.digest)
        .bind(row.created_at)
        .execute(conn)
        .await
        .map(|_| ())
    })?;
    record::append(
        tx,
        case.here(),
        NewEntry {
            at: now,
            kind: "document",
            who: i.who,
            detail: &format!("制作{}，文号 {}", i.kind.name(), row.doc_no),
            evidence_digests: vec![row.digest.clone()],
            event: None,
        },
    )
    .await?;
    Ok(row)
}

/// A case's documents, oldest first.
pub async fn of_case(db: &Db, case_id: &str) -> Result<Vec<DocRow>, sqlx::Error> {
    with_db!(db, |p| {
        let rows = sqlx::query(
            "SELECT * FROM documents WHERE case_id = $1 ORDER BY created_at, number_seq",
        )
        .bind(case_id)
        .fetch_all(p)
        .await?;
        decode_all(&rows, "documents", "doc_id")
    })
}

pub fn to_pb(d: &DocRow) -> pb::Document {
    pb::Document {
        doc_id: d.doc_id.clone(),
        case_id: d.case_id.clone(),
        issuing_body: d.issuing_body.clone(),
        kind: d.kind.as_str().into(),
        kind_name: d.kind.name().into(),
        year: d.year as i32,
        number_seq: d.number_seq as u32,
        doc_no: d.doc_no.clone(),
        body: d.body.clone(),
        digest: d.digest.clone(),
        created_at: Some(to_ts(d.created_at)),
    }
}

/// At assignment an in-scope case is filed (立案): the case-filing approval.
pub async fn on_assign(
    tx: &mut Tx,
    now: DateTime<Utc>,
    catalogue: &Catalogue,
    towns: &Towns,
    case: &CaseRow,
    officers: &[String],
    who: &Who,
) -> Result<(), sqlx::Error> {
    let i = Issue {
        kind: DocKind::CaseFiling,
        who,
        to_department: "",
        decision: "",
        party: "",
        officers,
        facts: None,
        hearing_due: false,
    };
    issue(tx, now, catalogue, towns, case, i).await.map(|_| ())
}

/// A step of the procedure issues its document: the prior notice (行政处罚事先告知书) with the
/// intended decision and, where due, the right to a hearing; the record of the party's
/// statement and defence with the answer; the hearing record; the record of the heads'
/// collective discussion with who took part.
#[allow(clippy::too_many_arguments)]
pub async fn on_step(
    tx: &mut Tx,
    now: DateTime<Utc>,
    catalogue: &Catalogue,
    towns: &Towns,
    case: &CaseRow,
    kind: DocKind,
    facts: Option<&str>,
    decision: &str,
    officers: &[String],
    hearing_due: bool,
    who: &Who,
) -> Result<(), sqlx::Error> {
    let i = Issue {
        kind,
        who,
        to_department: "",
        decision,
        party: "",
        officers,
        facts,
        hearing_due,
    };
    issue(tx, now, catalogue, towns, case, i).await.map(|_| ())
}

/// A concluded case gets the document its outcome calls for: a penalty decision, a no-penalty
/// decision, or an order to correct.
#[allow(clippy::too_many_arguments)]
pub async fn on_conclude(
    tx: &mut Tx,
    now: DateTime<Utc>,
    catalogue: &Catalogue,
    towns: &Towns,
    case: &CaseRow,
    outcome: &ev::Outcome,
    procedure: Procedure,
    who: &Who,
) -> Result<(), sqlx::Error> {
    let Some(kind) = DocKind::for_outcome(&outcome.kind) else {
        return Ok(());
    };
    // Decided on the spot (第五十二条): the numbered on-the-spot decision, with its officers.
    let (kind, officers) = match (procedure, kind) {
        (Procedure::Simple, DocKind::PenaltyDecision) => (
            DocKind::OnTheSpotDecision,
            crate::store::officers_in_tx(tx, &case.case_id).await?,
        ),
        _ => (kind, Vec::new()),
    };
    let party = outcome
        .party
        .as_ref()
        .map(|p| p.name.clone())
        .unwrap_or_default();
    let decision = decision_words(outcome);
    let i = Issue {
        kind,
        who,
        to_department: "",
        decision: &decision,
        party: &party,
        officers: &officers,
        facts: None,
        hearing_due: false,
    };
    issue(tx, now, catalogue, towns, case, i).await.map(|_| ())
}

/// The decision of an outcome in words, as the concluding document states it: what kind of
/// decision, the fine, the items confiscated with their counts and units, and the orders.
pub fn decision_words(o: &ev::Outcome) -> String {
    let head = match o.kind.as_str() {
        "education" => "批评教育，不予行政处罚",
        "no_violation" => "经调查，违法事实不成立",
        "warning" => "警告",
        "order_to_correct" if o.orders.is_empty() => "责令限期改正",
        "demolition" => "责令限期拆除",
        "fine" | "confiscation" | "order_to_correct" => "",
        other => other,
    };
    let items: Vec<(String, i64, String)> = o
        .confiscated
        .iter()
        .map(|c| (c.kind.clone(), c.count, c.unit.clone()))
        .collect();
    let terms = liandong_domain::outcome::describe(o.fine_fen, &items, &o.orders);
    let what = [head, terms.as_str()]
        .into_iter()
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join("；");
    if o.summary.trim().is_empty() {
        what
    } else {
        format!("{what}（{}）", o.summary.trim())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outcome(kind: &str, fine_fen: i64, summary: &str) -> ev::Outcome {
        ev::Outcome {
            kind: kind.into(),
            fine_fen,
            summary: summary.into(),
            ..Default::default()
        }
    }

    #[test]
    fn decisions_read_in_yuan() {
        assert_eq!(
            decision_words(&outcome("fine", 500_050, "")),
            "罚款人民币5000.50元"
        );
        assert_eq!(
            decision_words(&outcome("education", 0, "初次违法")),
            "批评教育，不予行政处罚（初次违法）"
        );
    }

    #[test]
    fn a_combined_decision_reads_whole() {
        let o = ev::Outcome {
            confiscated: vec![
                ev::ConfiscatedItem {
                    kind: "地笼网".into(),
                    count: 12,
                    unit: "个".into(),
                },
                ev::ConfiscatedItem {
                    kind: "刺网".into(),
                    count: 3,
                    unit: "匹".into(),
                },
            ],
            orders: vec!["责令立即停止违法捕捞".into()],
            ..outcome("confiscation", 300_000, "使用禁用渔具捕捞")
        };
        assert_eq!(
            decision_words(&o),
            "罚款人民币3000.00元；没收地笼网12个、刺网3匹；责令立即停止违法捕捞（使用禁用渔具捕捞）"
        );
    }
}
