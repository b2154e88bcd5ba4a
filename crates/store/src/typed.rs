//! Typed columns and rows that name themselves when they cannot be read.
//!
//! A row keeps its status as the domain's enum (`#[sqlx(try_from = "String")]`, through the
//! enum's `TryFrom<String>`), a list as [`Json`] text and a protobuf message as [`Proto`]
//! bytes. A value that no longer decodes is an error, never a default, and [`decode`] names the
//! table and the row's key in it.

use std::fmt;

use serde::Serialize;
use serde::de::DeserializeOwned;
use sqlx::{ColumnIndex, Decode, FromRow, Row, Type};

/// A value stored as JSON text.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Json<T>(pub T);

impl<T: Serialize> Json<T> {
    /// The JSON text to store.
    pub fn text(&self) -> String {
        serde_json::to_string(&self.0).expect("a value of a serialisable type serialises")
    }
}

impl<T: DeserializeOwned> TryFrom<String> for Json<T> {
    type Error = BadColumn;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        serde_json::from_str(&s).map(Json).map_err(|e| BadColumn {
            what: std::any::type_name::<T>(),
            why: e.to_string(),
        })
    }
}

impl<T> std::ops::Deref for Json<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T> std::ops::DerefMut for Json<T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.0
    }
}

/// A protobuf message stored as its encoding.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Proto<T>(pub T);

impl<T: prost::Message> Proto<T> {
    /// The bytes to store.
    pub fn bytes(&self) -> Vec<u8> {
        self.0.encode_to_vec()
    }
}

impl<T: prost::Message + Default> TryFrom<Vec<u8>> for Proto<T> {
    type Error = BadColumn;
    fn try_from(b: Vec<u8>) -> Result<Self, Self::Error> {
        T::decode(b.as_slice()).map(Proto).map_err(|e| BadColumn {
            what: std::any::type_name::<T>(),
            why: e.to_string(),
        })
    }
}

impl<T> std::ops::Deref for Proto<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T> std::ops::DerefMut for Proto<T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.0
    }
}

/// A protobuf message that may be absent (a NULL column), stored as its encoding.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct OptProto<T>(pub Option<T>);

impl<T: prost::Message> OptProto<T> {
    /// The bytes to store, or NULL.
    pub fn bytes(&self) -> Option<Vec<u8>> {
        self.0.as_ref().map(prost::Message::encode_to_vec)
    }
}

impl<T: prost::Message + Default> TryFrom<Option<Vec<u8>>> for OptProto<T> {
    type Error = BadColumn;
    fn try_from(b: Option<Vec<u8>>) -> Result<Self, Self::Error> {
        b.map(|b| Proto::try_from(b).map(|p| p.0))
            .transpose()
            .map(OptProto)
    }
}

impl<T> std::ops::Deref for OptProto<T> {
    type Target = Option<T>;
    fn deref(&self) -> &Option<T> {
        &self.0
    }
}

impl<T> std::ops::DerefMut for OptProto<T> {
    fn deref_mut(&mut self) -> &mut Option<T> {
        &mut self.0
    }
}

/// A stored value that does not decode as its type.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a {what}: {why}")]
pub struct BadColumn {
    pub what: &'static str,
    pub why: String,
}

/// A row that could not be read, named by its table and key.
#[derive(Debug, thiserror::Error)]
pub struct CorruptRow {
    pub table: &'static str,
    pub key_column: &'static str,
    pub key: String,
    #[source]
    pub source: sqlx::Error,
}

impl fmt::Display for CorruptRow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the {} row {} = {:?} cannot be read: {}",
            self.table, self.key_column, self.key, self.source
        )
    }
}

/// Decodes `row` of `table` as `T`; a column that does not decode is an error naming the table,
/// the row's key (`key_column`) and the column.
pub fn decode<'r, R, T>(
    row: &'r R,
    table: &'static str,
    key_column: &'static str,
) -> Result<T, sqlx::Error>
where
    R: Row,
    T: FromRow<'r, R>,
    String: Decode<'r, R::Database> + Type<R::Database>,
    &'static str: ColumnIndex<R>,
{
    T::from_row(row).map_err(|source| {
        let key = row
            .try_get::<String, _>(key_column)
            .unwrap_or_else(|e| format!("(unreadable: {e})"));
        sqlx::Error::Decode(Box::new(CorruptRow {
            table,
            key_column,
            key,
            source,
        }))
    })
}

/// Decodes every row of `table` as `T`, naming the first that cannot be read.
pub fn decode_all<'r, R, T>(
    rows: &'r [R],
    table: &'static str,
    key_column: &'static str,
) -> Result<Vec<T>, sqlx::Error>
where
    R: Row,
    T: FromRow<'r, R>,
    String: Decode<'r, R::Database> + Type<R::Database>,
    &'static str: ColumnIndex<R>,
{
    rows.iter().map(|r| decode(r, table, key_column)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_list_that_is_not_json_is_an_error_not_an_empty_list() {
        let ok: Json<Vec<String>> = Json::try_from(r#"["a","b"]"#.to_owned()).unwrap();
        assert_eq!(ok.0, ["a", "b"]);
        assert_eq!(ok.text(), r#"["a","b"]"#);
        let bad = Json::<Vec<String>>::try_from("[\"a\"".to_owned()).unwrap_err();
        assert!(
            bad.to_string().starts_with("not a alloc::vec::Vec"),
            "{bad}"
        );
    }
}
