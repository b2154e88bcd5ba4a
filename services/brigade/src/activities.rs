//! Patrols (巡查) and traffic-persuasion turnouts (交通劝导): recorded by the brigade, announced
//! as `brigade.patrol_recorded` and `brigade.persuasion_recorded` for the year's figures. They
//! are not cases and start no case flow.

use chrono::{DateTime, Utc};
use liandong_bus::{Change, NewEvent};
use liandong_domain::auth::{Action, Actor, Resource, permits};
use liandong_domain::ids::{TownCode, TownScopedId};
use liandong_domain::limits::Validator;
use liandong_domain::patrols::{
    PersuasionKind, check_officers, check_patrol_times, check_persuasion,
};
use liandong_grpc::{ApiError, actor_label, actor_to_event, page_size};
use liandong_proto::brigade::v1 as pb;
use liandong_proto::events::v1 as ev;
use liandong_proto::time::{from_ts, to_ts};
use liandong_store::{with_db, with_tx};
use liandong_topology::AnyEvent;
use uuid::Uuid;

use liandong_store::typed::{Json, decode_all};

use liandong_domain::towns::Towns;

use crate::context::Api;

#[derive(Debug, sqlx::FromRow)]
struct PatrolRow {
    patrol_id: String,
    town: String,
    #[sqlx(try_from = "String")]
    officers: Json<Vec<String>>,
    started_at: DateTime<Utc>,
    ended_at: DateTime<Utc>,
    area: String,
    findings: String,
    #[sqlx(try_from = "String")]
    case_ids: Json<Vec<String>>,
}

#[derive(Debug, sqlx::FromRow)]
struct PersuasionRow {
    persuasion_id: String,
    town: String,
    #[sqlx(try_from = "String")]
    officers: Json<Vec<String>>,
    at: DateTime<Utc>,
    location: String,
    #[sqlx(try_from = "String")]
    kind: PersuasionKind,
    persons: i64,
    note: String,
}

fn patrol_to_pb(r: &PatrolRow) -> ev::PatrolRecorded {
    ev::PatrolRecorded {
        patrol_id: r.patrol_id.clone(),
        town: r.town.clone(),
        officers: r.officers.0.clone(),
        started_at: Some(to_ts(r.started_at)),
        ended_at: Some(to_ts(r.ended_at)),
        area: r.area.clone(),
        findings: r.findings.clone(),
        case_ids: r.case_ids.0.clone(),
    }
}

fn persuasion_to_pb(r: &PersuasionRow) -> ev::PersuasionRecorded {
    ev::PersuasionRecorded {
        persuasion_id: r.persuasion_id.clone(),
        town: r.town.clone(),
        officers: r.officers.0.clone(),
        at: Some(to_ts(r.at)),
        location: r.location.clone(),
        kind: r.kind.as_str().into(),
        persons: u32::try_from(r.persons).unwrap_or(0),
        note: r.note.clone(),
    }
}

/// A town of the county's registry, or a violation naming `town`.
fn town_of(v: &mut Validator, towns: &Towns, town: &str) -> Option<TownCode> {
    v.check("town", towns.parse_known(town))
}

fn allowed(actor: &Actor, action: Action, town: &TownCode) -> Result<(), ApiError> {
    permits(
        actor,
        action,
        &Resource {
            town: town.clone(),
            department: None,
        },
    )?;
    Ok(())
}

impl Api {
    pub(crate) async fn record_patrol_for(
        &self,
        actor: &Actor,
        r: pb::RecordPatrolRequest,
    ) -> Result<ev::PatrolRecorded, ApiError> {
        let now = self.clock.now();
        let mut v = Validator::new();
        let town = town_of(&mut v, &self.towns, &r.town);
        let officers = check_officers(&mut v, &r.officers, &self.limits);
        let (started, ended) = (from_ts(r.started_at.as_ref()), from_ts(r.ended_at.as_ref()));
        check_patrol_times(&mut v, started, ended, now);
        v.text("area", &r.area, self.limits.location_chars, true);
        v.text(
            "findings",
            &r.findings,
            self.limits.description_chars,
            false,
        );
        v.max_items("case_ids", r.case_ids.len(), self.limits.matters_per_case);
        for (i, c) in r.case_ids.iter().enumerate() {
            if let Some(id) = v.check(format!("case_ids[{i}]"), TownScopedId::parse(c))
                && Some(id.town()) != town.as_ref()
            {
                v.violation(format!("case_ids[{i}]"), "is a case of another town");
            }
        }
        v.finish().map_err(ApiError::Invalid)?;
        let town = town.expect("checked");
        allowed(actor, Action::RecordPatrol, &town)?;
        let row = PatrolRow {
            patrol_id: format!("{town}-{}", Uuid::now_v7()),
            town: town.to_string(),
            officers: Json(officers.iter().map(ToString::to_string).collect()),
            started_at: started.expect("checked"),
            ended_at: ended.expect("checked"),
            area: r.area.trim().to_owned(),
            findings: r.findings.trim().to_owned(),
            case_ids: Json(r.case_ids.clone()),
        };
        let mut tx = Change::begin(&self.db, &self.outbox).await?;
        with_tx!(tx.tx(), |c| {
            sqlx::query(
            "INSERT INTO patrols (patrol_id, town, officers, started_at, ended_at, area, findings, case_ids, recorded_by, recorded_at) \
             VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10)"
        )
        .bind(&row.patrol_id)
        .bind(&row.town)
        .bind(row.officers.text())
        .bind(row.started_at)
        .bind(row.ended_at)
        .bind(&row.area)
        .bind(&row.findings)
        .bind(row.case_ids.text())
        .bind(actor_label(actor))
        .bind(now)
        .execute(c)
        .await
        .map(|_| ())
        })?;
        let payload = patrol_to_pb(&row);
        self.outbox
            .emit(
                &mut tx,
                now,
                NewEvent {
                    town: &row.town,
                    department: None,
                    aggregate_id: &row.patrol_id,
                    actor: Some(actor_to_event(actor)),
                    causation_id: None,
                },
                AnyEvent::BrigadePatrolRecorded(payload.clone()),
            )
            .await?;
        tx.commit().await?;
        Ok(payload)
    }

