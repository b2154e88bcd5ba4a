//! What the board does with others' events: joint cases and returned referrals go onto the
//! town's agenda, and approved joint cases follow the lead's decision, the tasks and execution.

use chrono::{DateTime, Utc};
use liandong_bus::{Handler, HandlerError};
use liandong_domain::agenda::{ItemKind, ItemStatus};
use liandong_domain::state::{DisputeStatus, JointAction, JointStatus};
use liandong_proto::events::v1 as ev;
use liandong_proto::time::from_ts;
use liandong_store::Tx;
use liandong_store::typed::{Json, Nullable, Proto};
use liandong_topology::inbound::board::{FromBrigade, FromCounty};

use crate::store::{self, ItemRow};

/// Applies what the brigade and the departments send the joint meeting: joint cases and their
/// execution, returned referrals (competence disputes), the lead's entrusted decision and the
/// cooperating tasks done, the clocks that ran out or were met late and the extension requests
/// (督办, 延期), patrols and persuasion turnouts, and call-backs (回访).
#[derive(Debug, Clone, Copy)]
pub struct Events {
    /// Returns per case before the case goes on the chair's supervision list.
    pub max_returns_per_case: u32,
}

#[deny(clippy::wildcard_enum_match_arm)]
impl Handler<FromBrigade> for Events {
    async fn handle(
        &self,
        tx: &mut Tx,
        env: &ev::Envelope,
        event: FromBrigade,
        now: DateTime<Utc>,
    ) -> Result<(), HandlerError> {
        match event {
            FromBrigade::JointSubmitted(e) => joint_submitted(tx, env, e, now).await,
            FromBrigade::JointExecuted(e) => joint_executed(tx, env, e, now).await,
            FromBrigade::CallbackRecorded(e) => crate::satisfaction::callback(tx, env, e).await,
            FromBrigade::PatrolRecorded(e) => {
                let at = from_ts(e.started_at.as_ref()).unwrap_or(now);
                crate::supervision::count_activity(tx, env, at, 1, 0, 0).await
            }
            FromBrigade::PersuasionRecorded(e) => {
                let at = from_ts(e.at.as_ref()).unwrap_or(now);
                crate::supervision::count_activity(tx, env, at, 0, 1, i64::from(e.persons)).await
            }
            FromBrigade::ObligationOverdue(e) => crate::supervision::overdue(tx, env, e, now).await,
            FromBrigade::ObligationMet(e) => crate::supervision::met(tx, e, now).await,
        }
    }
}

#[deny(clippy::wildcard_enum_match_arm)]
impl Handler<FromCounty> for Events {
    async fn handle(
        &self,
        tx: &mut Tx,
        env: &ev::Envelope,
        event: FromCounty,
        now: DateTime<Utc>,
    ) -> Result<(), HandlerError> {
        match event {
            FromCounty::ReferralReturned(e) => {
                referral_returned(tx, env, e, now, self.max_returns_per_case).await
            }
            FromCounty::EntrustedDecisionRecorded(e) => entrusted_decision(tx, env, e, now).await,
            FromCounty::EntrustedDecisionChanged(e) => {
                entrusted_decision_changed(tx, env, e, now).await
            }
            FromCounty::TaskCompleted(e) => task_completed(tx, env, e, now).await,
            FromCounty::ObligationOverdue(e) => crate::supervision::overdue(tx, env, e, now).await,
            FromCounty::ObligationMet(e) => crate::supervision::met(tx, e, now).await,
            FromCounty::ExtensionRequested(e) => {
                crate::supervision::extension_requested(tx, env, e, now).await
            }
        }
    }
}

