//! The hub's people and their acts, in the words of the domain, for tests: a brigade officer
//! reports a case, the captain assigns it, a department's dispatcher signs for, accepts and
//! assigns a referral, its investigator concludes it (`hub.dispatcher("forestry")
//! .sign_for(&referral)`). Each act is one call of the service's gRPC API, made with the
//! person's own signed token; what the service answers comes back as it is, errors included.

use std::time::Duration;

use liandong_proto::board::v1 as board;
use liandong_proto::brigade::v1 as brigade;
use liandong_proto::county::v1 as county;
use liandong_proto::events::v1 as ev;
use tonic::Status;

use crate::eventually;
use crate::hub::{As, TestHub};

/// How long a person waits for what another service sends them.
const WAIT: Duration = Duration::from_secs(30);

/// A report of a violation (案件线索), as a brigade officer files it: found on patrol in 东山村
/// with one photograph, unless said otherwise.
#[derive(Debug, Clone)]
pub struct Report(brigade::ReportCaseRequest);

impl Report {
    pub fn new(town: &str, matters: &[&str], description: &str) -> Report {
        Report(brigade::ReportCaseRequest {
            town: town.into(),
            source: brigade::CaseSource::Patrol as i32,
            matters: matters.iter().map(|m| (*m).to_owned()).collect(),
            village: "东山村".into(),
            location: "东山村后山林区".into(),
            description: description.into(),
            found_at: Some(prost_types::Timestamp {
                seconds: 1_780_000_000,
                nanos: 0,
            }),
            evidence_refs: vec!["photo-001.jpg".into()],
            complex: false,
            triage_override: None,
            request_id: String::new(),
            act_date: String::new(),
            act_ongoing: false,
        })
    }
    /// The date of the act (YYYY-MM-DD, Beijing time).
    pub fn act_on(mut self, date: &str) -> Report {
        self.0.act_date = date.into();
        self
    }
    /// The act was still going on when found.
    pub fn ongoing(mut self) -> Report {
        self.0.act_ongoing = true;
        self
    }
    /// Where the case came from (a patrol, a complaint, a referral by a department …).
    pub fn from_source(mut self, source: brigade::CaseSource) -> Report {
        self.0.source = source as i32;
        self
    }
    pub fn in_village(mut self, village: &str, location: &str) -> Report {
        self.0.village = village.into();
        self.0.location = location.into();
        self
    }
    pub fn with_evidence(mut self, refs: Vec<String>) -> Report {
        self.0.evidence_refs = refs;
        self
    }
    /// The caller's request id: a report repeated under it makes one case.
    pub fn under_request_id(mut self, id: &str) -> Report {
        self.0.request_id = id.into();
        self
    }
    /// When the violation was found.
    pub fn found_at(mut self, at: prost_types::Timestamp) -> Report {
        self.0.found_at = Some(at);
        self
    }
    /// A complex case (案情复杂), which the joint meeting discusses.
    pub fn complex(mut self) -> Report {
        self.0.complex = true;
        self
    }
    /// The officer's own choice of path, overriding the triage's, with its reason.
    pub fn triage_override(mut self, o: brigade::TriageOverride) -> Report {
        self.0.triage_override = Some(o);
        self
    }
    /// The report as the brigade's API takes it.
    pub fn request(&self) -> brigade::ReportCaseRequest {
        self.0.clone()
    }
}

impl From<Report> for brigade::ReportCaseRequest {
    fn from(r: Report) -> Self {
        r.0
    }
}

/// A brigade officer of a town (wang.wu).
pub struct BrigadeOfficer<'h> {
    hub: &'h TestHub,
    pub who: As,
}

