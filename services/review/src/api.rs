//! The review service's gRPC API: the reviewer's worklist, a review with its materials and
//! rounds, the answers that decide it, and the extension of its time limit.

use std::sync::Arc;

use liandong_bus::{Change, NewEvent, Outbox};
use liandong_config::clock::SharedClock;
use liandong_domain::auth::{Action, Actor, Resource, permits, permits_department_wide};
use liandong_domain::calendar::Calendar;
use liandong_domain::certificates::{Certificate, check_valid};
use liandong_domain::ids::{DepartmentCode, OfficerId, TownCode, TownScopedId};
use liandong_domain::limits::{Limits, Validator};
use liandong_domain::review::{
    EXTENSION_WORKING_DAYS, REVIEW_WORKING_DAYS, ReviewAnswer, ReviewCheck, ReviewDecision,
    ReviewError, ReviewStatus,
};
use liandong_domain::towns::Towns;
use liandong_grpc::{ApiError, actor, actor_label, actor_to_event, page_size};
use liandong_proto::events::v1 as ev;
use liandong_proto::review::v1::public_registry_service_server::PublicRegistryService;
use liandong_proto::review::v1::{self as pb, review_service_server::ReviewService};
use liandong_proto::time::{from_ts, to_ts};
use liandong_runtime::Runtime;
use liandong_store::Db;
use liandong_store::typed::{Json, Nullable};
use liandong_topology::AnyEvent;
use tonic::{Request, Response, Status};

use crate::store::{self, CertRow, ReviewRow, RoundRow, StoredAnswer};

pub struct Api {
    db: Db,
    outbox: Outbox,
    clock: SharedClock,
    calendar: Arc<Calendar>,
    limits: Limits,
    towns: Arc<Towns>,
}

impl Api {
    pub fn new(rt: &Runtime) -> Self {
        Self {
            db: rt.db.clone(),
            outbox: rt.outbox.clone(),
            clock: rt.clock.clone(),
            calendar: rt.calendar.clone(),
            limits: rt.cfg.limits.clone(),
            towns: rt.towns.clone(),
        }
    }
}

fn answers_to_pb(answers: &[StoredAnswer]) -> Vec<ev::ReviewAnswer> {
    answers
        .iter()
        .map(|a| ev::ReviewAnswer {
            check: a.check.as_str().into(),
            passed: a.passed,
            note: a.note.clone(),
        })
        .collect()
}

fn review_error(e: ReviewError) -> ApiError {
    match e {
        ReviewError::NotPending(_) => ApiError::FailedPrecondition(e.to_string()),
        ReviewError::Incomplete { .. } => ApiError::field("answers", e.to_string()),
        ReviewError::FailedChecks(_) | ReviewError::NothingToCorrect => {
            ApiError::field("decision", e.to_string())
        }
    }
}

fn parse_review_id(id: &str) -> Result<(), ApiError> {
    TownScopedId::parse(id)
        .map(|_| ())
        .map_err(|e| ApiError::field("review_id", e.to_string()))
}

/// Only the decision's own reviewer: the town's judicial office for the town's decisions, the
/// department's legal office for a department's and for those the town makes in its name.
fn permit(actor: &Actor, row: &ReviewRow) -> Result<(), ApiError> {
    if row.office().is_empty() {
        let town = TownCode::parse(&row.town).map_err(|e| ApiError::Internal(e.into()))?;
        permits(
            actor,
            Action::ReviewDecision,
            &Resource {
                town,
                department: None,
            },
        )?;
    } else {
        let d = DepartmentCode::parse(row.office()).map_err(|e| ApiError::Internal(e.into()))?;
        permits_department_wide(actor, Action::ReviewDecision, &d)?;
    }
    Ok(())
}

fn cert_of(row: &CertRow) -> Certificate {
    Certificate {
        number: row.certificate_no.clone(),
        officer: row.officer.clone(),
        issuing_authority: row.issuing_authority.clone(),
        valid_from: row.valid_from.0,
        valid_until: row.valid_until.0,
        status: row.status,
    }
}

