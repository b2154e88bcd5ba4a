//! What every county command works with: the service's database, outbox, clock, limits,
//! catalogue, time limits and key registry, and the checks every read and step makes.

use liandong_bus::Outbox;
use liandong_config::clock::SharedClock;
use liandong_domain::auth::{Action, Actor, Resource, permits};
use liandong_domain::ids::{DepartmentCode, TownCode};
use liandong_domain::limits::Limits;
use liandong_grpc::ApiError;
use liandong_runtime::Runtime;
use liandong_store::Db;

use crate::store::ReferralRow;

pub struct Api {
    pub(crate) db: Db,
    pub(crate) outbox: Outbox,
    pub(crate) clock: SharedClock,
    pub(crate) limits: Limits,
    pub(crate) catalogue: std::sync::Arc<liandong_domain::catalogue::Catalogue>,
    pub(crate) time_limits: std::sync::Arc<liandong_domain::time_limits::TimeLimits>,
    /// The key registry, for the event signatures the records keep.
    pub(crate) keys: liandong_bus::signing::KeyRegistry,
}

impl Api {
    /// Logs a read of a referral's case file (`access_log`); a read that cannot be logged fails.
    pub(crate) async fn log_read(
        &self,
        actor: &liandong_domain::auth::Actor,
        rpc: &str,
        referral_id: &str,
        town: &str,
        department: &str,
    ) -> Result<(), ApiError> {
        self.log_read_of(actor, rpc, "referral", referral_id, town, department)
            .await
    }

    /// Logs a read of a case file the department holds as a `kind` (`referral`, `task`,
    /// `handover`) named `id`.
    pub(crate) async fn log_read_of(
        &self,
        actor: &liandong_domain::auth::Actor,
        rpc: &str,
        kind: &str,
        id: &str,
        town: &str,
        department: &str,
    ) -> Result<(), ApiError> {
        let what = liandong_access_log::Read {
            rpc,
            kind,
            id,
            town,
            department: Some(department),
        };
        liandong_access_log::record(&self.db, "county", self.clock.now(), actor, what).await
    }

    pub fn new(rt: &Runtime) -> Self {
        Self {
            db: rt.db.clone(),
            outbox: rt.outbox.clone(),
            clock: rt.clock.clone(),
            limits: rt.cfg.limits.clone(),
            catalogue: rt.catalogue.clone(),
            time_limits: rt.time_limits.clone(),
            keys: rt.bus.keyring.registry.clone(),
        }
    }
}

impl Api {
    pub(crate) fn check(
        &self,
        actor: &Actor,
        action: Action,
        row: &ReferralRow,
    ) -> Result<(), ApiError> {
        let town = TownCode::parse(&row.town).map_err(|e| ApiError::Internal(e.into()))?;
        let department =
            DepartmentCode::parse(&row.department).map_err(|e| ApiError::Internal(e.into()))?;
        permits(
            actor,
            action,
            &Resource {
                town,
                department: Some(department),
            },
        )?;
        Ok(())
    }
}