async fn joint_submitted(
    tx: &mut Tx,
    env: &ev::Envelope,
    e: ev::JointSubmitted,
    now: DateTime<Utc>,
) -> Result<(), HandlerError> {
    let facts = e.facts.ok_or_else(|| {
        HandlerError::Reject("a joint submission without the case's facts".into())
    })?;
    // One agenda item per submission: a case sent back and submitted again is a new item.
    // Every id carries its town: `<town>-<the submission's event id>`.
    let item = ItemRow::on_agenda(
        format!("{}-{}", env.town, env.event_id),
        env.town.clone(),
        JointStatus::OnAgenda.into(),
        facts,
        e.departments,
        now,
    );
    store::insert(tx, &item).await?;
    // The meeting's time limit runs from the submission (time_limits: joint_decision).
    let submitted_at = from_ts(env.occurred_at.as_ref()).unwrap_or(now);
    crate::clocks::start(tx, &item.item_id, &item.town, &item.case_id, submitted_at).await?;
    Ok(())
}

/// The brigade executed the decision of an approved joint case: the item records the execution
/// and closes, as the joint-case machine has it.
async fn joint_executed(
    tx: &mut Tx,
    env: &ev::Envelope,
    e: ev::JointExecuted,
    now: DateTime<Utc>,
) -> Result<(), HandlerError> {
    let item = if e.item_id.is_empty() {
        store::approved_item_of_case(tx, &env.town, &e.case_id).await?
    } else {
        store::get_in_tx(tx, &e.item_id).await?
    };
    let mut item = item.ok_or_else(|| {
        HandlerError::Reject(format!(
            "no approved joint case item {:?} for case {}",
            e.item_id, e.case_id
        ))
    })?;
    check_joint_item(&item, env, &e.case_id)?;
    let from = status(&item)?;
    match from {
        // Each case is executed once; a second report under another event id changes nothing.
        JointStatus::Closed => return Ok(()),
        // The lead's decision comes from the county's stream and the execution from the
        // brigade's, so the execution may overtake it by a moment: wait for it.
        JointStatus::Approved => {
            return Err(HandlerError::Retry(format!(
                "item {} has no entrusted decision yet",
                item.item_id
            )));
        }
        _ => {}
    }
    let to = from
        .next(JointAction::RecordExecution)
        .and_then(|s| s.next(JointAction::Close))
        .map_err(|e| HandlerError::Reject(e.to_string()))?;
    item.status = to.into();
    item.executed_at = Some(from_ts(env.occurred_at.as_ref()).unwrap_or(now));
    item.updated_at = now;
    save(tx, &item, from).await
}

/// A returned referral is a competence dispute for the chair to settle.
async fn referral_returned(
    tx: &mut Tx,
    env: &ev::Envelope,
    e: ev::ReferralReturned,
    now: DateTime<Utc>,
    max_returns_per_case: u32,
) -> Result<(), HandlerError> {
    let facts = ev::CaseFacts {
        case_id: e.case_id.clone(),
        town: env.town.clone(),
        ..Default::default()
    };
    let item = ItemRow {
        referral_id: Some(e.referral_id.clone()),
        returned_by: Some(env.department.clone()),
        return_reason: Some(e.reason.clone()),
        ..ItemRow::on_agenda(
            format!("{}-{}", env.town, env.event_id),
            env.town.clone(),
            DisputeStatus::Open.into(),
            facts,
            vec![env.department.clone()],
            now,
        )
    };
    store::insert(tx, &item).await?;
    crate::supervision::note_return(
        tx,
        &env.town,
        &e.case_id,
        &env.department,
        &e.referral_id,
        max_returns_per_case,
        now,
    )
    .await?;
    Ok(())
}

/// The lead department decided under entrustment: the item keeps the decision.
async fn entrusted_decision(
    tx: &mut Tx,
    env: &ev::Envelope,
    e: ev::EntrustedDecisionRecorded,
    now: DateTime<Utc>,
) -> Result<(), HandlerError> {
    let mut item = task_item(tx, &e.item_id).await?;
    check_joint_item(&item, env, &e.case_id)?;
    check_lead(&item, sender(&e.department, env))?;
    let from = status(&item)?;
    let to = from
        .next(JointAction::RecordDecision)
        .map_err(|e| HandlerError::Reject(e.to_string()))?;
    item.status = to.into();
    item.entrusted_decision = Nullable(e.decision.map(Proto));
    item.updated_at = now;
    save(tx, &item, from).await
}