    pub(crate) async fn record_persuasion_for(
        &self,
        actor: &Actor,
        r: pb::RecordPersuasionRequest,
    ) -> Result<ev::PersuasionRecorded, ApiError> {
        let now = self.clock.now();
        let mut v = Validator::new();
        let town = town_of(&mut v, &self.towns, &r.town);
        let officers = check_officers(&mut v, &r.officers, &self.limits);
        let at = from_ts(r.at.as_ref());
        check_persuasion(&mut v, at, r.persons, now);
        v.text("location", &r.location, self.limits.location_chars, true);
        let kind = v.check("kind", PersuasionKind::parse(&r.kind));
        v.text("note", &r.note, self.limits.description_chars, false);
        v.finish().map_err(ApiError::Invalid)?;
        let town = town.expect("checked");
        allowed(actor, Action::RecordPatrol, &town)?;
        let row = PersuasionRow {
            persuasion_id: format!("{town}-{}", Uuid::now_v7()),
            town: town.to_string(),
            officers: Json(officers.iter().map(ToString::to_string).collect()),
            at: at.expect("checked"),
            location: r.location.trim().to_owned(),
            kind: kind.expect("checked"),
            persons: i64::from(r.persons),
            note: r.note.trim().to_owned(),
        };
        let mut tx = Change::begin(&self.db, &self.outbox).await?;
        with_tx!(tx.tx(), |c| {
            sqlx::query(
            "INSERT INTO persuasions (persuasion_id, town, officers, at, location, kind, persons, note, recorded_by, recorded_at) \
             VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10)"
        )
        .bind(&row.persuasion_id)
        .bind(&row.town)
        .bind(row.officers.text())
        .bind(row.at)
        .bind(&row.location)
        .bind(row.kind.as_str())
        .bind(row.persons)
        .bind(&row.note)
        .bind(actor_label(actor))
        .bind(now)
        .execute(c)
        .await
        .map(|_| ())
        })?;
        let payload = persuasion_to_pb(&row);
        self.outbox
            .emit(
                &mut tx,
                now,
                NewEvent {
                    town: &row.town,
                    department: None,
                    aggregate_id: &row.persuasion_id,
                    actor: Some(actor_to_event(actor)),
                    causation_id: None,
                },
                AnyEvent::BrigadePersuasionRecorded(payload.clone()),
            )
            .await?;
        tx.commit().await?;
        Ok(payload)
    }

    pub(crate) async fn list_activities_for(
        &self,
        actor: &Actor,
        r: pb::ListActivitiesRequest,
    ) -> Result<pb::ListActivitiesResponse, ApiError> {
        let mut v = Validator::new();
        let town = town_of(&mut v, &self.towns, &r.town);
        let (from, to) = (from_ts(r.from.as_ref()), from_ts(r.to.as_ref()));
        if let (Some(f), Some(t)) = (from, to)
            && t < f
        {
            v.violation("to", "is before from");
        }
        v.finish().map_err(ApiError::Invalid)?;
        let town = town.expect("checked");
        allowed(actor, Action::ReadCase, &town)?;
        let limit = page_size(r.page_size, 100, self.limits.page_size_max);
        let (patrols, persuasions) = list(&self.db, town.as_str(), from, to, limit).await?;
        Ok(pb::ListActivitiesResponse {
            patrols,
            persuasions,
        })
    }
}

/// A town's patrols and persuasions (from `from` and before `to` when given), newest first,
/// up to `limit` of each; a row that does not read is an error naming it.
pub async fn list(
    db: &liandong_store::Db,
    town: &str,
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
    limit: i64,
) -> Result<(Vec<ev::PatrolRecorded>, Vec<ev::PersuasionRecorded>), sqlx::Error> {
    let (patrols, persuasions): (Vec<PatrolRow>, Vec<PersuasionRow>) = with_db!(db, |p| {
        let patrols = sqlx::query(
            "SELECT patrol_id, town, officers, started_at, ended_at, area, findings, case_ids FROM patrols \
             WHERE town = $1 AND ($2 IS NULL OR started_at >= $2) AND ($3 IS NULL OR started_at < $3) ORDER BY started_at DESC, patrol_id LIMIT $4",
        )
        .bind(town)
        .bind(from)
        .bind(to)
        .bind(limit)
        .fetch_all(p)
        .await?;
        let patrols = decode_all(&patrols, "patrols", "patrol_id")?;
        let persuasions = sqlx::query(
            "SELECT persuasion_id, town, officers, at, location, kind, persons, note FROM persuasions \
             WHERE town = $1 AND ($2 IS NULL OR at >= $2) AND ($3 IS NULL OR at < $3) ORDER BY at DESC, persuasion_id LIMIT $4",
        )
        .bind(town)
        .bind(from)
        .bind(to)
        .bind(limit)
        .fetch_all(p)
        .await?;
        let persuasions = decode_all(&persuasions, "persuasions", "persuasion_id")?;
        Ok::<_, sqlx::Error>((patrols, persuasions))
    })?;
    Ok((
        patrols.iter().map(patrol_to_pb).collect(),
        persuasions.iter().map(persuasion_to_pb).collect(),
    ))
}
