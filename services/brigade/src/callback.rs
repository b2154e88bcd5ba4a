//! Call-backs (回访): the reporter's satisfaction with a concluded case the public reported,
//! kept in `case_callbacks` and the case's record, announced as `brigade.callback_recorded`;
//! an unsatisfied answer may reopen the case.

use chrono::{DateTime, Utc};
use liandong_bus::{Change, NewEvent};
use liandong_domain::auth::{Action, Actor, Resource, permits};
use liandong_domain::callback::{CallbackInput, Satisfaction, after_callback, check_callback};
use liandong_domain::ids::{TownCode, TownScopedId};
use liandong_domain::limits::Validator;
use liandong_domain::triage::{CaseSource, Path};
use liandong_grpc::{ApiError, actor_to_event};
use liandong_proto::brigade::v1 as pb;
use liandong_proto::events::v1 as ev;
use liandong_proto::time::{from_ts, to_ts};
use liandong_store::Tx;
use liandong_store::typed::decode_all;
use liandong_store::{with_db, with_tx};
use liandong_topology::AnyEvent;
use uuid::Uuid;

use crate::context::Api;
use crate::record::Who;
use crate::store;

#[derive(sqlx::FromRow)]
struct CallbackRow {
    callback_id: String,
    case_id: String,
    town: String,
    #[sqlx(try_from = "String")]
    source: CaseSource,
    #[sqlx(try_from = "String")]
    path: Path,
    #[sqlx(try_from = "String")]
    satisfaction: Satisfaction,
    note: String,
    called_back_by: String,
    called_at: DateTime<Utc>,
    reopened: bool,
}

impl CallbackRow {
    fn to_pb(&self) -> ev::CallbackRecorded {
        ev::CallbackRecorded {
            callback_id: self.callback_id.clone(),
            case_id: self.case_id.clone(),
            town: self.town.clone(),
            source: self.source.as_str().into(),
            satisfaction: self.satisfaction.as_str().into(),
            note: self.note.clone(),
            called_back_by: self.called_back_by.clone(),
            called_at: Some(to_ts(self.called_at)),
            reopened: self.reopened,
            path: self.path.as_str().into(),
        }
    }
}

/// Whether the case's last call-back reopened it; `None` when it has none.
async fn last_reopened(tx: &mut Tx, case_id: &str) -> Result<Option<bool>, sqlx::Error> {
    with_tx!(tx, |c| {
        sqlx::query_scalar(
        "SELECT reopened FROM case_callbacks WHERE case_id = $1 ORDER BY recorded_at DESC, callback_id DESC LIMIT 1"
    )
    .bind(case_id)
    .fetch_optional(c)
    .await
    })
}

