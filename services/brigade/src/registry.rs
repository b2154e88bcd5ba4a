//! The town's registry of enforcement certificates (持证上岗): the shared registry of
//! `liandong_registry`, bound to the brigade's database and scoped to its towns.

use liandong_registry::{CertificateRegistry, RegistryScope};

pub use liandong_registry::{Registration, numbers_of, require_certificate, require_certified};

use crate::context::Api;

impl Api {
    /// The registry of the town a request names.
    pub(crate) fn registry(&self) -> CertificateRegistry {
        CertificateRegistry {
            db: self.db.clone(),
            outbox: self.outbox.clone(),
            clock: self.clock.clone(),
            reason_chars: self.limits.reason_chars,
            scope: RegistryScope::Town,
        }
    }
}
