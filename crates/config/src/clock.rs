//! Time as a dependency: services read the clock through [`Clock`], so tests can drive it.

use std::sync::{Arc, Mutex};

use chrono::{DateTime, Duration, Utc};

/// A source of the current instant, truncated to microseconds (what both databases keep).
pub trait Clock: Send + Sync + std::fmt::Debug {
    fn now(&self) -> DateTime<Utc>;
}

pub type SharedClock = Arc<dyn Clock>;

/// The wall clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        micros(Utc::now())
    }
}

/// A clock that only moves when told to, for tests.
#[derive(Debug, Clone)]
pub struct ManualClock(Arc<Mutex<DateTime<Utc>>>);

impl ManualClock {
    pub fn new(at: DateTime<Utc>) -> Self {
        Self(Arc::new(Mutex::new(micros(at))))
    }
    pub fn set(&self, at: DateTime<Utc>) {
        *self.0.lock().expect("clock lock") = micros(at);
    }
    pub fn advance(&self, by: Duration) {
        let mut t = self.0.lock().expect("clock lock");
        *t = micros(*t + by);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().expect("clock lock")
    }
}

/// The wall clock moved by an offset read from a file at every reading (a signed number of
/// milliseconds; a missing or empty file is no offset). For tests and drills only: a test moves
/// the time of every service process at once by rewriting the file, never by sleeping.
#[derive(Debug, Clone)]
pub struct OffsetFileClock {
    file: std::path::PathBuf,
}

impl OffsetFileClock {
    pub fn new(file: impl Into<std::path::PathBuf>) -> Self {
        Self { file: file.into() }
    }

    /// Writes the offset that makes the clock read `at` now (atomically, by rename).
    pub fn set_file(file: &std::path::Path, at: DateTime<Utc>) -> std::io::Result<()> {
        let offset = (at - Utc::now()).num_milliseconds();
        let tmp = file.with_extension("tmp");
        std::fs::write(&tmp, offset.to_string())?;
        std::fs::rename(tmp, file)
    }

    fn offset(&self) -> Duration {
        std::fs::read_to_string(&self.file)
            .ok()
            .and_then(|s| s.trim().parse::<i64>().ok())
            .map_or(Duration::zero(), Duration::milliseconds)
    }
}

impl Clock for OffsetFileClock {
    fn now(&self) -> DateTime<Utc> {
        micros(Utc::now() + self.offset())
    }
}

/// The clock a service process runs on: the wall clock, or the offset clock when configured.
pub fn from_config(cfg: &crate::Config) -> SharedClock {
    match &cfg.clock_offset_file {
        Some(file) => {
            tracing::warn!(file = %file.display(), "The clock is moved by an offset file (tests and drills only).");
            Arc::new(OffsetFileClock::new(file))
        }
        None => Arc::new(SystemClock),
    }
}

pub use liandong_proto::time::micros;
