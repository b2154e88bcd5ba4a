//! The registries of enforcement certificates (持证上岗), one code for every agency: a town's
//! (kept by its brigade) and each county department's. Registering, assessing and revoking,
//! the check every enforcement action makes, and the events others keep copies from.
#![forbid(unsafe_code)]

use chrono::{DateTime, Utc};
use liandong_domain::auth::{Action, Actor, Resource, permits, permits_department_wide};
use liandong_domain::certificates::{
    Certificate, CertificateStatus, check_registration, check_valid,
};
use liandong_domain::ids::{DepartmentCode, OfficerId, TownCode};
use liandong_domain::limits::Validator;
use liandong_proto::events::v1 as ev;
use uuid::Uuid;

use liandong_bus::{Change, NewEvent, Outbox};
use liandong_config::clock::SharedClock;
use liandong_grpc::{ApiError, actor_label, actor_to_event};
use liandong_proto::time::to_ts;
use liandong_store::typed::{Day, decode, decode_all};
use liandong_store::{Db, Tx};
use liandong_store::{with_db, with_tx};
use liandong_topology::AnyEvent;

/// Whose registry: the agency code is a town's or a department's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RegistryScope {
    /// A town's officers, kept by its brigade's captain.
    Town,
    /// A county department's officers, kept by its dispatcher.
    Department,
}

