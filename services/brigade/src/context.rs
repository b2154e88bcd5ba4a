//! What every brigade command works with: the service's database, outbox, clock, catalogue,
//! towns, limits, evidence store and key registry, and the access log every read writes.

use std::sync::Arc;

use liandong_bus::Outbox;
use liandong_config::clock::SharedClock;
use liandong_domain::auth::Actor;
use liandong_domain::catalogue::Catalogue;
use liandong_domain::ids::TownScopedId;
use liandong_domain::limits::Limits;
use liandong_grpc::ApiError;
use liandong_runtime::Runtime;
use liandong_store::Db;

pub struct Api {
    pub(crate) db: Db,
    pub(crate) outbox: Outbox,
    pub(crate) clock: SharedClock,
    pub(crate) catalogue: Arc<Catalogue>,
    /// The county's towns, which name the town's government on its decisions and documents.
    pub(crate) towns: Arc<liandong_domain::towns::Towns>,
    /// The procedural standards decisions are checked against.
    pub(crate) procedure: Arc<liandong_domain::procedure::ProcedureRules>,
    pub(crate) limits: Limits,
    pub(crate) evidence: liandong_evidence::EvidenceStore,
    /// The key registry, for verifying the signatures a record keeps.
    pub(crate) keys: liandong_bus::signing::KeyRegistry,
    /// The time limits and the working-day calendar a case's decision period and the
    /// procedure's periods (the hearing window) are counted in.
    pub(crate) time_limits: Arc<liandong_domain::time_limits::TimeLimits>,
    pub(crate) calendar: Arc<liandong_domain::calendar::Calendar>,
}

impl Api {
    /// Logs a read of the town's case files or personal data (`access_log`); a read that
    /// cannot be logged fails.
    pub(crate) async fn log_read(
        &self,
        actor: &Actor,
        rpc: &str,
        kind: &str,
        id: &str,
        town: &str,
    ) -> Result<(), ApiError> {
        let what = liandong_access_log::Read {
            rpc,
            kind,
            id,
            town,
            department: None,
        };
        liandong_access_log::record(&self.db, "brigade", self.clock.now(), actor, what).await
    }

    /// Logs a read of a case's record, documents or dossier, whose id names its town.
    pub(crate) async fn log_case_read(
        &self,
        actor: &Actor,
        rpc: &str,
        kind: &str,
        case_id: &str,
    ) -> Result<(), ApiError> {
        let id =
            TownScopedId::parse(case_id).map_err(|e| ApiError::field("case_id", e.to_string()))?;
        self.log_read(actor, rpc, kind, case_id, id.town().as_str())
            .await
    }

    pub fn new(rt: &Runtime) -> Self {
        Self {
            db: rt.db.clone(),
            outbox: rt.outbox.clone(),
            clock: rt.clock.clone(),
            catalogue: rt.catalogue.clone(),
            towns: rt.towns.clone(),
            procedure: rt.procedure.clone(),
            limits: rt.cfg.limits.clone(),
            // The store is only opened here (no I/O for files, none for S3 until used); a
            // configuration that cannot name one is refused at startup by `Application::build`.
            evidence: liandong_evidence::EvidenceStore::from_config(&rt.cfg)
                .expect("the evidence store was checked at startup"),
            keys: rt.bus.keyring.registry.clone(),
            time_limits: rt.time_limits.clone(),
            calendar: rt.calendar.clone(),
        }
    }
}
