//! What the board does with others' events: joint cases and returned referrals go onto the
//! town's agenda.

use chrono::{DateTime, Utc};
use liandong_domain::state::{DisputeStatus, JointStatus};
use liandong_plumbing::bus::{Handler, HandlerError, decode_payload};
use liandong_plumbing::store::Tx;
use liandong_proto::events::v1 as ev;
use prost::Message;

use crate::store::{self, ItemRow};

/// Applies `brigade.joint_submitted`.
#[derive(Debug, Clone, Copy)]
pub struct BrigadeEvents;

impl Handler for BrigadeEvents {
    async fn handle(
        &self,
        tx: &mut Tx,
        env: &ev::Envelope,
        now: DateTime<Utc>,
    ) -> Result<(), HandlerError> {
        if env.event_type != "brigade.joint_submitted" {
            return Ok(());
        }
        let e: ev::JointSubmitted = decode_payload(env)?;
        let facts = e.facts.ok_or_else(|| {
            HandlerError::Reject("a joint submission without the case's facts".into())
        })?;
        let item = ItemRow {
            // One agenda item per submission: a case sent back and submitted again is a new item.
            item_id: format!("joint-{}", env.event_id),
            town: env.town.clone(),
            kind: "joint_case".into(),
            status: JointStatus::OnAgenda.as_str().into(),
            case_id: facts.case_id.clone(),
            facts: facts.encode_to_vec(),
            departments: serde_json::to_string(&e.departments).expect("strings serialise"),
            referral_id: None,
            returned_by: None,
            return_reason: None,
            created_at: now,
            updated_at: now,
        };
        store::insert(tx, &item).await?;
        Ok(())
    }
}

/// Applies `county.referral_returned`: a competence dispute for the chair to settle.
#[derive(Debug, Clone, Copy)]
pub struct CountyEvents;

impl Handler for CountyEvents {
    async fn handle(
        &self,
        tx: &mut Tx,
        env: &ev::Envelope,
        now: DateTime<Utc>,
    ) -> Result<(), HandlerError> {
        if env.event_type != "county.referral_returned" {
            return Ok(());
        }
        let e: ev::ReferralReturned = decode_payload(env)?;
        let facts = ev::CaseFacts {
            case_id: e.case_id.clone(),
            town: env.town.clone(),
            ..Default::default()
        };
        let item = ItemRow {
            item_id: format!("dispute-{}", e.referral_id),
            town: env.town.clone(),
            kind: "competence_dispute".into(),
            status: DisputeStatus::Open.as_str().into(),
            case_id: e.case_id.clone(),
            facts: facts.encode_to_vec(),
            departments: serde_json::to_string(&[&env.department]).expect("strings serialise"),
            referral_id: Some(e.referral_id.clone()),
            returned_by: Some(env.department.clone()),
            return_reason: Some(e.reason.clone()),
            created_at: now,
            updated_at: now,
        };
        store::insert(tx, &item).await?;
        Ok(())
    }
}