impl RegistryScope {
    /// The field that names the registry in requests.
    fn field(self) -> &'static str {
        match self {
            RegistryScope::Town => "town",
            RegistryScope::Department => "department",
        }
    }

    /// Who may read and who may keep the registry of `agency`.
    fn permit(self, actor: &Actor, action: Action, agency: &str) -> Result<(), ApiError> {
        match self {
            RegistryScope::Town => {
                let town = TownCode::parse(agency)
                    .map_err(|e| ApiError::field(self.field(), e.to_string()))?;
                permits(
                    actor,
                    action,
                    &Resource {
                        town,
                        department: None,
                    },
                )?;
            }
            RegistryScope::Department => {
                let department = DepartmentCode::parse(agency)
                    .map_err(|e| ApiError::field(self.field(), e.to_string()))?;
                permits_department_wide(actor, action, &department)?;
            }
        }
        Ok(())
    }

    /// Who may read the officers: for a town, anyone who may read its cases (the judicial
    /// office checks qualifications from them); for a department, whoever reads its inbox.
    fn read_action(self) -> Action {
        match self {
            RegistryScope::Town => Action::ReadCase,
            RegistryScope::Department => Action::ReadInbox,
        }
    }

    /// The town and department tokens of the registry's events: `<town>._` for a town; a
    /// department's registry belongs to no town, so its events carry `_` where the town goes
    /// (`county.<event>._.<department>`), as `_` stands for "no department" at the end.
    fn event_scope(self, agency: &str) -> (&str, Option<&str>) {
        match self {
            RegistryScope::Town => (agency, None),
            RegistryScope::Department => ("_", Some(agency)),
        }
    }
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CertRow {
    pub agency: String,
    #[sqlx(try_from = "String")]
    pub officer: OfficerId,
    pub certificate_no: String,
    pub issuing_authority: String,
    #[sqlx(try_from = "String")]
    pub valid_from: Day,
    #[sqlx(try_from = "String")]
    pub valid_until: Day,
    #[sqlx(try_from = "String")]
    pub status: CertificateStatus,
    pub status_note: String,
    pub registered_by: String,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AssessmentRow {
    pub certificate_no: String,
    pub passed: bool,
    pub note: String,
    pub assessed_by: String,
    pub assessed_at: DateTime<Utc>,
}

impl CertRow {
    fn to_domain(&self) -> Certificate {
        Certificate {
            number: self.certificate_no.clone(),
            officer: self.officer.clone(),
            issuing_authority: self.issuing_authority.clone(),
            valid_from: self.valid_from.0,
            valid_until: self.valid_until.0,
            status: self.status,
        }
    }

    pub fn to_pb(&self) -> ev::Certificate {
        ev::Certificate {
            certificate_no: self.certificate_no.clone(),
            officer: self.officer.to_string(),
            issuing_authority: self.issuing_authority.clone(),
            valid_from: self.valid_from.to_string(),
            valid_until: self.valid_until.to_string(),
            status: self.status.as_str().to_owned(),
        }
    }
}

const CERT_COLUMNS: &str = "agency, officer, certificate_no, issuing_authority, valid_from, \
     valid_until, status, status_note, registered_by, updated_at";

pub async fn cert_in_tx(
    tx: &mut Tx,
    agency: &str,
    officer: &str,
) -> Result<Option<CertRow>, sqlx::Error> {
    let sql = format!(
        "SELECT {CERT_COLUMNS} FROM officer_certificates WHERE agency = $1 AND officer = $2"
    );
    with_tx!(tx, |c| {
        let row = sqlx::query(&sql)
            .bind(agency)
            .bind(officer)
            .fetch_optional(&mut *c)
            .await?;
        row.as_ref()
            .map(|r| decode(r, "officer_certificates", "agency, officer"))
            .transpose()
    })
}

async fn upsert(tx: &mut Tx, r: &CertRow) -> Result<(), sqlx::Error> {
    with_tx!(tx, |c| sqlx::query(
        "INSERT INTO officer_certificates (agency, officer, certificate_no, issuing_authority, \
         valid_from, valid_until, status, status_note, registered_by, updated_at) \
         VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10) ON CONFLICT (agency, officer) DO UPDATE SET \
         certificate_no = excluded.certificate_no, issuing_authority = excluded.issuing_authority, \
         valid_from = excluded.valid_from, valid_until = excluded.valid_until, \
         status = excluded.status, status_note = excluded.status_note, \
         registered_by = excluded.registered_by, updated_at = excluded.updated_at"
    )
    .bind(&r.agency)
    .bind(r.officer.as_str())
    .bind(&r.certificate_no)
    .bind(&r.issuing_authority)
    .bind(r.valid_from.to_string())
    .bind(r.valid_until.to_string())
    .bind(r.status.as_str())
    .bind(&r.status_note)
    .bind(&r.registered_by)
    .bind(r.updated_at)
    .execute(&mut *c)
    .await
    .map(|_| ()))
}

async fn insert_assessment(
    tx: &mut Tx,
    r: &CertRow,
    passed: bool,
    note: &str,
    by: &str,
    at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    with_tx!(tx, |c| sqlx::query(
        "INSERT INTO officer_assessments (assessment_id, agency, officer, certificate_no, passed, \
         note, assessed_by, assessed_at) VALUES ($1,$2,$3,$4,$5,$6,$7,$8)"
    )
    .bind(Uuid::now_v7().to_string())
    .bind(&r.agency)
    .bind(r.officer.as_str())
    .bind(&r.certificate_no)
    .bind(passed)
    .bind(note)
    .bind(by)
    .bind(at)
    .execute(&mut *c)
    .await
    .map(|_| ()))
}

async fn list(db: &Db, agency: &str) -> Result<Vec<CertRow>, sqlx::Error> {
    let sql = format!(
        "SELECT {CERT_COLUMNS} FROM officer_certificates WHERE agency = $1 ORDER BY officer"
    );
    with_db!(db, |p| {
        let rows = sqlx::query(&sql).bind(agency).fetch_all(p).await?;
        decode_all(&rows, "officer_certificates", "agency, officer")
    })
}

async fn assessments(
    db: &Db,
    agency: &str,
    officer: &str,
) -> Result<Vec<AssessmentRow>, sqlx::Error> {
    with_db!(db, |p| sqlx::query_as::<_, AssessmentRow>(
        "SELECT certificate_no, passed, note, assessed_by, assessed_at FROM officer_assessments \
         WHERE agency = $1 AND officer = $2 ORDER BY assessed_at"
    )
    .bind(agency)
    .bind(officer)
    .fetch_all(p)
    .await)
}

/// The certificate `actor` acts under at `now`, checked in the registry of `agency`; refused
/// with PermissionDenied saying why when the action needs one and it is missing, expired,
/// suspended or revoked. Actions that need none give an empty number.
pub async fn require_certificate(
    tx: &mut Tx,
    actor: &Actor,
    action: Action,
    agency: &str,
    now: DateTime<Utc>,
) -> Result<String, ApiError> {
    if !action.needs_certificate() {
        return Ok(String::new());
    }
    let row = cert_in_tx(tx, agency, actor.officer.as_str()).await?;
    let cert = row.as_ref().map(CertRow::to_domain);
    check_valid(&actor.officer, cert.as_ref(), now)?;
    Ok(cert.map(|c| c.number).unwrap_or_default())
}

/// Refuses officers who may not handle a case on `now` (行政处罚法 第四十二条: enforcement
/// officers hold enforcement qualifications), naming each as `officers[i]`; their certificate
/// numbers otherwise.
pub async fn require_certified(
    tx: &mut Tx,
    agency: &str,
    officers: &[String],
    now: DateTime<Utc>,
) -> Result<Vec<String>, ApiError> {
    let mut v = Validator::new();
    let mut numbers = Vec::with_capacity(officers.len());
    for (i, o) in officers.iter().enumerate() {
        let cert = cert_in_tx(tx, agency, o).await?.map(|r| r.to_domain());
        let id = OfficerId::parse(o)
            .map_err(|e| ApiError::field(format!("officers[{i}]"), e.to_string()))?;
        if let Err(d) = check_valid(&id, cert.as_ref(), now) {
            v.violation(format!("officers[{i}]"), d.reason);
        }
        numbers.push(cert.map(|c| c.number).unwrap_or_default());
    }
    v.finish().map_err(ApiError::Invalid)?;
    Ok(numbers)
}

/// The certificate numbers the registry holds for `officers` (empty for those without one).
pub async fn numbers_of(
    tx: &mut Tx,
    agency: &str,
    officers: &[String],
) -> Result<Vec<String>, sqlx::Error> {
    let mut out = Vec::with_capacity(officers.len());
    for o in officers {
        out.push(
            cert_in_tx(tx, agency, o)
                .await?
                .map(|r| r.certificate_no)
                .unwrap_or_default(),
        );
    }
    Ok(out)
}

/// A certificate as a registration request states it.
pub struct Registration<'a> {
    pub officer: &'a str,
    pub certificate_no: &'a str,
    pub issuing_authority: &'a str,
    pub valid_from: &'a str,
    pub valid_until: &'a str,
}