impl BrigadeOfficer<'_> {
    /// Files the report; the case as triaged.
    pub async fn report(&self, report: Report) -> Result<brigade::Case, Status> {
        let reply = self
            .hub
            .brigade
            .clone()
            .report_case(self.who.req(report.into()))
            .await?;
        Ok(reply.into_inner().case.expect("a reported case"))
    }

    /// The case with its history.
    pub async fn case(&self, case_id: &str) -> Result<brigade::GetCaseResponse, Status> {
        let reply = self
            .hub
            .brigade
            .clone()
            .get_case(self.who.req(brigade::GetCaseRequest {
                case_id: case_id.into(),
            }))
            .await?;
        Ok(reply.into_inner())
    }

    /// Waits until the case reaches `status` (another service's answer moves it there).
    pub async fn case_when(&self, case_id: &str, status: &str) -> brigade::GetCaseResponse {
        eventually(&format!("case {case_id} to be {status}"), WAIT, || async {
            let got = self.case(case_id).await.ok()?;
            (got.case.as_ref()?.status == status).then_some(got)
        })
        .await
    }

    /// Proposes the decision that concludes an in-scope case, after the steps the law orders
    /// before a penalty ([`hear_before_deciding`]).
    pub async fn conclude(
        &self,
        case_id: &str,
        outcome: ev::Outcome,
    ) -> Result<brigade::Case, Status> {
        hear_before_deciding(&self.hub.brigade, &self.who, case_id, &outcome).await?;
        self.conclude_only(case_id, outcome).await
    }

    /// Proposes the decision as it is, without recording any step of the procedure first.
    pub async fn conclude_only(
        &self,
        case_id: &str,
        outcome: ev::Outcome,
    ) -> Result<brigade::Case, Status> {
        let reply = self
            .hub
            .brigade
            .clone()
            .conclude_case(self.who.req(brigade::ConcludeCaseRequest {
                case_id: case_id.into(),
                outcome: Some(outcome),
                ..Default::default()
            }))
            .await?;
        Ok(reply.into_inner().case.expect("the concluded case"))
    }
}

/// Whether `o` is an administrative penalty, which the procedure precedes.
pub fn is_penalty(o: &ev::Outcome) -> bool {
    matches!(
        o.kind.as_str(),
        "warning" | "fine" | "confiscation" | "demolition"
    ) || o.fine_fen > 0
        || !o.confiscated.is_empty()
}

/// The steps the law orders before a penalty, as an officer records them: the prior notice of
/// `outcome` (行政处罚法 第四十四条), the party's waiver of statement and defence, and of the
/// hearing (which ends its window at once where one is due). Nothing for other outcomes.
pub async fn hear_before_deciding(
    brigade: &liandong_proto::brigade::v1::brigade_service_client::BrigadeServiceClient<
        tonic::transport::Channel,
    >,
    who: &As,
    case_id: &str,
    outcome: &ev::Outcome,
) -> Result<(), Status> {
    if !is_penalty(outcome) {
        return Ok(());
    }
    for (kind, note, intended) in [
        ("notice", "送达行政处罚事先告知书", Some(outcome.clone())),
        ("statement_waived", "当事人书面表示放弃陈述申辩", None),
        ("hearing_waived", "当事人书面表示放弃听证", None),
    ] {
        brigade
            .clone()
            .record_case_action(who.req(brigade::RecordCaseActionRequest {
                case_id: case_id.into(),
                kind: kind.into(),
                note: note.into(),
                intended,
                ..Default::default()
            }))
            .await?;
    }
    Ok(())
}

/// The brigade's captain of a town (li.si).
pub struct Captain<'h> {
    hub: &'h TestHub,
    pub who: As,
}

impl Captain<'_> {
    /// Records the heads' collective discussion (集体讨论, 行政处罚法 第五十七条) that decides a
    /// major decision its legal review approved.
    pub async fn discuss(&self, case_id: &str) -> Result<brigade::Case, Status> {
        let reply = self
            .hub
            .brigade
            .clone()
            .record_case_action(self.who.req(brigade::RecordCaseActionRequest {
                case_id: case_id.into(),
                kind: "collective_discussion".into(),
                note: "经负责人集体讨论，同意法制审核意见".into(),
                participants: vec!["镇长".into(), "分管副镇长".into()],
                ..Default::default()
            }))
            .await?;
        Ok(reply.into_inner().case.expect("the discussed case"))
    }

    /// Assigns the case to officers (at least two by law; the tests' own choice otherwise).
    pub async fn assign(&self, case_id: &str, officers: &[&str]) -> Result<brigade::Case, Status> {
        let reply = self
            .hub
            .brigade
            .clone()
            .assign_case(self.who.req(brigade::AssignCaseRequest {
                case_id: case_id.into(),
                officers: officers.iter().map(|o| (*o).to_owned()).collect(),
            }))
            .await?;
        Ok(reply.into_inner().case.expect("the assigned case"))
    }
}

