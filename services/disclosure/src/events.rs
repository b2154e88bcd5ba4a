//! The disclosure service's one event: a disclosure's state against its due date, emitted in
//! the transaction that changed it, for the read model's timeliness figures (公示及时率).

use chrono::{DateTime, Utc};
use liandong_bus::{NewEvent, Outbox};
use liandong_domain::disclosure::BodyKind;
use liandong_proto::events::v1 as ev;
use liandong_proto::time::to_ts;
use liandong_store::Tx;
use liandong_topology::AnyEvent;

use crate::store::DisclosureRow;

/// `disclosure.disclosure_status_changed` with the whole of `row`'s timing state; the
/// disclosure is the aggregate, so its events are numbered and an observer keeps the newest.
pub async fn status_changed(
    tx: &mut Tx,
    outbox: &Outbox,
    now: DateTime<Utc>,
    row: &DisclosureRow,
    causation_id: Option<&str>,
) -> Result<(), sqlx::Error> {
    let payload = ev::DisclosureStatusChanged {
        disclosure_id: row.disclosure_id.clone(),
        town: row.town.clone(),
        case_id: row.case_id.clone(),
        body_kind: row.body_kind.as_str().into(),
        body_code: row.body_code.clone(),
        class: row.class.as_str().into(),
        status: row.status.as_str().into(),
        decided_at: Some(to_ts(row.decided_at)),
        due_at: Some(to_ts(row.due_at)),
        published_at: row.published_at.map(to_ts),
        withdrawn_at: row.withdrawn_at.map(to_ts),
        withdrawal_due_at: row.withdrawal_due_at.map(to_ts),
    };
    // A department's disclosure is addressed from that department; the town's from the town.
    let department = (row.body_kind == BodyKind::Department).then_some(row.body_code.as_str());
    outbox
        .emit(
            tx,
            now,
            NewEvent {
                town: &row.town,
                department,
                aggregate_id: &row.disclosure_id,
                actor: None,
                causation_id,
            },
            AnyEvent::DisclosureDisclosureStatusChanged(payload),
        )
        .await?;
    Ok(())
}
