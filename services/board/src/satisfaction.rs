//! The town's call-back tally (回访满意度): each `brigade.callback_recorded` counted by year and
//! answer, for the joint meeting's figures.

use chrono::Datelike;
use liandong_bus::HandlerError;
use liandong_domain::auth::{Action, Actor, Resource, permits};
use liandong_domain::calendar::Calendar;
use liandong_domain::callback::Satisfaction;
use liandong_domain::ids::TownCode;
use liandong_domain::limits::Validator;
use liandong_grpc::ApiError;
use liandong_proto::board::v1 as pb;
use liandong_proto::events::v1 as ev;
use liandong_proto::time::from_ts;
use liandong_store::typed::decode_all;
use liandong_store::{Db, Tx};
use liandong_store::{with_db, with_tx};

pub const TALLY: &str = "satisfaction_tally";

/// One answer's count in a town's year.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct TallyRow {
    #[sqlx(try_from = "String")]
    pub satisfaction: Satisfaction,
    pub callbacks: i64,
    pub reopened: i64,
}

/// Counts a call-back once (the consumer's inbox sees to that), in the Beijing year of the
/// call.
pub(crate) async fn callback(
    tx: &mut Tx,
    env: &ev::Envelope,
    e: ev::CallbackRecorded,
) -> Result<(), HandlerError> {
    let satisfaction = Satisfaction::parse(&e.satisfaction)
        .map_err(|err| HandlerError::Reject(format!("call-back {}: {err}", e.callback_id)))?;
    let called_at = from_ts(e.called_at.as_ref()).ok_or_else(|| {
        HandlerError::Reject(format!("call-back {} has no call time", e.callback_id))
    })?;
    let year = i64::from(Calendar::local_date(called_at).year());
    with_tx!(tx, |c| {
        sqlx::query(
        "INSERT INTO satisfaction_tally (town, year, satisfaction, callbacks, reopened) VALUES ($1, $2, $3, 1, $4) \
         ON CONFLICT (town, year, satisfaction) DO UPDATE SET callbacks = satisfaction_tally.callbacks + 1, \
         reopened = satisfaction_tally.reopened + excluded.reopened"
    )
    .bind(&env.town)
    .bind(year)
    .bind(satisfaction.as_str())
    .bind(i64::from(e.reopened))
    .execute(c)
    .await
    .map(|_| ())
    })?;
    Ok(())
}

/// The town's call-back answers in a year.
pub async fn figures(
    db: &Db,
    actor: &Actor,
    r: pb::GetSatisfactionFiguresRequest,
) -> Result<pb::GetSatisfactionFiguresResponse, ApiError> {
    let mut v = Validator::new();
    let town = v.check("town", TownCode::parse(&r.town));
    if !(2000..=2100).contains(&r.year) {
        v.violation("year", "a year from 2000 to 2100");
    }
    v.finish().map_err(ApiError::Invalid)?;
    let town = town.expect("checked");
    permits(
        actor,
        Action::ReadAgenda,
        &Resource {
            town: town.clone(),
            department: None,
        },
    )?;
    let rows = tally(db, town.as_str(), r.year).await?;
    let n = |x: i64| u32::try_from(x).unwrap_or(u32::MAX);
    let count = |s: Satisfaction| {
        rows.iter()
            .find(|t| t.satisfaction == s)
            .map_or(0, |t| n(t.callbacks))
    };
    Ok(pb::GetSatisfactionFiguresResponse {
        town: town.to_string(),
        year: r.year,
        satisfied: count(Satisfaction::Satisfied),
        basically_satisfied: count(Satisfaction::BasicallySatisfied),
        unsatisfied: count(Satisfaction::Unsatisfied),
        reopened: n(rows.iter().map(|t| t.reopened).sum()),
    })
}

/// A town's call-back answers counted in `year`.
pub async fn tally(db: &Db, town: &str, year: i32) -> Result<Vec<TallyRow>, sqlx::Error> {
    with_db!(db, |p| {
        let rows = sqlx::query(
            "SELECT town, year, satisfaction, callbacks, reopened FROM satisfaction_tally \
             WHERE town = $1 AND year = $2 ORDER BY satisfaction",
        )
        .bind(town)
        .bind(i64::from(year))
        .fetch_all(p)
        .await?;
        decode_all(&rows, TALLY, "town, year, satisfaction")
    })
}
