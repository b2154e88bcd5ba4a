//! One state change of a service, written once: begin a transaction on the service's
//! database, let the command write everything it changes through it (its rows, their history,
//! the record entries, the events in the outbox), commit, and wake the relay for the events it
//! left. Every command and every consumer of every service changes state through a [`Change`];
//! none calls `commit` and `wake` by hand.

use std::ops::{Deref, DerefMut};

use liandong_store::{Db, Tx};

use crate::Outbox;

/// A state change under way: a transaction whose events, once it commits, the relay is told
/// about. Dropped without [`Change::commit`] (a command that returns an error with `?`), it
/// rolls back, and nothing it wrote, events included, is kept.
///
/// It dereferences to the [`Tx`] it writes through, so the stores' functions take `&mut change`
/// as they take a transaction.
pub struct Change<'o> {
    tx: Tx,
    outbox: &'o Outbox,
}

impl<'o> Change<'o> {
    /// Begins a change on `db` whose events go out through `outbox`.
    pub async fn begin(db: &Db, outbox: &'o Outbox) -> Result<Change<'o>, sqlx::Error> {
        Ok(Change {
            tx: db.begin().await?,
            outbox,
        })
    }

    /// The transaction, for code that matches on its backend (`with_tx!`).
    pub fn tx(&mut self) -> &mut Tx {
        &mut self.tx
    }

    /// The outbox the change's events go to.
    pub fn outbox(&self) -> &'o Outbox {
        self.outbox
    }

    /// Commits everything the change wrote, then wakes the relay for its events.
    pub async fn commit(self) -> Result<(), sqlx::Error> {
        self.tx.commit().await?;
        self.outbox.wake();
        Ok(())
    }

    /// Ends the change keeping nothing (dropping it does the same).
    pub async fn rollback(self) -> Result<(), sqlx::Error> {
        self.tx.rollback().await
    }
}

impl Deref for Change<'_> {
    type Target = Tx;

    fn deref(&self) -> &Tx {
        &self.tx
    }
}

impl DerefMut for Change<'_> {
    fn deref_mut(&mut self) -> &mut Tx {
        &mut self.tx
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use liandong_store::with_tx;
    use liandong_topology::{Source, Subjects};

    async fn count(db: &Db) -> i64 {
        let mut tx = db.begin().await.unwrap();
        let n = with_tx!(&mut tx, |c| sqlx::query_scalar("SELECT COUNT(*) FROM t")
            .fetch_one(c)
            .await)
        .unwrap();
        tx.rollback().await.unwrap();
        n
    }

    async fn insert(change: &mut Change<'_>) {
        with_tx!(change.tx(), |c| sqlx::query("INSERT INTO t (x) VALUES (1)")
            .execute(c)
            .await
            .map(|r| r.rows_affected()))
        .unwrap();
    }

    #[tokio::test]
    async fn a_change_keeps_its_writes_and_wakes_the_relay_only_when_committed() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(None, dir.path(), "change", 1).await.unwrap();
        let outbox = Outbox::new(Source::County, Subjects::new("test"), "1");
        let mut tx = db.begin().await.unwrap();
        with_tx!(&mut tx, |c| sqlx::query("CREATE TABLE t (x INTEGER)")
            .execute(c)
            .await
            .map(|r| r.rows_affected()))
        .unwrap();
        tx.commit().await.unwrap();
        let woken = outbox.waker();

        // Dropped (a command that failed half-way): nothing kept, the relay not woken.
        let mut change = Change::begin(&db, &outbox).await.unwrap();
        insert(&mut change).await;
        drop(change);
        assert_eq!(count(&db).await, 0);
        let quiet = tokio::time::timeout(std::time::Duration::from_millis(50), woken.notified());
        assert!(quiet.await.is_err(), "a change rolled back wakes nobody");

        // Committed: kept, and the relay woken.
        let mut change = Change::begin(&db, &outbox).await.unwrap();
        insert(&mut change).await;
        change.commit().await.unwrap();
        assert_eq!(count(&db).await, 1);
        let woken = tokio::time::timeout(std::time::Duration::from_secs(1), woken.notified());
        assert!(woken.await.is_ok(), "a committed change wakes the relay");
        db.close().await;
    }
}
