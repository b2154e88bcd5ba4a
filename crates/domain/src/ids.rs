//! Identifiers parsed at the edge: towns, departments, matters, officers, and ids that carry their town.

use std::fmt;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Why a string is not a valid identifier; `kind` names what was being parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {kind} {value:?}: {reason}")]
pub struct IdError {
    pub kind: &'static str,
    pub value: String,
    pub reason: &'static str,
}

fn err(kind: &'static str, value: &str, reason: &'static str) -> IdError {
    IdError {
        kind,
        value: value.chars().take(64).collect(),
        reason,
    }
}

macro_rules! string_id {
    ($(#[$doc:meta])* $name:ident, $kind:literal, $check:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            pub fn parse(s: &str) -> Result<Self, IdError> {
                let check: fn(&str) -> Result<(), &'static str> = $check;
                check(s).map_err(|reason| err($kind, s, reason))?;
                Ok(Self(s.to_owned()))
            }
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
        impl TryFrom<String> for $name {
            type Error = IdError;
            fn try_from(s: String) -> Result<Self, IdError> {
                Self::parse(&s)
            }
        }
        impl From<$name> for String {
            fn from(v: $name) -> String {
                v.0
            }
        }
        impl std::str::FromStr for $name {
            type Err = IdError;
            fn from_str(s: &str) -> Result<Self, IdError> {
                Self::parse(s)
            }
        }
    };
}

string_id!(
    /// A town (乡镇) by its 9-digit administrative division code, e.g. `330782101`:
    /// six digits of the county and three of the town.
    TownCode,
    "town code",
    |s| {
        if s.len() != 9 || !s.bytes().all(|b| b.is_ascii_digit()) {
            Err("must be the town's 9-digit administrative division code")
        } else {
            Ok(())
        }
    }
);

string_id!(
    /// A county (县、县级市、区) by its 6-digit administrative division code, e.g. `330782`.
    CountyCode,
    "county code",
    |s| {
        if s.len() != 6 || !s.bytes().all(|b| b.is_ascii_digit()) {
            Err("must be the county's 6-digit administrative division code")
        } else {
            Ok(())
        }
    }
);

string_id!(
    /// A village or community (村、社区) by its 12-digit statistical division code, e.g.
    /// `330782101202`: nine digits of the town and three of the village.
    VillageCode,
    "village code",
    |s| {
        if s.len() != 12 || !s.bytes().all(|b| b.is_ascii_digit()) {
            Err("must be the village's 12-digit division code")
        } else {
            Ok(())
        }
    }
);

string_id!(
    /// A county department by a short lowercase code, e.g. `forestry`, `public_security`.
    DepartmentCode,
    "department code",
    |s| {
        let ok = (2..=32).contains(&s.len())
            && s.as_bytes()[0].is_ascii_lowercase()
            && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        if ok {
            Ok(())
        } else {
            Err("must be 2 to 32 characters of a-z, 0-9 and _, starting with a letter")
        }
    }
);

string_id!(
    /// An enforcement matter of the catalogue, e.g. `CXGH-001`.
    MatterCode,
    "matter code",
    |s| {
        let ok = (2..=32).contains(&s.len())
            && s.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'-');
        if ok {
            Ok(())
        } else {
            Err("must be 2 to 32 characters of A-Z, 0-9 and -")
        }
    }
);

string_id!(
    /// An officer or staff member, by the id the agency gives them.
    OfficerId,
    "officer id",
    |s| {
        let ok = (1..=64).contains(&s.len())
            && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.');
        if ok {
            Ok(())
        } else {
            Err("must be 1 to 64 characters of A-Z, a-z, 0-9, -, _ and .")
        }
    }
);

string_id!(
    /// A client's id for one request it may have to repeat (a report whose answer a crash or
    /// a dropped connection cut off): the same id makes the same request once. A UUID fits.
    RequestId,
    "request id",
    |s| {
        let ok = (8..=64).contains(&s.len())
            && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if ok {
            Ok(())
        } else {
            Err("must be 8 to 64 characters of A-Z, a-z, 0-9, - and _ (a UUID fits)")
        }
    }
);

/// An id that carries the town it belongs to: `<town>-<uuid v7>`, so that any row, subject
/// or log line that holds it also says whose it is.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct TownScopedId {
    town: TownCode,
    uuid: Uuid,
}

impl TownScopedId {
    /// A new id for `town`; the caller passes the UUIDv7 so that the domain stays free of clocks.
    pub fn new(town: TownCode, uuid: Uuid) -> Self {
        Self { town, uuid }
    }
    pub fn parse(s: &str) -> Result<Self, IdError> {
        let (town, rest) = s
            .split_once('-')
            .ok_or_else(|| err("id", s, "must be <town code>-<uuid>"))?;
        let town = TownCode::parse(town)
            .map_err(|_| err("id", s, "must start with a 9-digit town code"))?;
        let uuid = Uuid::parse_str(rest).map_err(|_| err("id", s, "must end with a UUID"))?;
        Ok(Self { town, uuid })
    }
    pub fn town(&self) -> &TownCode {
        &self.town
    }
    pub fn uuid(&self) -> Uuid {
        self.uuid
    }
}

impl fmt::Display for TownScopedId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.town, self.uuid)
    }
}
impl TryFrom<String> for TownScopedId {
    type Error = IdError;
    fn try_from(s: String) -> Result<Self, IdError> {
        Self::parse(&s)
    }
}
impl From<TownScopedId> for String {
    fn from(v: TownScopedId) -> String {
        v.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_parse_and_refuse() {
        assert!(TownCode::parse("330782101").is_ok());
        assert!(TownCode::parse("33078210").is_err());
        assert!(DepartmentCode::parse("forestry").is_ok());
        assert!(DepartmentCode::parse("Forestry").is_err());
        assert!(MatterCode::parse("CXGH-001").is_ok());
        assert!(MatterCode::parse("cx").is_err());
        assert!(OfficerId::parse("zhang.san").is_ok());
        assert!(OfficerId::parse("").is_err());
    }

    #[test]
    fn a_town_scoped_id_round_trips() {
        let id = TownScopedId::new(TownCode::parse("330782101").unwrap(), Uuid::nil());
        let s = id.to_string();
        assert_eq!(s, "330782101-00000000-0000-0000-0000-000000000000");
        assert_eq!(TownScopedId::parse(&s).unwrap(), id);
        assert!(TownScopedId::parse("x-y").is_err());
    }
}