/// A county department's dispatcher (sun.diaodu), who receives its referrals.
pub struct Dispatcher<'h> {
    hub: &'h TestHub,
    pub department: &'static str,
    pub who: As,
}

impl Dispatcher<'_> {
    /// The department's inbox, of referrals in `status` (all: empty).
    pub async fn inbox(&self, status: &str) -> Result<Vec<county::Referral>, Status> {
        let reply = self
            .hub
            .county
            .clone()
            .list_inbox(self.who.req(county::ListInboxRequest {
                department: self.department.into(),
                status: status.into(),
                town: String::new(),
                page_size: 0,
            }))
            .await?;
        Ok(reply.into_inner().referrals)
    }

    /// Waits until the referral of the brigade's case `case_id` is in the inbox.
    pub async fn referral_of(&self, case_id: &str) -> county::Referral {
        self.referral_in("", case_id).await
    }

    /// Waits until the referral of the brigade's case `case_id` is in the inbox in `status`
    /// (any: empty).
    pub async fn referral_in(&self, status: &str, case_id: &str) -> county::Referral {
        eventually(
            &format!("the referral of {case_id} in {}'s inbox", self.department),
            WAIT,
            || async {
                self.inbox(status)
                    .await
                    .ok()?
                    .into_iter()
                    .find(|r| r.facts.as_ref().is_some_and(|f| f.case_id == case_id))
            },
        )
        .await
    }

    /// Signs for the referral (签收).
    pub async fn sign_for(&self, r: &county::Referral) -> Result<county::Referral, Status> {
        let reply = self
            .hub
            .county
            .clone()
            .sign_for_referral(self.who.req(county::SignForReferralRequest {
                referral_id: r.referral_id.clone(),
            }))
            .await?;
        Ok(reply.into_inner().referral.expect("the referral"))
    }

    /// Accepts it as the department's case (受理).
    pub async fn accept(&self, r: &county::Referral) -> Result<county::Referral, Status> {
        let reply = self
            .hub
            .county
            .clone()
            .accept_referral(self.who.req(county::AcceptReferralRequest {
                referral_id: r.referral_id.clone(),
            }))
            .await?;
        Ok(reply.into_inner().referral.expect("the referral"))
    }

    /// Assigns its staff to it.
    pub async fn assign(
        &self,
        r: &county::Referral,
        staff: &[&str],
    ) -> Result<county::Referral, Status> {
        let reply = self
            .hub
            .county
            .clone()
            .assign_referral(self.who.req(county::AssignReferralRequest {
                referral_id: r.referral_id.clone(),
                staff: staff.iter().map(|s| (*s).to_owned()).collect(),
            }))
            .await?;
        Ok(reply.into_inner().referral.expect("the referral"))
    }
}

/// A county department's investigator (zhou.diaocha), who handles an accepted referral.
pub struct Investigator<'h> {
    hub: &'h TestHub,
    pub who: As,
}

impl Investigator<'_> {
    /// Concludes the referral with the department's decision (a major one waits for its legal
    /// office).
    pub async fn conclude(
        &self,
        r: &county::Referral,
        outcome: ev::Outcome,
    ) -> Result<county::Referral, Status> {
        let reply = self
            .hub
            .county
            .clone()
            .conclude_referral(self.who.req(county::ConcludeReferralRequest {
                referral_id: r.referral_id.clone(),
                outcome: Some(outcome),
            }))
            .await?;
        Ok(reply.into_inner().referral.expect("the referral"))
    }
}