impl Api {
    /// Whether each deciding officer held a valid certificate when the decision was proposed,
    /// by the copy of the agency's registry this service keeps — never by what was typed in.
    async fn qualification(
        &self,
        row: &ReviewRow,
        materials: &ev::ReviewRequested,
    ) -> Result<Vec<pb::OfficerQualification>, ApiError> {
        let agency = if row.department.is_empty() {
            &row.town
        } else {
            &row.department
        };
        let at = from_ts(materials.decided_at.as_ref()).unwrap_or(row.requested_at);
        let mut out = Vec::new();
        for o in &materials.officers {
            let cert = store::certificate(&self.db, agency, &o.officer)
                .await?
                .as_ref()
                .map(cert_of);
            let officer = OfficerId::parse(&o.officer).map_err(|e| ApiError::Internal(e.into()))?;
            let verdict = match &cert {
                // Never seen in the copy this service keeps: the registration may still be on
                // its way (the copy is fed by events), so the reviewer is told what is known.
                None => Err(format!(
                    "officer {} is not (yet) in the copy of {agency}'s registry this review \
                     service holds: no enforcement certificate known",
                    o.officer
                )),
                Some(c) if !o.certificate_no.is_empty() && c.number != o.certificate_no => {
                    Err(format!(
                        "the decision names certificate {} of {}, the registry holds {}",
                        o.certificate_no, o.officer, c.number
                    ))
                }
                _ => check_valid(&officer, cert.as_ref(), at).map_err(|d| d.reason),
            };
            out.push(pb::OfficerQualification {
                officer: o.officer.clone(),
                certificate_no: cert.map(|c| c.number).unwrap_or_default(),
                qualified: verdict.is_ok(),
                reason: verdict.err().unwrap_or_default(),
            });
        }
        Ok(out)
    }

    /// The body the decision under review is made in the name of. A town's decision (one its
    /// judicial office reviews) is its government's, named by the registry, whatever name the
    /// request carried (the brigade has sent the town's code, "330782101 人民政府"); a
    /// department's decision, and a town's made in a department's name, keep the name given.
    fn deciding_body(&self, row: &ReviewRow) -> String {
        if row.office().is_empty() {
            self.towns.government_or_code(&row.town)
        } else {
            row.decided_in_name_of.clone()
        }
    }

    async fn to_pb(&self, row: &ReviewRow) -> Result<pb::Review, ApiError> {
        let rounds = store::rounds(&self.db, &row.review_id).await?;
        // A review and its round are stored together: one without the other is a broken row.
        let materials = rounds
            .iter()
            .find(|r| r.round == row.round)
            .map(|r| r.materials.0.clone())
            .ok_or_else(|| missing_round(row))?;
        let qualification = self.qualification(row, &materials).await?;
        Ok(pb::Review {
            review_id: row.review_id.clone(),
            town: row.town.clone(),
            department: row.department.clone(),
            case_id: row.case_id.clone(),
            decided_in_name_of: self.deciding_body(row),
            status: row.status.as_str().into(),
            round: row.round as u32,
            requested_at: Some(to_ts(row.requested_at)),
            due_at: Some(to_ts(row.due_at)),
            due_last_day: row.due_last_day.clone(),
            extended: row.extended,
            extension_reason: row.extension_reason.clone(),
            extended_at: row.extended_at.map(to_ts),
            materials: Some(materials),
            qualification,
            rounds: rounds.iter().map(round_to_pb).collect(),
        })
    }

