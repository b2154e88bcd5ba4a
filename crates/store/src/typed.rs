//! Typed columns and rows that name themselves when they cannot be read.
//!
//! A row keeps its status as the domain's enum (`#[sqlx(try_from = "String")]`, through the
//! enum's `TryFrom<String>`), a list as [`Json`] text, a protobuf message as [`Proto`] bytes,
//! and any of them in a column that may hold nothing as [`Nullable`]. A value that no longer
//! decodes is an error, never a default, and [`decode`] names the table and the row's key in it.

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

/// A typed column that may hold nothing: NULL (`#[sqlx(try_from = "Option<String>")]`, or
/// `"Option<Vec<u8>>"` for bytes) or, in the columns that store nothing as the empty text, `''`
/// (`#[sqlx(try_from = "String")]`). Anything else must decode as `T`: a value that does not is
/// an error, never "nothing". (A field cannot be `Option<T>` itself: `TryFrom<Option<String>>`
/// cannot be implemented for `Option`, which belongs to the standard library.)
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Nullable<T>(pub Option<T>);

impl<T> Default for Nullable<T> {
    fn default() -> Self {
        Nullable(None)
    }
}

impl<T: TryFrom<String>> TryFrom<Option<String>> for Nullable<T> {
    type Error = T::Error;
    fn try_from(s: Option<String>) -> Result<Self, Self::Error> {
        s.map(T::try_from).transpose().map(Nullable)
    }
}

impl<T: TryFrom<Vec<u8>>> TryFrom<Option<Vec<u8>>> for Nullable<T> {
    type Error = T::Error;
    fn try_from(b: Option<Vec<u8>>) -> Result<Self, Self::Error> {
        b.map(T::try_from).transpose().map(Nullable)
    }
}

impl<T: TryFrom<String>> TryFrom<String> for Nullable<T> {
    type Error = T::Error;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        if s.is_empty() {
            Ok(Nullable(None))
        } else {
            T::try_from(s).map(|v| Nullable(Some(v)))
        }
    }
}

impl<T: Serialize> Nullable<Json<T>> {
    /// The JSON text to store, or NULL.
    pub fn text(&self) -> Option<String> {
        self.0.as_ref().map(Json::text)
    }
}

impl<T: prost::Message> Nullable<Proto<T>> {
    /// The bytes to store, or NULL.
    pub fn bytes(&self) -> Option<Vec<u8>> {
        self.0.as_ref().map(Proto::bytes)
    }
}

impl<T> std::ops::Deref for Nullable<T> {
    type Target = Option<T>;
    fn deref(&self) -> &Option<T> {
        &self.0
    }
}

impl<T> std::ops::DerefMut for Nullable<T> {
    fn deref_mut(&mut self) -> &mut Option<T> {
        &mut self.0
    }
}

/// A day stored as `YYYY-MM-DD` text, as the registries' events carry it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Day(pub chrono::NaiveDate);

impl Day {
    pub fn parse(s: &str) -> Result<Day, chrono::ParseError> {
        chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").map(Day)
    }
}

impl TryFrom<String> for Day {
    type Error = chrono::ParseError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Day::parse(&s)
    }
}

impl fmt::Display for Day {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0.format("%Y-%m-%d"))
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
/// the row's key (`key_column`; a key of several columns is named `"review_id, round"`; each is
/// read as text or an integer) and the column.
pub fn decode<'r, R, T>(
    row: &'r R,
    table: &'static str,
    key_column: &'static str,
) -> Result<T, sqlx::Error>
where
    R: Row,
    T: FromRow<'r, R>,
    String: Decode<'r, R::Database> + Type<R::Database>,
    i64: Decode<'r, R::Database> + Type<R::Database>,
    i32: Decode<'r, R::Database> + Type<R::Database>,
    Vec<u8>: Decode<'r, R::Database> + Type<R::Database>,
    for<'c> &'c str: ColumnIndex<R>,
{
    T::from_row(row).map_err(|source| {
        let key = key_column
            .split(',')
            .map(|c| {
                let c = c.trim();
                row.try_get::<String, _>(c)
                    .or_else(|_| row.try_get::<i64, _>(c).map(|n| n.to_string()))
                    .or_else(|_| row.try_get::<i32, _>(c).map(|n| n.to_string()))
                    .unwrap_or_else(|e| format!("(unreadable: {e})"))
            })
            .collect::<Vec<_>>()
            .join(", ");
        sqlx::Error::Decode(Box::new(CorruptRow {
            table,
            key_column,
            key,
            source: with_stored_value(row, source),
        }))
    })
}

/// What sqlx 0.8.6 reports for a `#[sqlx(try_from = ...)]` conversion that failed, whatever
/// the conversion said: its `__spec_error!` calls the autoderef-specialised method on the
/// wrapper by value, so the catch-all impl always wins and the reason is lost.
const UNPRINTABLE: &str = "unprintable error";

/// Puts what the column holds where sqlx lost the conversion's reason: the stored text (its
/// first 64 characters) or the number of bytes, which says what is wrong with a status or a
/// list at a glance.
fn with_stored_value<'r, R>(row: &'r R, e: sqlx::Error) -> sqlx::Error
where
    R: Row,
    String: Decode<'r, R::Database> + Type<R::Database>,
    Vec<u8>: Decode<'r, R::Database> + Type<R::Database>,
    for<'c> &'c str: ColumnIndex<R>,
{
    match e {
        sqlx::Error::ColumnDecode { index, source }
            if source.to_string().starts_with(UNPRINTABLE) =>
        {
            let held = row
                .try_get::<String, _>(index.as_str())
                .map(|s| {
                    let s: String = s.chars().take(64).collect();
                    format!("the stored text {s:?} does not")
                })
                .or_else(|_| {
                    row.try_get::<Vec<u8>, _>(index.as_str())
                        .map(|b| format!("the stored {} bytes do not", b.len()))
                })
                .unwrap_or_else(|_| "the stored value does not".to_owned());
            sqlx::Error::ColumnDecode {
                index,
                source: format!("{held} read as the field's type").into(),
            }
        }
        other => other,
    }
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
    i64: Decode<'r, R::Database> + Type<R::Database>,
    i32: Decode<'r, R::Database> + Type<R::Database>,
    Vec<u8>: Decode<'r, R::Database> + Type<R::Database>,
    for<'c> &'c str: ColumnIndex<R>,
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

    #[test]
    fn a_nullable_column_is_none_only_when_it_holds_nothing() {
        let json = |s: Option<&str>| Nullable::<Json<Vec<String>>>::try_from(s.map(str::to_owned));
        assert_eq!(json(None).unwrap(), Nullable(None));
        assert_eq!(json(Some("[]")).unwrap(), Nullable(Some(Json(vec![]))));
        assert!(
            json(Some("")).is_err(),
            "NULL is nothing; empty text is not a list"
        );
        let blank = |s: &str| Nullable::<Json<Vec<String>>>::try_from(s.to_owned());
        assert_eq!(blank("").unwrap(), Nullable(None));
        assert!(blank("[").is_err());
        assert_eq!(
            Nullable(Some(Json(vec!["a".to_owned()]))).text(),
            Some(r#"["a"]"#.into())
        );
    }
}