/// The lead changed its entrusted decision (变更 / 撤销): the item carries the amended decision,
/// or none after a revocation. Its status stays: the chair's decision on the joint case stands.
async fn entrusted_decision_changed(
    tx: &mut Tx,
    env: &ev::Envelope,
    e: ev::DecisionChanged,
    now: DateTime<Utc>,
) -> Result<(), HandlerError> {
    liandong_domain::decision_change::DecisionChange::parse(&e.change)
        .map_err(|err| HandlerError::Reject(format!("{}: {err}", env.event_type)))?;
    let mut item = task_item(tx, &e.item_id).await?;
    check_joint_item(&item, env, &e.case_id)?;
    check_lead(&item, &env.department)?;
    if item.entrusted_decision.is_none() {
        return Err(HandlerError::Reject(format!(
            "item {} has no entrusted decision to change",
            item.item_id
        )));
    }
    let from = status(&item)?;
    item.entrusted_decision = Nullable(e.outcome.map(Proto));
    item.updated_at = now;
    save(tx, &item, from).await
}

/// A cooperating department completed its task: the item lists it among those done.
async fn task_completed(
    tx: &mut Tx,
    env: &ev::Envelope,
    e: ev::TaskCompleted,
    now: DateTime<Utc>,
) -> Result<(), HandlerError> {
    let mut item = task_item(tx, &e.item_id).await?;
    check_joint_item(&item, env, &e.case_id)?;
    let department = sender(&e.department, env).to_owned();
    if !item.cooperating().contains(&department) {
        return Err(HandlerError::Reject(format!(
            "{department} is not a cooperating department of item {}",
            item.item_id
        )));
    }
    let from = status(&item)?;
    if !matches!(
        from,
        JointStatus::Approved | JointStatus::Decided | JointStatus::Executed | JointStatus::Closed
    ) {
        return Err(HandlerError::Reject(format!(
            "item {} is {from}: it has no tasks",
            item.item_id
        )));
    }
    let mut done = item.completed().to_vec();
    if done.contains(&department) {
        return Ok(());
    }
    done.push(department);
    item.completed_by = Nullable(Some(Json(done)));
    item.updated_at = now;
    save(tx, &item, from).await
}

/// The department an event is from: the payload's, else the subject's.
fn sender<'a>(payload: &'a str, env: &'a ev::Envelope) -> &'a str {
    if payload.is_empty() {
        &env.department
    } else {
        payload
    }
}

async fn task_item(tx: &mut Tx, item_id: &str) -> Result<ItemRow, HandlerError> {
    store::get_in_tx(tx, item_id)
        .await?
        .ok_or_else(|| HandlerError::Reject(format!("no agenda item {item_id:?}")))
}

/// Only the joint case's lead decides under entrustment, and changes that decision.
fn check_lead(item: &ItemRow, department: &str) -> Result<(), HandlerError> {
    if item.lead_department.as_deref() != Some(department) {
        return Err(HandlerError::Reject(format!(
            "{department} is not the lead department of item {}",
            item.item_id
        )));
    }
    Ok(())
}

/// An event about a joint case must name an item of its own town and case.
fn check_joint_item(item: &ItemRow, env: &ev::Envelope, case_id: &str) -> Result<(), HandlerError> {
    if item.town != env.town || item.kind != ItemKind::JointCase || item.case_id != case_id {
        return Err(HandlerError::Reject(format!(
            "item {} is not the joint case {case_id} of town {}",
            item.item_id, env.town
        )));
    }
    Ok(())
}

/// A joint case's status; a dispute's status on a joint-case item is a broken row.
fn status(item: &ItemRow) -> Result<JointStatus, HandlerError> {
    match item.status {
        ItemStatus::Joint(s) => Ok(s),
        other => Err(HandlerError::Reject(format!(
            "agenda item {} is a {} with the status {other}",
            item.item_id, item.kind
        ))),
    }
}