    async fn answer(
        &self,
        actor: &Actor,
        r: pb::AnswerReviewRequest,
    ) -> Result<pb::Review, ApiError> {
        let mut v = Validator::new();
        v.check("review_id", TownScopedId::parse(&r.review_id));
        let decision = v.check("decision", ReviewDecision::parse(&r.decision));
        v.max_items("answers", r.answers.len(), 2 * ReviewCheck::ALL.len());
        let mut given = Vec::new();
        for (i, a) in r.answers.iter().enumerate() {
            let check = v.check(format!("answers[{i}].check"), ReviewCheck::parse(&a.check));
            v.text(
                format!("answers[{i}].note"),
                &a.note,
                self.limits.reason_chars,
                true,
            );
            if let Some(check) = check {
                given.push(ReviewAnswer {
                    check,
                    passed: a.passed,
                    note: a.note.trim().to_owned(),
                });
            }
        }
        v.text("note", &r.note, self.limits.description_chars, false);
        v.finish().map_err(ApiError::Invalid)?;
        let decision = decision.expect("checked");
        let now = self.clock.now();
        let mut tx = Change::begin(&self.db, &self.outbox).await?;
        let mut row = store::review_in_tx(&mut tx, &r.review_id)
            .await?
            .ok_or_else(|| ApiError::NotFound(format!("no review {}", r.review_id)))?;
        permit(actor, &row)?;
        let status = row.status;
        let mut round = store::round_in_tx(&mut tx, &row.review_id, row.round)
            .await?
            .ok_or_else(|| missing_round(&row))?;
        let materials = round.materials.0.clone();
        // The "qualified officers" check is the registry's to answer; the reviewer's own
        // answer to it only adds a note.
        let qualification = self.qualification(&row, &materials).await?;
        let qualified = !qualification.is_empty() && qualification.iter().all(|q| q.qualified);
        let mut note = if qualification.is_empty() {
            "材料未列明执法人员".to_owned()
        } else {
            qualification
                .iter()
                .map(|q| {
                    if q.qualified {
                        format!("{} 持有效执法证 {}", q.officer, q.certificate_no)
                    } else {
                        q.reason.clone()
                    }
                })
                .collect::<Vec<_>>()
                .join("；")
        };
        for a in given
            .iter()
            .filter(|a| a.check == ReviewCheck::QualifiedOfficers)
        {
            note.push_str(&format!("；审核意见：{}", a.note));
        }
        let mut answers: Vec<ReviewAnswer> = given
            .into_iter()
            .filter(|a| a.check != ReviewCheck::QualifiedOfficers)
            .collect();
        answers.push(ReviewAnswer {
            check: ReviewCheck::QualifiedOfficers,
            passed: qualified,
            note,
        });
        answers.sort_by_key(|a| a.check);
        let next = status.answer(&answers, decision).map_err(review_error)?;
        let stored: Vec<StoredAnswer> = answers
            .iter()
            .map(|a| StoredAnswer {
                check: a.check,
                passed: a.passed,
                note: a.note.clone(),
            })
            .collect();
        let who = actor_label(actor);
        round.answers = Json(stored);
        round.decision = Nullable(Some(decision));
        round.status = next;
        round.note = r.note.trim().into();
        round.decided_by = who;
        round.decided_at = Some(now);
        store::upsert_round(&mut tx, &round).await?;
        row.status = next;
        row.updated_at = now;
        store::upsert_review(&mut tx, &row).await?;
        let decided = ev::ReviewDecided {
            review_id: row.review_id.clone(),
            case_id: row.case_id.clone(),
            round: row.round as u32,
            status: next.as_str().into(),
            answers: answers_to_pb(&round.answers),
            note: round.note.clone(),
        };
        let event = match next {
            ReviewStatus::Approved => AnyEvent::ReviewReviewApproved(decided),
            ReviewStatus::Returned => AnyEvent::ReviewReviewReturned(decided),
            _ => AnyEvent::ReviewCrimeTransferFound(decided),
        };
        let department = (!row.department.is_empty()).then_some(row.department.as_str());
        // The deciding agency waits for the answer: re-sent until its receipt comes back.
        self.outbox
            .emit(
                &mut tx,
                now,
                NewEvent {
                    town: &row.town,
                    department,
                    aggregate_id: &row.review_id,
                    actor: Some(actor_to_event(actor)),
                    causation_id: None,
                },
                event,
            )
            .await?;
        tx.commit().await?;
        tracing::info!(review_id = %row.review_id, round = row.round, status = next.as_str(), "A review round was decided.");
        self.to_pb(&row).await
    }

    async fn extend(
        &self,
        actor: &Actor,
        r: pb::ExtendReviewRequest,
    ) -> Result<pb::Review, ApiError> {
        let mut v = Validator::new();
        v.check("review_id", TownScopedId::parse(&r.review_id));
        v.text("reason", &r.reason, self.limits.reason_chars, true);
        v.finish().map_err(ApiError::Invalid)?;
        let now = self.clock.now();
        let mut tx = Change::begin(&self.db, &self.outbox).await?;
        let mut row = store::review_in_tx(&mut tx, &r.review_id)
            .await?
            .ok_or_else(|| ApiError::NotFound(format!("no review {}", r.review_id)))?;
        permit(actor, &row)?;
        if row.status != ReviewStatus::Pending {
            return Err(ApiError::FailedPrecondition(format!(
                "the review is {}: only a pending review's time limit can be extended",
                row.status
            )));
        }
        if row.extended {
            return Err(ApiError::FailedPrecondition(
                "the review's time limit was already extended once".into(),
            ));
        }
        let due = self.calendar.add_working_days(
            row.requested_at,
            REVIEW_WORKING_DAYS + EXTENSION_WORKING_DAYS,
        );
        liandong_runtime::note_deadline(&due, "legal review time limit (extended)");
        row.due_at = due.due;
        row.due_last_day = due.last_day.to_string();
        row.extended = true;
        row.extension_reason = r.reason.trim().into();
        row.extended_at = Some(now);
        row.updated_at = now;
        store::upsert_review(&mut tx, &row).await?;
        if let Some(mut round) = store::round_in_tx(&mut tx, &row.review_id, row.round).await? {
            round.due_at = due.due;
            store::upsert_round(&mut tx, &round).await?;
        }
        tx.commit().await?;
        self.to_pb(&row).await
    }

