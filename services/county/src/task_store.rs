//! The county's tables of joint-case tasks and of case files handed over to departments.

use chrono::{DateTime, Utc};
use liandong_domain::state::{HandoverStatus, TaskRole, TaskStatus};
use liandong_proto::events::v1 as ev;
use liandong_store::typed::{Json, Nullable, Proto, decode, decode_all};
use liandong_store::{Db, Tx};
use liandong_store::{with_db, with_tx};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TaskRow {
    pub task_id: String,
    pub item_id: String,
    pub case_id: String,
    pub town: String,
    pub department: String,
    #[sqlx(try_from = "String")]
    pub role: TaskRole,
    #[sqlx(try_from = "String")]
    pub status: TaskStatus,
    /// The case as the joint meeting assigned it.
    #[sqlx(try_from = "Vec<u8>")]
    pub facts: Proto<ev::CaseFacts>,
    pub instructions: String,
    pub lead_department: String,
    /// The lead's decision, once recorded.
    #[sqlx(try_from = "Option<Vec<u8>>")]
    pub decision: Nullable<Proto<ev::Outcome>>,
    pub summary: Option<String>,
    pub assigned_at: DateTime<Utc>,
    pub done_at: Option<DateTime<Utc>>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct HandoverRow {
    pub handover_id: String,
    pub case_id: String,
    pub town: String,
    pub department: String,
    pub reason: String,
    /// The case's record as the handover carried it (a `CaseHandedOver` holding only it).
    #[sqlx(try_from = "Vec<u8>")]
    pub record: Proto<ev::CaseHandedOver>,
    #[sqlx(try_from = "String")]
    pub evidence_refs: Json<Vec<String>>,
    pub received_at: DateTime<Utc>,
    /// Received, or refused when cited evidence was missing or altered.
    #[sqlx(try_from = "String")]
    pub status: HandoverStatus,
    /// The reasons of a refusal.
    #[sqlx(try_from = "String")]
    pub refusal_reasons: Json<Vec<String>>,
    /// The head of the case's record the handover named (hex SHA-256), and its length.
    pub record_head: String,
    pub record_length: i64,
}

/// Stores a task that arrived; a second copy of the same task changes nothing.
#[tracing::instrument(skip_all, fields(task_id = %t.task_id), err)]
pub async fn insert_task(tx: &mut Tx, t: &TaskRow) -> Result<bool, sqlx::Error> {
    with_tx!(tx, |c| {
        sqlx::query(
            "INSERT INTO tasks (task_id, item_id, case_id, town, department, role, status, facts, instructions, \
             lead_department, decision, summary, assigned_at, done_at, updated_at) \
             VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,NULL,NULL,$11,NULL,$12) ON CONFLICT (task_id) DO NOTHING",
        )
        .bind(&t.task_id)
        .bind(&t.item_id)
        .bind(&t.case_id)
        .bind(&t.town)
        .bind(&t.department)
        .bind(t.role.as_str())
        .bind(t.status.as_str())
        .bind(t.facts.bytes())
        .bind(&t.instructions)
        .bind(&t.lead_department)
        .bind(t.assigned_at)
        .bind(t.updated_at)
        .execute(c)
        .await
        .map(|r| r.rows_affected() == 1)
    })
}

pub async fn get_task_in_tx(tx: &mut Tx, task_id: &str) -> Result<Option<TaskRow>, sqlx::Error> {
    with_tx!(tx, |c| {
        let row = sqlx::query("SELECT * FROM tasks WHERE task_id = $1")
            .bind(task_id)
            .fetch_optional(c)
            .await?;
        row.as_ref()
            .map(|r| decode(r, "tasks", "task_id"))
            .transpose()
    })
}

/// Writes a task's changed state back.
pub async fn update_task(tx: &mut Tx, t: &TaskRow) -> Result<(), sqlx::Error> {
    with_tx!(tx, |c| {
        sqlx::query(
            "UPDATE tasks SET status = $1, decision = $2, summary = $3, done_at = $4, updated_at = $5 \
             WHERE task_id = $6",
        )
        .bind(t.status.as_str())
        .bind(t.decision.bytes())
        .bind(&t.summary)
        .bind(t.done_at)
        .bind(t.updated_at)
        .bind(&t.task_id)
        .execute(c)
        .await
        .map(|_| ())
    })
}

/// A department's tasks, newest first.
pub async fn tasks(
    db: &Db,
    department: &str,
    status: Option<TaskStatus>,
    limit: i64,
) -> Result<Vec<TaskRow>, sqlx::Error> {
    with_db!(db, |p| {
        let rows = sqlx::query(
            "SELECT * FROM tasks WHERE department = $1 AND ($2 IS NULL OR status = $2) \
             ORDER BY assigned_at DESC, task_id DESC LIMIT $3",
        )
        .bind(department)
        .bind(status.map(TaskStatus::as_str))
        .bind(limit)
        .fetch_all(p)
        .await?;
        decode_all(&rows, "tasks", "task_id")
    })
}

/// Stores a handover that arrived; a second copy of the same handover changes nothing.
#[tracing::instrument(skip_all, fields(handover_id = %h.handover_id), err)]
pub async fn insert_handover(tx: &mut Tx, h: &HandoverRow) -> Result<bool, sqlx::Error> {
    with_tx!(tx, |c| {
        sqlx::query(
            "INSERT INTO handovers (handover_id, case_id, town, department, reason, record, evidence_refs, received_at) \
             VALUES ($1,$2,$3,$4,$5,$6,$7,$8) ON CONFLICT (handover_id) DO NOTHING",
        )
        .bind(&h.handover_id)
        .bind(&h.case_id)
        .bind(&h.town)
        .bind(&h.department)
        .bind(&h.reason)
        .bind(h.record.bytes())
        .bind(h.evidence_refs.text())
        .bind(h.received_at)
        .execute(c)
        .await
        .map(|r| r.rows_affected() == 1)
    })
}

/// Keeps the head of the case's record a handover came with.
pub async fn set_handover_head(
    tx: &mut Tx,
    handover_id: &str,
    record_head: &str,
    record_length: u64,
) -> Result<(), sqlx::Error> {
    with_tx!(tx, |c| sqlx::query(
        "UPDATE handovers SET record_head = $1, record_length = $2 WHERE handover_id = $3"
    )
    .bind(record_head)
    .bind(record_length as i64)
    .bind(handover_id)
    .execute(c)
    .await
    .map(|_| ()))
}

/// The case files handed over to a department, of one case if given, newest first.
pub async fn handovers(
    db: &Db,
    department: &str,
    case_id: Option<&str>,
    limit: i64,
) -> Result<Vec<HandoverRow>, sqlx::Error> {
    with_db!(db, |p| {
        let rows = sqlx::query(
            "SELECT * FROM handovers WHERE department = $1 AND ($2 IS NULL OR case_id = $2) \
             ORDER BY received_at DESC, handover_id DESC LIMIT $3",
        )
        .bind(department)
        .bind(case_id)
        .bind(limit)
        .fetch_all(p)
        .await?;
        decode_all(&rows, "handovers", "handover_id")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fresh SQLite database with the bus's and the county's migrations applied.
    async fn fresh_db() -> (Db, std::path::PathBuf) {
        let dir = std::env::temp_dir().join(format!("county-store-{}", uuid::Uuid::now_v7()));
        let db = Db::open(None, &dir, "county", 2).await.expect("open");
        db.migrate(crate::MIGRATIONS).await.expect("migrate");
        (db, dir)
    }

    fn task(now: DateTime<Utc>) -> TaskRow {
        TaskRow {
            task_id: "320100001-t1".into(),
            item_id: "320100001-i1".into(),
            case_id: "320100001-c1".into(),
            town: "320100001".into(),
            department: "natural_resources".into(),
            role: TaskRole::Lead,
            status: TaskStatus::Open,
            facts: Proto(ev::CaseFacts {
                case_id: "320100001-c1".into(),
                ..Default::default()
            }),
            instructions: "依法处理".into(),
            lead_department: "natural_resources".into(),
            decision: Nullable(None),
            summary: None,
            assigned_at: now,
            done_at: None,
            updated_at: now,
        }
    }

    #[tokio::test]
    async fn a_task_is_stored_once_and_its_decision_kept() {
        let (db, dir) = fresh_db().await;
        let now = Utc::now();
        let mut tx = db.begin().await.unwrap();
        assert!(insert_task(&mut tx, &task(now)).await.unwrap());
        assert!(!insert_task(&mut tx, &task(now)).await.unwrap());
        let mut row = get_task_in_tx(&mut tx, "320100001-t1")
            .await
            .unwrap()
            .expect("stored");
        let fine = ev::Outcome {
            kind: "fine".into(),
            fine_fen: 900,
            ..Default::default()
        };
        row.status = TaskStatus::Decided;
        row.decision = Nullable(Some(Proto(fine.clone())));
        row.done_at = Some(now);
        update_task(&mut tx, &row).await.unwrap();
        tx.commit().await.unwrap();

        let decided = tasks(&db, "natural_resources", Some(TaskStatus::Decided), 10)
            .await
            .unwrap();
        assert_eq!(decided.len(), 1);
        assert_eq!(decided[0].decision.0, Some(Proto(fine)));
        assert!(
            tasks(&db, "natural_resources", Some(TaskStatus::Open), 10)
                .await
                .unwrap()
                .is_empty()
        );
        assert!(
            tasks(&db, "public_security", None, 10)
                .await
                .unwrap()
                .is_empty()
        );
        db.close().await;
        let _ = std::fs::remove_dir_all(dir);
    }

    #[tokio::test]
    async fn a_handover_is_stored_once_and_listed_by_case() {
        let (db, dir) = fresh_db().await;
        let h = HandoverRow {
            handover_id: "320100001-h1".into(),
            case_id: "320100001-c1".into(),
            town: "320100001".into(),
            department: "natural_resources".into(),
            reason: liandong_topology::names::REFERRAL_ACCEPTED.into(),
            record: Proto(ev::CaseHandedOver::default()),
            evidence_refs: Json(Vec::new()),
            received_at: Utc::now(),
            status: HandoverStatus::Received,
            refusal_reasons: Json(Vec::new()),
            record_head: String::new(),
            record_length: 0,
        };
        let mut tx = db.begin().await.unwrap();
        assert!(insert_handover(&mut tx, &h).await.unwrap());
        assert!(!insert_handover(&mut tx, &h).await.unwrap());
        tx.commit().await.unwrap();
        let of_case = handovers(&db, "natural_resources", Some("320100001-c1"), 10)
            .await
            .unwrap();
        assert_eq!(of_case.len(), 1);
        let all = handovers(&db, "natural_resources", None, 10).await.unwrap();
        assert_eq!(all.len(), 1);
        assert!(
            handovers(&db, "natural_resources", Some("320100001-c2"), 10)
                .await
                .unwrap()
                .is_empty()
        );
        db.close().await;
        let _ = std::fs::remove_dir_all(dir);
    }
}