fn parse_officer(v: &mut Validator, officer: &str) -> Option<OfficerId> {
    v.check("officer", OfficerId::parse(officer))
}

/// One agency's registry, bound to its service's database and outbox.
#[derive(Debug, Clone)]
pub struct CertificateRegistry {
    pub db: Db,
    pub outbox: Outbox,
    pub clock: SharedClock,
    /// The longest note or reason accepted.
    pub reason_chars: usize,
    pub scope: RegistryScope,
}

impl CertificateRegistry {
    async fn officer_record(&self, row: &CertRow) -> Result<ev::OfficerRecord, ApiError> {
        let history = assessments(&self.db, &row.agency, row.officer.as_str()).await?;
        Ok(ev::OfficerRecord {
            agency: row.agency.clone(),
            certificate: Some(row.to_pb()),
            assessments: history
                .into_iter()
                .map(|a| ev::Assessment {
                    certificate_no: a.certificate_no,
                    passed: a.passed,
                    note: a.note,
                    assessed_by: a.assessed_by,
                    assessed_at: Some(to_ts(a.assessed_at)),
                })
                .collect(),
            status_note: row.status_note.clone(),
            registered_by: row.registered_by.clone(),
            updated_at: Some(to_ts(row.updated_at)),
        })
    }

    /// Stores the row and emits `officer_certificate_changed` in one transaction.
    async fn change(
        &self,
        tx: &mut Tx,
        actor: &Actor,
        row: &CertRow,
        change: &str,
        note: &str,
        now: DateTime<Utc>,
    ) -> Result<(), ApiError> {
        upsert(tx, row).await?;
        let (town, department) = self.scope.event_scope(&row.agency);
        let changed = ev::OfficerCertificateChanged {
            agency: row.agency.clone(),
            certificate: Some(row.to_pb()),
            change: change.into(),
            note: note.into(),
        };
        // A town's registry is kept by its brigade, a department's by the county service.
        let event = match self.scope {
            RegistryScope::Town => AnyEvent::BrigadeOfficerCertificateChanged(changed),
            RegistryScope::Department => AnyEvent::CountyOfficerCertificateChanged(changed),
        };
        self.outbox
            .emit(
                tx,
                now,
                NewEvent {
                    town,
                    department,
                    aggregate_id: &format!("officer:{}:{}", row.agency, row.officer),
                    actor: Some(actor_to_event(actor)),
                    causation_id: None,
                },
                event,
            )
            .await?;
        Ok(())
    }