    async fn list(
        &self,
        actor: &Actor,
        r: pb::ListReviewsRequest,
    ) -> Result<Vec<pb::Review>, ApiError> {
        let mut v = Validator::new();
        let town = if r.town.is_empty() && !r.department.is_empty() {
            None
        } else {
            v.check("town", TownCode::parse(&r.town))
        };
        let department = if r.department.is_empty() {
            None
        } else {
            v.check("department", DepartmentCode::parse(&r.department))
        };
        let status = if r.status.is_empty() {
            None
        } else {
            v.check("status", ReviewStatus::parse(&r.status))
        };
        v.finish().map_err(ApiError::Invalid)?;
        match (&town, &department) {
            (_, Some(d)) => permits_department_wide(actor, Action::ReviewDecision, d)?,
            (Some(t), None) => permits(
                actor,
                Action::ReviewDecision,
                &Resource {
                    town: t.clone(),
                    department: None,
                },
            )?,
            (None, None) => unreachable!("a town is required without a department"),
        }
        let limit = page_size(r.page_size, 50, self.limits.page_size_max);
        let rows = store::list(
            &self.db,
            town.as_ref().map(TownCode::as_str),
            department.as_ref().map_or("", DepartmentCode::as_str),
            status,
            limit,
        )
        .await?;
        let mut out = Vec::with_capacity(rows.len());
        for row in &rows {
            // Each review listed carries its case's materials: a read of the case file.
            let read = liandong_access_log::Read {
                rpc: "ListReviews",
                kind: "review",
                id: &row.review_id,
                town: &row.town,
                department: Some(row.department.as_str()).filter(|d| !d.is_empty()),
            };
            liandong_access_log::record(&self.db, "review", self.clock.now(), actor, read).await?;
            out.push(self.to_pb(row).await?);
        }
        Ok(out)
    }
}

/// A review whose current round is not stored: the two are written together, so the row is
/// broken.
fn missing_round(row: &ReviewRow) -> ApiError {
    ApiError::Internal(anyhow::anyhow!(
        "review {} has no stored round {}",
        row.review_id,
        row.round
    ))
}

fn round_to_pb(r: &RoundRow) -> pb::ReviewRound {
    pb::ReviewRound {
        round: r.round as u32,
        requested_at: Some(to_ts(r.requested_at)),
        due_at: Some(to_ts(r.due_at)),
        proposed: r.materials.proposed.clone(),
        answers: answers_to_pb(&r.answers),
        decision: r.decision.map_or("", ReviewDecision::as_str).into(),
        status: r.status.as_str().into(),
        note: r.note.clone(),
        decided_by: r.decided_by.clone(),
        decided_at: r.decided_at.map(to_ts),
    }
}

#[tonic::async_trait]
impl ReviewService for Api {
    #[tracing::instrument(skip_all, err(level = "info"))]
    async fn list_reviews(
        &self,
        req: Request<pb::ListReviewsRequest>,
    ) -> Result<Response<pb::ListReviewsResponse>, Status> {
        let actor = actor(&req)?;
        let reviews = self.list(&actor, req.into_inner()).await?;
        Ok(Response::new(pb::ListReviewsResponse { reviews }))
    }

    #[tracing::instrument(skip_all, fields(review_id = %req.get_ref().review_id), err(level = "info"))]
    async fn get_review(
        &self,
        req: Request<pb::GetReviewRequest>,
    ) -> Result<Response<pb::GetReviewResponse>, Status> {
        let actor = actor(&req)?;
        let id = req.into_inner().review_id;
        parse_review_id(&id)?;
        let row = store::review(&self.db, &id)
            .await
            .map_err(ApiError::from)?
            .ok_or_else(|| ApiError::NotFound(format!("no review {id}")))?;
        permit(&actor, &row)?;
        // A review's materials are the case file: the read is logged.
        let read = liandong_access_log::Read {
            rpc: "GetReview",
            kind: "review",
            id: &id,
            town: &row.town,
            department: Some(row.department.as_str()).filter(|d| !d.is_empty()),
        };
        liandong_access_log::record(&self.db, "review", self.clock.now(), &actor, read).await?;
        Ok(Response::new(pb::GetReviewResponse {
            review: Some(self.to_pb(&row).await?),
        }))
    }

