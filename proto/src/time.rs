//! Conversions between chrono instants and protobuf timestamps.

use chrono::{DateTime, Utc};
use prost_types::Timestamp;

pub fn to_ts(at: DateTime<Utc>) -> Timestamp {
    Timestamp {
        seconds: at.timestamp(),
        nanos: at.timestamp_subsec_micros() as i32 * 1000,
    }
}

/// `None` for a missing or out-of-range timestamp.
pub fn from_ts(ts: Option<&Timestamp>) -> Option<DateTime<Utc>> {
    let ts = ts?;
    DateTime::from_timestamp(ts.seconds, u32::try_from(ts.nanos).ok()?).map(micros)
}

/// Truncates an instant to whole microseconds (what both databases keep).
pub fn micros(at: DateTime<Utc>) -> DateTime<Utc> {
    use chrono::DurationRound;
    at.duration_trunc(chrono::Duration::microseconds(1))
        .unwrap_or(at)
}
