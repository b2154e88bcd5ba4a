//! What every data file shares: the TOML is read as a table and checked field by field, so
//! that a broken file refuses to load with an error naming the file, the entry and the field.

use std::fmt;

use toml::{Table, Value};

/// Why a data file (the catalogue, the town registry) refuses to load; names the file, the
/// entry and the field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataFileError {
    pub file: String,
    /// The entry, e.g. `matter "CXGH-001"` or `department #2` when it has no usable code.
    pub entry: Option<String>,
    /// The field within the entry (or at the top level), e.g. `major.fine_at_or_above_fen`.
    pub field: Option<String>,
    pub message: String,
}

impl fmt::Display for DataFileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: ", self.file)?;
        if let Some(entry) = &self.entry {
            write!(f, "{entry}: ")?;
        }
        if let Some(field) = &self.field {
            write!(f, "field {field:?}: ")?;
        }
        f.write_str(&self.message)
    }
}

impl std::error::Error for DataFileError {}

pub(crate) fn syntax_error(file: &str, src: &str, e: &toml::de::Error) -> DataFileError {
    let message = match e.span() {
        Some(span) => {
            let before = &src[..span.start.min(src.len())];
            let line = before.matches('\n').count() + 1;
            let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
            format!(
                "TOML error at line {line}, column {column}: {}",
                e.message().trim()
            )
        }
        None => format!("TOML error: {}", e.message().trim()),
    };
    DataFileError {
        file: file.to_owned(),
        entry: None,
        field: None,
        message,
    }
}

/// Where in the file we are, so that every error can say it.
pub(crate) struct Ctx<'a> {
    pub(crate) file: &'a str,
    pub(crate) entry: Option<String>,
}

impl<'a> Ctx<'a> {
    pub(crate) fn entry(file: &'a str, kind: &str, code: Option<&str>, index: usize) -> Self {
        let entry = match code {
            Some(code) => format!("{kind} {code:?}"),
            // 1-based, as a person counts the [[...]] blocks in the file.
            None => format!("{kind} #{}", index + 1),
        };
        Ctx {
            file,
            entry: Some(entry),
        }
    }

    pub(crate) fn err(&self, field: &str, message: impl Into<String>) -> DataFileError {
        DataFileError {
            file: self.file.to_owned(),
            entry: self.entry.clone(),
            field: Some(field.to_owned()),
            message: message.into(),
        }
    }

    pub(crate) fn check_keys(
        &self,
        table: &Table,
        allowed: &[&str],
        prefix: &str,
    ) -> Result<(), DataFileError> {
        match table.keys().find(|k| !allowed.contains(&k.as_str())) {
            Some(key) => Err(self.err(
                &format!("{prefix}{key}"),
                format!("unknown field, expected one of: {}", allowed.join(", ")),
            )),
            None => Ok(()),
        }
    }

    pub(crate) fn opt_str<'t>(
        &self,
        table: &'t Table,
        key: &str,
        field: &str,
    ) -> Result<Option<&'t str>, DataFileError> {
        match table.get(key) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(v) => Err(self.err(field, format!("must be a string, found {}", v.type_str()))),
        }
    }

    pub(crate) fn req_str<'t>(
        &self,
        table: &'t Table,
        key: &str,
        field: &str,
    ) -> Result<&'t str, DataFileError> {
        self.opt_str(table, key, field)?
            .ok_or_else(|| self.err(field, "is required"))
    }

    pub(crate) fn name(&self, table: &Table, key: &str) -> Result<String, DataFileError> {
        let name = self.req_str(table, key, key)?.trim();
        if name.is_empty() {
            return Err(self.err(key, "must not be empty"));
        }
        Ok(name.to_owned())
    }

    pub(crate) fn opt_bool(
        &self,
        table: &Table,
        key: &str,
        field: &str,
    ) -> Result<bool, DataFileError> {
        match table.get(key) {
            None => Ok(false),
            Some(Value::Boolean(b)) => Ok(*b),
            Some(v) => Err(self.err(
                field,
                format!("must be true or false, found {}", v.type_str()),
            )),
        }
    }

    pub(crate) fn opt_table<'t>(
        &self,
        table: &'t Table,
        key: &str,
    ) -> Result<Option<&'t Table>, DataFileError> {
        match table.get(key) {
            None => Ok(None),
            Some(Value::Table(t)) => Ok(Some(t)),
            Some(v) => Err(self.err(key, format!("must be a table, found {}", v.type_str()))),
        }
    }

    pub(crate) fn array_of_tables<'t>(
        &self,
        table: &'t Table,
        key: &str,
    ) -> Result<&'t [Value], DataFileError> {
        match table.get(key) {
            None => Ok(&[]),
            Some(Value::Array(items)) => match items.iter().position(|v| !v.is_table()) {
                Some(i) => Err(self.err(&format!("{key}[{i}]"), "must be a table")),
                None => Ok(items),
            },
            Some(v) => Err(self.err(
                key,
                format!(
                    "must be an array of tables ([[{key}]]), found {}",
                    v.type_str()
                ),
            )),
        }
    }
}

/// The table of an entry, and a context that names it by its code when the code is readable.
pub(crate) fn entry_ctx<'a, 't>(
    file: &'a str,
    kind: &str,
    index: usize,
    value: &'t Value,
) -> (Ctx<'a>, &'t Table) {
    let table = value
        .as_table()
        .expect("array_of_tables checked every item is a table");
    let code = table
        .get("code")
        .and_then(Value::as_str)
        .filter(|c| !c.trim().is_empty());
    (Ctx::entry(file, kind, code, index), table)
}