/// A member of a town's joint meeting (联席会议): its chair (zhao.zhuxi) or another member
/// (qian.weiyuan). Each may attempt any of the meeting's acts; the board decides who may.
pub struct BoardMember<'h> {
    hub: &'h TestHub,
    town: &'static str,
    pub who: As,
}

impl BoardMember<'_> {
    /// Gives an opinion on an agenda item.
    pub async fn opine(&self, item_id: &str, opinion: &str) -> Result<board::AgendaItem, Status> {
        let reply = self
            .hub
            .board
            .clone()
            .record_opinion(self.who.req(board::RecordOpinionRequest {
                item_id: item_id.into(),
                opinion: opinion.into(),
            }))
            .await?;
        Ok(reply.into_inner().item.expect("the agenda item"))
    }

    /// Records a meeting held with the chair and one member, on `items`.
    pub async fn record_meeting(
        &self,
        items: &[&str],
        notes: &str,
    ) -> Result<board::Meeting, Status> {
        let reply = self
            .hub
            .board
            .clone()
            .record_meeting(self.who.req(board::RecordMeetingRequest {
                town: self.town.into(),
                held_at: Some(prost_types::Timestamp {
                    seconds: 1_780_000_000,
                    nanos: 0,
                }),
                attendees: vec!["zhao.zhuxi".into(), "qian.weiyuan".into()],
                item_ids: items.iter().map(|i| (*i).to_owned()).collect(),
                notes: notes.into(),
            }))
            .await?;
        Ok(reply.into_inner().meeting.expect("the meeting"))
    }

    /// Approves a joint case: who leads, who cooperates, and how, decided at `meeting_id` (or
    /// between meetings: empty).
    pub async fn approve_joint(
        &self,
        item_id: &str,
        lead: &str,
        cooperating: &[&str],
        instructions: &str,
        meeting_id: &str,
    ) -> Result<board::AgendaItem, Status> {
        let reply = self
            .hub
            .board
            .clone()
            .approve_joint(self.who.req(board::ApproveJointRequest {
                item_id: item_id.into(),
                lead_department: lead.into(),
                cooperating_departments: cooperating.iter().map(|d| (*d).to_owned()).collect(),
                instructions: instructions.into(),
                meeting_id: meeting_id.into(),
            }))
            .await?;
        Ok(reply.into_inner().item.expect("the agenda item"))
    }
}

impl TestHub {
    /// The chair of `town`'s joint meeting.
    pub fn board_chair(&self, town: &'static str) -> BoardMember<'_> {
        BoardMember {
            hub: self,
            town,
            who: As::board_chair(town),
        }
    }
    /// A member of `town`'s joint meeting who is not its chair.
    pub fn board_member(&self, town: &'static str) -> BoardMember<'_> {
        BoardMember {
            hub: self,
            town,
            who: As::board_member(town),
        }
    }
    /// A brigade officer of `town`.
    pub fn brigade_officer(&self, town: &'static str) -> BrigadeOfficer<'_> {
        BrigadeOfficer {
            hub: self,
            who: As::brigade_officer(town),
        }
    }
    /// The brigade's captain in `town`.
    pub fn captain(&self, town: &'static str) -> Captain<'_> {
        Captain {
            hub: self,
            who: As::brigade_captain(town),
        }
    }
    /// The dispatcher of a county department (`forestry`, `market` …).
    pub fn dispatcher(&self, department: &'static str) -> Dispatcher<'_> {
        Dispatcher {
            hub: self,
            department,
            who: As::dispatcher(department),
        }
    }
    /// An investigator of a county department.
    pub fn investigator(&self, department: &'static str) -> Investigator<'_> {
        Investigator {
            hub: self,
            who: As::investigator(department),
        }
    }
}

/// A fine of `fen` (1/100 yuan) with its summary.
pub fn fine(fen: i64, summary: &str) -> ev::Outcome {
    ev::Outcome {
        kind: "fine".into(),
        fine_fen: fen,
        summary: summary.into(),
        ..Default::default()
    }
}