/// Stores the item; a request that changed it meanwhile makes the event wait and try again.
async fn save(tx: &mut Tx, item: &ItemRow, from: JointStatus) -> Result<(), HandlerError> {
    if store::update(tx, item, from.into()).await? {
        Ok(())
    } else {
        Err(HandlerError::Retry(format!(
            "item {} changed while the event was applied",
            item.item_id
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use liandong_bus::{Apply, Route, Typed};
    use liandong_domain::agenda::ChairDecision;
    use liandong_store::Db;
    use liandong_topology::EventKind;
    use prost::Message;

    const TOWN: &str = "330782101";
    const CASE: &str = "330782101-0195b3c0-0000-7000-8000-00000000000c";

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2025, 3, 4, 2, 0, 0).unwrap()
    }

    fn envelope(kind: EventKind, department: &str, payload: impl Message) -> ev::Envelope {
        ev::Envelope {
            event_id: uuid::Uuid::now_v7().to_string(),
            event_type: kind.event_type().into(),
            town: TOWN.into(),
            department: department.into(),
            payload: payload.encode_to_vec(),
            ..Default::default()
        }
    }

    async fn db() -> (Db, std::path::PathBuf) {
        let dir = std::env::temp_dir().join(format!("liandong-board-{}", uuid::Uuid::now_v7()));
        let db = Db::open(None, &dir, "board", 2)
            .await
            .expect("SQLite opens");
        db.migrate(crate::MIGRATIONS).await.expect("migrates");
        (db, dir)
    }

    fn brigade() -> Typed<FromBrigade, Events> {
        Typed::new(Events {
            max_returns_per_case: 2,
        })
    }

    fn county(max_returns_per_case: u32) -> Typed<FromCounty, Events> {
        Typed::new(Events {
            max_returns_per_case,
        })
    }

    /// Applies `env` as the consumer would: routed and decoded as the topology declares.
    async fn apply<A: Apply>(db: &Db, a: A, env: ev::Envelope) -> Result<(), HandlerError> {
        assert!(
            matches!(a.route(&env), Ok(Route::Apply { .. })),
            "{} is routed to the board",
            env.event_type
        );
        let mut tx = db.begin().await.unwrap();
        let r = a.apply(&mut tx, &env, now()).await;
        if r.is_ok() {
            tx.commit().await.unwrap();
        }
        r
    }

    async fn item(db: &Db, id: &str) -> ItemRow {
        store::get(db, id)
            .await
            .unwrap()
            .expect("the item is stored")
    }

    #[tokio::test]
    async fn an_approved_joint_case_follows_the_decision_the_tasks_and_the_execution() {
        let (db, dir) = db().await;
        let submitted = envelope(
            EventKind::BrigadeJointSubmitted,
            "",
            ev::JointSubmitted {
                facts: Some(ev::CaseFacts {
                    case_id: CASE.into(),
                    town: TOWN.into(),
                    ..Default::default()
                }),
                departments: vec!["natural_resources".into(), "forestry".into()],
            },
        );
        let item_id = format!("{TOWN}-{}", submitted.event_id);
        apply(&db, brigade(), submitted).await.unwrap();
        let mut row = item(&db, &item_id).await;
        assert_eq!(row.status, JointStatus::OnAgenda.into());

        // The chair approves (the API's part, done here on the row).
        row.status = JointStatus::Approved.into();
        row.decision = Nullable(Some(ChairDecision::Approved));
        row.lead_department = Some("natural_resources".into());
        row.cooperating_departments = Nullable(Some(Json(vec!["forestry".into()])));
        let mut tx = db.begin().await.unwrap();
        assert!(
            store::update(&mut tx, &row, JointStatus::OnAgenda.into())
                .await
                .unwrap()
        );
        tx.commit().await.unwrap();

        let executed = || {
            envelope(
                EventKind::BrigadeJointExecuted,
                "",
                ev::JointExecuted {
                    case_id: CASE.into(),
                    item_id: item_id.clone(),
                    summary: "已拆除".into(),
                },
            )
        };
        let completed = |department: &str| {
            envelope(
                EventKind::CountyTaskCompleted,
                department,
                ev::TaskCompleted {
                    task_id: format!("{TOWN}-task"),
                    item_id: item_id.clone(),
                    case_id: CASE.into(),
                    department: department.into(),
                    summary: "配合完成".into(),
                    held_record: None,
                },
            )
        };
        let decided = |department: &str| {
            envelope(
                EventKind::CountyEntrustedDecisionRecorded,
                department,
                ev::EntrustedDecisionRecorded {
                    task_id: format!("{TOWN}-task"),
                    item_id: item_id.clone(),
                    case_id: CASE.into(),
                    department: department.into(),
                    decision: Some(ev::Outcome {
                        kind: "demolition".into(),
                        ..Default::default()
                    }),
                    decided_in_name_of: "镇人民政府".into(),
                    ..Default::default()
                },
            )
        };

        // Execution before the lead's decision waits for it.
        assert!(matches!(
            apply(&db, brigade(), executed()).await,
            Err(HandlerError::Retry(_))
        ));
        apply(&db, county(2), completed("forestry")).await.unwrap();
        apply(&db, county(2), completed("forestry")).await.unwrap();
        assert!(matches!(
            apply(&db, county(2), completed("urban_management")).await,
            Err(HandlerError::Reject(_))
        ));
        assert!(matches!(
            apply(&db, county(2), decided("forestry")).await,
            Err(HandlerError::Reject(_))
        ));
        apply(&db, county(2), decided("natural_resources"))
            .await
            .unwrap();
        let row = item(&db, &item_id).await;
        assert_eq!(row.status, JointStatus::Decided.into());
        assert_eq!(row.completed(), ["forestry"]);
        assert!(row.entrusted_decision.is_some());

        apply(&db, brigade(), executed()).await.unwrap();
        let row = item(&db, &item_id).await;
        assert_eq!(row.status, JointStatus::Closed.into());
        assert_eq!(row.executed_at, Some(now()));
        apply(&db, brigade(), executed()).await.unwrap();

        // The lead changes its decision: the item carries the amendment, then none after a
        // revocation, and stays closed; another department's change is refused.
        let changed = |department: &str, change: &str, kind: Option<&str>| {
            envelope(
                EventKind::CountyEntrustedDecisionChanged,
                department,
                ev::DecisionChanged {
                    case_id: CASE.into(),
                    change: change.into(),
                    reason: "复议变更".into(),
                    outcome: kind.map(|k| ev::Outcome {
                        kind: k.into(),
                        ..Default::default()
                    }),
                    item_id: item_id.clone(),
                    ..Default::default()
                },
            )
        };
        assert!(matches!(
            apply(
                &db,
                county(2),
                changed("forestry", "amend", Some("warning"))
            )
            .await,
            Err(HandlerError::Reject(_))
        ));
        apply(
            &db,
            county(2),
            changed("natural_resources", "amend", Some("warning")),
        )
        .await
        .unwrap();
        let row = item(&db, &item_id).await;
        let decision = row
            .entrusted_decision
            .as_ref()
            .expect("an amended decision");
        assert_eq!(
            (row.status, decision.kind.as_str()),
            (JointStatus::Closed.into(), "warning")
        );
        apply(&db, county(2), changed("natural_resources", "revoke", None))
            .await
            .unwrap();
        let row = item(&db, &item_id).await;
        assert_eq!(
            (row.status, row.entrusted_decision),
            (JointStatus::Closed.into(), Nullable(None))
        );

        db.close().await;
        let _ = std::fs::remove_dir_all(dir);
    }

    #[tokio::test]
    async fn a_returned_referral_becomes_an_open_dispute() {
        let (db, dir) = db().await;
        let returned = envelope(
            EventKind::CountyReferralReturned,
            "forestry",
            ev::ReferralReturned {
                referral_id: format!("{TOWN}-ref"),
                case_id: CASE.into(),
                reason: "非林地".into(),
                not_competent: true,
            },
        );
        let item_id = format!("{TOWN}-{}", returned.event_id);
        apply(&db, county(2), returned).await.unwrap();
        let row = item(&db, &item_id).await;
        assert_eq!(
            (row.kind, row.status),
            (ItemKind::CompetenceDispute, DisputeStatus::Open.into())
        );
        assert_eq!(row.returned_by.as_deref(), Some("forestry"));
        db.close().await;
        let _ = std::fs::remove_dir_all(dir);
    }
}