    #[tracing::instrument(skip_all, fields(review_id = %req.get_ref().review_id), err(level = "info"))]
    async fn answer_review(
        &self,
        req: Request<pb::AnswerReviewRequest>,
    ) -> Result<Response<pb::AnswerReviewResponse>, Status> {
        let actor = actor(&req)?;
        let review = self.answer(&actor, req.into_inner()).await?;
        Ok(Response::new(pb::AnswerReviewResponse {
            review: Some(review),
        }))
    }

    #[tracing::instrument(skip_all, fields(review_id = %req.get_ref().review_id), err(level = "info"))]
    async fn extend_review(
        &self,
        req: Request<pb::ExtendReviewRequest>,
    ) -> Result<Response<pb::ExtendReviewResponse>, Status> {
        let actor = actor(&req)?;
        let review = self.extend(&actor, req.into_inner()).await?;
        Ok(Response::new(pb::ExtendReviewResponse {
            review: Some(review),
        }))
    }
}

impl Api {
    /// The officers whose certificate is valid now (active, within its dates), of `agency` (a
    /// town's or a department's code) or of every agency: the public list (事前公开).
    async fn certified(&self, agency: &str) -> Result<Vec<pb::CertifiedOfficer>, ApiError> {
        let agency = agency.trim();
        if !agency.is_empty()
            && TownCode::parse(agency).is_err()
            && DepartmentCode::parse(agency).is_err()
        {
            return Err(ApiError::field(
                "agency",
                format!("{agency:?} is neither a town's 9-digit code nor a department's code"),
            ));
        }
        let now = self.clock.now();
        let rows = store::certificates(&self.db, Some(agency)).await?;
        Ok(rows
            .iter()
            .filter(|r| check_valid(&r.officer, Some(&cert_of(r)), now).is_ok())
            .map(|r| pb::CertifiedOfficer {
                agency: r.agency.clone(),
                officer: r.officer.as_str().into(),
                certificate_no: r.certificate_no.clone(),
                issuing_authority: r.issuing_authority.clone(),
                valid_from: r.valid_from.0.to_string(),
                valid_until: r.valid_until.0.to_string(),
            })
            .collect())
    }
}

#[tonic::async_trait]
impl PublicRegistryService for Api {
    #[tracing::instrument(skip_all, err(level = "info"))]
    async fn list_certified_officers(
        &self,
        req: Request<pb::ListCertifiedOfficersRequest>,
    ) -> Result<Response<pb::ListCertifiedOfficersResponse>, Status> {
        let officers = self.certified(&req.get_ref().agency).await?;
        Ok(Response::new(pb::ListCertifiedOfficersResponse {
            officers,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn review_errors_name_the_field_to_fix() {
        let field = |e: ReviewError| match review_error(e) {
            ApiError::Invalid(v) => v[0].field.clone(),
            ApiError::FailedPrecondition(_) => "precondition".into(),
            other => panic!("{other}"),
        };
        assert_eq!(field(ReviewError::NothingToCorrect), "decision");
        assert_eq!(
            field(ReviewError::FailedChecks("facts_clear".into())),
            "decision"
        );
        assert_eq!(
            field(ReviewError::Incomplete {
                missing: "lawful_body".into(),
                repeated: "none".into()
            }),
            "answers"
        );
        assert_eq!(
            field(ReviewError::NotPending(ReviewStatus::Approved)),
            "precondition"
        );
    }

    #[test]
    fn answers_round_trip_through_their_stored_form() {
        let json = r#"[{"check":"facts_clear","passed":false,"note":"事实不清"}]"#;
        let stored = Json::<Vec<StoredAnswer>>::try_from(json.to_owned()).unwrap();
        assert_eq!(stored.text(), json);
        let a = answers_to_pb(&stored);
        assert_eq!(a.len(), 1);
        assert_eq!((a[0].check.as_str(), a[0].passed), ("facts_clear", false));
        let unknown = r#"[{"check":"looks_fine","passed":true,"note":""}]"#;
        assert!(Json::<Vec<StoredAnswer>>::try_from(unknown.to_owned()).is_err());
        assert!(Json::<Vec<StoredAnswer>>::try_from("not json".to_owned()).is_err());
    }
}