impl Api {
    /// Records a call-back in one transaction: the row, the record entry, the case reopened
    /// when asked, and the event.
    pub(crate) async fn record_callback(
        &self,
        actor: &Actor,
        r: pb::RecordCallbackRequest,
    ) -> Result<(ev::CallbackRecorded, pb::Case), ApiError> {
        let now = self.clock.now();
        let mut v = Validator::new();
        if let Err(e) = TownScopedId::parse(&r.case_id) {
            v.violation("case_id", e.to_string());
        }
        let called_at = from_ts(r.called_at.as_ref());
        if r.called_at.is_some() && called_at.is_none() {
            v.violation("called_at", "not a valid time");
        }
        let input = CallbackInput {
            satisfaction: &r.satisfaction,
            note: &r.note,
            called_back_by: &r.called_back_by,
            called_at,
            reopen: r.reopen,
        };
        let checked = check_callback(
            &mut v,
            &input,
            now,
            self.limits.reason_chars,
            self.limits.short_text_chars,
        );
        v.finish().map_err(ApiError::Invalid)?;
        let callback = checked.expect("checked");
        let mut tx = Change::begin(&self.db, &self.outbox).await?;
        let row = store::case_in_tx(&mut tx, &r.case_id)
            .await?
            .ok_or_else(|| ApiError::NotFound(format!("no case {}", r.case_id)))?;
        let town = TownCode::parse(&row.town).map_err(|e| ApiError::Internal(e.into()))?;
        permits(
            actor,
            Action::RecordCallback,
            &Resource {
                town,
                department: None,
            },
        )?;
        let status = row.status;
        let last = last_reopened(&mut tx, &row.case_id).await?;
        let next = after_callback(row.source.as_str(), status, row.updated_at, last, &callback)
            .map_err(|e| ApiError::FailedPrecondition(format!("case {}: {e}", row.case_id)))?;
        let reopened = next != status;
        let callback_id = TownScopedId::new(
            TownCode::parse(&row.town).map_err(|e| ApiError::Internal(e.into()))?,
            Uuid::now_v7(),
        )
        .to_string();
        let by = Who::of(actor);
        let stored = CallbackRow {
            callback_id,
            case_id: row.case_id.clone(),
            town: row.town.clone(),
            source: row.source,
            path: row.path,
            satisfaction: callback.satisfaction,
            note: callback.note.clone(),
            called_back_by: callback.called_back_by.clone(),
            called_at: callback.called_at,
            reopened,
        };
        with_tx!(tx.tx(), |c| {
            sqlx::query(
            "INSERT INTO case_callbacks (callback_id, case_id, town, source, path, satisfaction, note, \
             called_back_by, called_at, reopened, recorded_by, recorded_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"
        )
        .bind(&stored.callback_id)
        .bind(&stored.case_id)
        .bind(&stored.town)
        .bind(stored.source.as_str())
        .bind(stored.path.as_str())
        .bind(stored.satisfaction.as_str())
        .bind(&stored.note)
        .bind(&stored.called_back_by)
        .bind(stored.called_at)
        .bind(stored.reopened)
        .bind(by.label())
        .bind(now)
        .execute(c)
        .await
        .map(|r| r.rows_affected())
        })?;
        let payload = stored.to_pb();
        let env = self
            .outbox
            .emit(
                &mut tx,
                now,
                NewEvent {
                    town: &row.town,
                    department: None,
                    aggregate_id: &row.case_id,
                    actor: Some(actor_to_event(actor)),
                    ..Default::default()
                },
                AnyEvent::BrigadeCallbackRecorded(payload.clone()),
            )
            .await?;
        let mut detail = format!(
            "回访（{}，回访人：{}）：{}",
            callback.called_at.format("%Y-%m-%d %H:%M UTC"),
            callback.called_back_by,
            callback.satisfaction.label_zh()
        );
        if !callback.note.is_empty() {
            detail.push_str(&format!("；{}", callback.note));
        }
        store::add_history(
            &mut tx,
            row.here(),
            now,
            "callback",
            &by,
            &detail,
            Some(&env),
        )
        .await?;
        if reopened {
            store::add_history(
                &mut tx,
                row.here(),
                now,
                "reopened",
                &by,
                "群众回访不满意，案件重新办理",
                Some(&env),
            )
            .await?;
            store::set_status(&mut tx, &row.case_id, next, now).await?;
        }
        tx.commit().await?;
        tracing::info!(case_id = %row.case_id, satisfaction = %callback.satisfaction, reopened, "A call-back was recorded.");
        let mut row = row;
        row.status = next;
        row.updated_at = now;
        let case = self.full(row).await?;
        Ok((payload, case))
    }

    /// A town's call-backs whose calls fall in `[from, to)`, newest first.
    pub(crate) async fn list_callbacks(
        &self,
        actor: &Actor,
        r: pb::ListCallbacksRequest,
    ) -> Result<Vec<ev::CallbackRecorded>, ApiError> {
        let mut v = Validator::new();
        let town = v.check("town", TownCode::parse(&r.town));
        let from = from_ts(r.from.as_ref());
        let to = from_ts(r.to.as_ref());
        if r.from.is_some() && from.is_none() {
            v.violation("from", "not a valid time");
        }
        if r.to.is_some() && to.is_none() {
            v.violation("to", "not a valid time");
        }
        v.finish().map_err(ApiError::Invalid)?;
        permits(
            actor,
            Action::ReadCase,
            &Resource {
                town: town.expect("checked"),
                department: None,
            },
        )?;
        // Bounds both databases store: no call-back predates 1970 or outlives 9999.
        let far_past = DateTime::<Utc>::UNIX_EPOCH;
        let far_future = DateTime::from_timestamp(253_402_300_799, 0).expect("9999-12-31");
        Ok(list(
            &self.db,
            &r.town,
            from.unwrap_or(far_past),
            to.unwrap_or(far_future),
        )
        .await?)
    }
}

/// A town's call-backs whose calls fall in `[from, to)`, newest first; a row that does not
/// read is an error naming it.
pub async fn list(
    db: &liandong_store::Db,
    town: &str,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<ev::CallbackRecorded>, sqlx::Error> {
    with_db!(db, |p| {
        let rows = sqlx::query(
            "SELECT callback_id, case_id, town, source, path, satisfaction, note, called_back_by, called_at, reopened \
             FROM case_callbacks WHERE town = $1 AND called_at >= $2 AND called_at < $3 \
             ORDER BY called_at DESC, callback_id DESC",
        )
        .bind(town)
        .bind(from)
        .bind(to)
        .fetch_all(p)
        .await?;
        let rows: Vec<CallbackRow> = decode_all(&rows, "case_callbacks", "callback_id")?;
        Ok(rows.iter().map(CallbackRow::to_pb).collect())
    })
}
