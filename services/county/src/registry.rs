//! A department's registry of enforcement certificates (持证上岗): the shared registry of
//! `liandong_registry`, bound to the county's database and scoped to departments.

use liandong_registry::{CertificateRegistry, RegistryScope};

pub use liandong_registry::{Registration, cert_in_tx, require_certificate};

use crate::context::Api;

impl Api {
    /// The registry of the department a request names.
    pub(crate) fn registry(&self) -> CertificateRegistry {
        CertificateRegistry {
            db: self.db.clone(),
            outbox: self.outbox.clone(),
            clock: self.clock.clone(),
            reason_chars: self.limits.reason_chars,
            scope: RegistryScope::Department,
        }
    }
}