    pub async fn register_certificate(
        &self,
        actor: &Actor,
        agency: &str,
        r: Registration<'_>,
    ) -> Result<ev::OfficerRecord, ApiError> {
        let (number, authority) = (r.certificate_no, r.issuing_authority);
        let mut v = Validator::new();
        let officer = parse_officer(&mut v, r.officer);
        let dates = check_registration(&mut v, number, authority, r.valid_from, r.valid_until);
        v.finish().map_err(ApiError::Invalid)?;
        self.scope.permit(actor, Action::RegisterOfficer, agency)?;
        let (officer, (from, until)) = (officer.expect("checked"), dates.expect("checked"));
        let now = self.clock.now();
        let row = CertRow {
            agency: agency.into(),
            officer,
            certificate_no: number.trim().into(),
            issuing_authority: authority.trim().into(),
            valid_from: Day(from),
            valid_until: Day(until),
            status: CertificateStatus::Active,
            status_note: String::new(),
            registered_by: actor_label(actor),
            updated_at: now,
        };
        let mut tx = Change::begin(&self.db, &self.outbox).await?;
        self.change(&mut tx, actor, &row, "registered", "", now)
            .await?;
        tx.commit().await?;
        self.officer_record(&row).await
    }

    async fn load(
        &self,
        tx: &mut Tx,
        actor: &Actor,
        agency: &str,
        officer: &str,
    ) -> Result<CertRow, ApiError> {
        let mut v = Validator::new();
        let officer = parse_officer(&mut v, officer);
        v.finish().map_err(ApiError::Invalid)?;
        self.scope.permit(actor, Action::RegisterOfficer, agency)?;
        let officer = officer.expect("checked");
        cert_in_tx(tx, agency, officer.as_str())
            .await?
            .ok_or_else(|| {
                ApiError::NotFound(format!(
                    "officer {officer} has no certificate in the registry of {agency}"
                ))
            })
    }

    /// A failed assessment suspends the certificate (moved off enforcement posts); a passed one
    /// reinstates a suspended certificate. A revoked certificate is not assessed.
    pub async fn assess_officer(
        &self,
        actor: &Actor,
        agency: &str,
        officer: &str,
        passed: bool,
        note: &str,
    ) -> Result<ev::OfficerRecord, ApiError> {
        let mut v = Validator::new();
        v.text("note", note, self.reason_chars, !passed);
        v.finish().map_err(ApiError::Invalid)?;
        let now = self.clock.now();
        let mut tx = Change::begin(&self.db, &self.outbox).await?;
        let mut row = self.load(&mut tx, actor, agency, officer).await?;
        if row.status == CertificateStatus::Revoked {
            return Err(ApiError::FailedPrecondition(format!(
                "certificate {} of {} is revoked; register a new one",
                row.certificate_no, row.officer
            )));
        }
        let who = actor_label(actor);
        insert_assessment(&mut tx, &row, passed, note.trim(), &who, now).await?;
        let change = if passed {
            row.status = CertificateStatus::Active;
            row.status_note = String::new();
            "assessment_passed"
        } else {
            row.status = CertificateStatus::Suspended;
            row.status_note = note.trim().into();
            "suspended"
        };
        row.updated_at = now;
        self.change(&mut tx, actor, &row, change, note.trim(), now)
            .await?;
        tx.commit().await?;
        self.officer_record(&row).await
    }

    pub async fn revoke(
        &self,
        actor: &Actor,
        agency: &str,
        officer: &str,
        reason: &str,
    ) -> Result<ev::OfficerRecord, ApiError> {
        let mut v = Validator::new();
        v.text("reason", reason, self.reason_chars, true);
        v.finish().map_err(ApiError::Invalid)?;
        let now = self.clock.now();
        let mut tx = Change::begin(&self.db, &self.outbox).await?;
        let mut row = self.load(&mut tx, actor, agency, officer).await?;
        if row.status == CertificateStatus::Revoked {
            return Err(ApiError::FailedPrecondition(format!(
                "certificate {} of {} is already revoked",
                row.certificate_no, row.officer
            )));
        }
        row.status = CertificateStatus::Revoked;
        row.status_note = reason.trim().into();
        row.updated_at = now;
        self.change(&mut tx, actor, &row, "revoked", reason.trim(), now)
            .await?;
        tx.commit().await?;
        self.officer_record(&row).await
    }

    pub async fn officers_of(
        &self,
        actor: &Actor,
        agency: &str,
    ) -> Result<Vec<ev::OfficerRecord>, ApiError> {
        self.scope.permit(actor, self.scope.read_action(), agency)?;
        let mut out = Vec::new();
        for row in list(&self.db, agency).await? {
            out.push(self.officer_record(&row).await?);
        }
        Ok(out)
    }
}
