//! Schema parity: each service's PostgreSQL and SQLite migrations build the same tables.

use std::collections::{BTreeMap, BTreeSet};

use liandong_store::{Db, Migrations};
use liandong_tests::{Backend, TestEnv};

#[tokio::test]
async fn the_brigade_schema_is_the_same_on_both_backends() {
    check("brigade", liandong_brigade::MIGRATIONS).await;
}

#[tokio::test]
async fn the_county_schema_is_the_same_on_both_backends() {
    check("county", liandong_county::MIGRATIONS).await;
}

#[tokio::test]
async fn the_board_schema_is_the_same_on_both_backends() {
    check("board", liandong_board::MIGRATIONS).await;
}

#[tokio::test]
async fn the_review_schema_is_the_same_on_both_backends() {
    check("review", liandong_review::MIGRATIONS).await;
}

#[tokio::test]
async fn the_disclosure_schema_is_the_same_on_both_backends() {
    check("disclosure", liandong_disclosure::MIGRATIONS).await;
}

#[tokio::test]
async fn the_readmodel_schema_is_the_same_on_both_backends() {
    check("readmodel", liandong_readmodel::MIGRATIONS).await;
}

/// One column: name, normalised type, nullable.
type Column = (String, String, bool);

#[derive(Debug, Default, PartialEq, Eq)]
struct Table {
    columns: Vec<Column>,
    primary_key: Vec<String>,
    /// Named indexes (not those behind a primary key or unique constraint), with their columns.
    indexes: BTreeMap<String, Vec<String>>,
    /// The column lists of unique constraints, whose names differ between the backends.
    unique: BTreeSet<Vec<String>>,
}

type Schema = BTreeMap<String, Table>;

async fn check(service: &str, migrations: &[&Migrations]) {
    let env = TestEnv::new(Backend::Postgres);
    let pg = env
        .open_db(service, migrations)
        .await
        .expect("PostgreSQL migrates");
    let lite = Db::open(None, &env.cfg.data_dir, service, 2)
        .await
        .expect("the SQLite file opens");
    lite.migrate(migrations).await.expect("SQLite migrates");

    let (pg_schema, lite_schema) = match (&pg, &lite) {
        (Db::Postgres(p), Db::Sqlite(s)) => (
            postgres_schema(p).await.expect("the PostgreSQL catalogue"),
            sqlite_schema(s).await.expect("the SQLite catalogue"),
        ),
        _ => unreachable!("one database on each backend"),
    };
    pg.close().await;
    lite.close().await;
    env.cleanup().await;

    let differences = diff(&pg_schema, &lite_schema);
    println!(
        "[{service}] compared {} PostgreSQL table(s) with {} SQLite table(s): {} difference(s)",
        pg_schema.len(),
        lite_schema.len(),
        differences.len()
    );
    assert!(
        differences.is_empty(),
        "the {service} schemas differ between PostgreSQL and SQLite:\n  {}",
        differences.join("\n  ")
    );
}

fn pg_type(t: &str) -> String {
    match t {
        "text" => "text".into(),
        "bigint" | "integer" => "integer".into(),
        "boolean" => "boolean".into(),
        "bytea" => "blob".into(),
        "timestamp with time zone" => "datetime".into(),
        "date" => "date".into(),
        other => format!("unmapped PostgreSQL type {other:?}"),
    }
}

fn sqlite_type(t: &str) -> String {
    match t.to_ascii_uppercase().as_str() {
        "TEXT" => "text".into(),
        "BIGINT" | "INTEGER" => "integer".into(),
        "BOOLEAN" => "boolean".into(),
        "BLOB" => "blob".into(),
        "DATETIME" => "datetime".into(),
        "DATE" => "date".into(),
        _ => format!("unmapped SQLite type {t:?}"),
    }
}

async fn postgres_schema(p: &sqlx::PgPool) -> Result<Schema, sqlx::Error> {
    let mut schema = Schema::new();
    let columns: Vec<(String, String, String, String)> = sqlx::query_as(
        "SELECT table_name::text, column_name::text, data_type::text, is_nullable::text \
         FROM information_schema.columns \
         WHERE table_schema = 'public' AND table_name <> '_sqlx_migrations' \
         ORDER BY table_name, ordinal_position",
    )
    .fetch_all(p)
    .await?;
    for (table, column, ty, nullable) in columns {
        schema
            .entry(table)
            .or_default()
            .columns
            .push((column, pg_type(&ty), nullable == "YES"));
    }
    let keys: Vec<(String, String, String, String)> = sqlx::query_as(
        "SELECT tc.table_name::text, tc.constraint_type::text, tc.constraint_name::text, kcu.column_name::text \
         FROM information_schema.table_constraints tc \
         JOIN information_schema.key_column_usage kcu \
           ON kcu.constraint_schema = tc.constraint_schema AND kcu.constraint_name = tc.constraint_name \
          AND kcu.table_name = tc.table_name \
         WHERE tc.table_schema = 'public' AND tc.constraint_type IN ('PRIMARY KEY', 'UNIQUE') \
           AND tc.table_name <> '_sqlx_migrations' \
         ORDER BY tc.table_name, tc.constraint_name, kcu.ordinal_position",
    )
    .fetch_all(p)
    .await?;
    let mut unique: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
    for (table, kind, name, column) in keys {
        if kind == "PRIMARY KEY" {
            schema.entry(table).or_default().primary_key.push(column);
        } else {
            unique.entry((table, name)).or_default().push(column);
        }
    }
    for ((table, _), columns) in unique {
        schema.entry(table).or_default().unique.insert(columns);
    }
    // Indexes that back a primary key or unique constraint are compared above, by columns.
    let indexes: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT t.relname::text, i.relname::text, a.attname::text \
         FROM pg_index x \
         JOIN pg_class i ON i.oid = x.indexrelid \
         JOIN pg_class t ON t.oid = x.indrelid \
         JOIN pg_namespace n ON n.oid = t.relnamespace \
         CROSS JOIN LATERAL unnest(x.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord) \
         JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = k.attnum \
         WHERE n.nspname = 'public' AND t.relname <> '_sqlx_migrations' \
           AND NOT EXISTS (SELECT 1 FROM pg_constraint c \
                           WHERE c.conindid = x.indexrelid AND c.conrelid = x.indrelid \
                             AND c.contype IN ('p', 'u', 'x')) \
         ORDER BY t.relname, i.relname, k.ord",
    )
    .fetch_all(p)
    .await?;
    for (table, index, column) in indexes {
        schema
            .entry(table)
            .or_default()
            .indexes
            .entry(index)
            .or_default()
            .push(column);
    }
    Ok(schema)
}

async fn sqlite_schema(p: &sqlx::SqlitePool) -> Result<Schema, sqlx::Error> {
    let mut schema = Schema::new();
    let columns: Vec<(String, String, String, i64, i64)> = sqlx::query_as(
        "SELECT m.name, c.name, c.type, c.\"notnull\", c.pk \
         FROM sqlite_master m, pragma_table_info(m.name) c \
         WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite\\_%' ESCAPE '\\' \
           AND m.name <> '_sqlx_migrations' \
         ORDER BY m.name, c.cid",
    )
    .fetch_all(p)
    .await?;
    let mut keys: BTreeMap<String, Vec<(i64, String)>> = BTreeMap::new();
    for (table, column, ty, notnull, pk) in columns {
        if pk > 0 {
            keys.entry(table.clone())
                .or_default()
                .push((pk, column.clone()));
        }
        // A primary key column is never null, whatever SQLite's flag says.
        let nullable = notnull == 0 && pk == 0;
        schema
            .entry(table)
            .or_default()
            .columns
            .push((column, sqlite_type(&ty), nullable));
    }
    for (table, mut columns) in keys {
        columns.sort();
        schema.entry(table).or_default().primary_key =
            columns.into_iter().map(|(_, c)| c).collect();
    }
    let indexes: Vec<(String, String, String, String)> = sqlx::query_as(
        "SELECT m.name, l.name, l.origin, i.name \
         FROM sqlite_master m, pragma_index_list(m.name) l, pragma_index_info(l.name) i \
         WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite\\_%' ESCAPE '\\' \
           AND m.name <> '_sqlx_migrations' AND l.origin <> 'pk' \
         ORDER BY m.name, l.name, i.seqno",
    )
    .fetch_all(p)
    .await?;
    let mut unique: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
    for (table, index, origin, column) in indexes {
        if origin == "u" {
            unique.entry((table, index)).or_default().push(column);
        } else if !index.starts_with("sqlite_autoindex_") {
            schema
                .entry(table)
                .or_default()
                .indexes
                .entry(index)
                .or_default()
                .push(column);
        }
    }
    for ((table, _), columns) in unique {
        schema.entry(table).or_default().unique.insert(columns);
    }
    Ok(schema)
}

/// Every difference between the two schemas, one line each; empty when they agree.
fn diff(pg: &Schema, lite: &Schema) -> Vec<String> {
    let mut out = Vec::new();
    let names: BTreeSet<&String> = pg.keys().chain(lite.keys()).collect();
    for name in names {
        let (p, s) = match (pg.get(name), lite.get(name)) {
            (Some(p), Some(s)) => (p, s),
            (Some(_), None) => {
                out.push(format!("table {name} exists only on PostgreSQL"));
                continue;
            }
            (None, _) => {
                out.push(format!("table {name} exists only on SQLite"));
                continue;
            }
        };
        let show = |c: Option<&Column>| match c {
            Some((n, t, null)) => format!("{n} {t}{}", if *null { "" } else { " NOT NULL" }),
            None => "(none)".into(),
        };
        for i in 0..p.columns.len().max(s.columns.len()) {
            let (a, b) = (p.columns.get(i), s.columns.get(i));
            if a != b {
                out.push(format!(
                    "table {name}, column {}: PostgreSQL has `{}`, SQLite has `{}`",
                    i + 1,
                    show(a),
                    show(b)
                ));
            }
        }
        if p.primary_key != s.primary_key {
            out.push(format!(
                "table {name}: primary key on PostgreSQL {:?}, on SQLite {:?}",
                p.primary_key, s.primary_key
            ));
        }
        if p.indexes != s.indexes {
            out.push(format!(
                "table {name}: indexes on PostgreSQL {:?}, on SQLite {:?}",
                p.indexes, s.indexes
            ));
        }
        if p.unique != s.unique {
            out.push(format!(
                "table {name}: unique constraints on PostgreSQL {:?}, on SQLite {:?}",
                p.unique, s.unique
            ));
        }
    }
    out
}

#[test]
fn the_parity_check_names_each_difference() {
    let col = |n: &str, t: &str, null: bool| (n.to_owned(), t.to_owned(), null);
    let pg = Schema::from([
        (
            "cases".to_owned(),
            Table {
                columns: vec![col("id", "text", false), col("rule", "integer", false)],
                primary_key: vec!["id".into()],
                indexes: BTreeMap::from([("cases_rule".to_owned(), vec!["rule".to_owned()])]),
                unique: BTreeSet::new(),
            },
        ),
        ("only_pg".to_owned(), Table::default()),
    ]);
    let lite = Schema::from([(
        "cases".to_owned(),
        Table {
            columns: vec![col("id", "text", false), col("rule", "text", true)],
            primary_key: vec!["id".into()],
            indexes: BTreeMap::new(),
            unique: BTreeSet::from([vec!["rule".to_owned()]]),
        },
    )]);
    assert_eq!(
        diff(&pg, &lite),
        vec![
            "table cases, column 2: PostgreSQL has `rule integer NOT NULL`, SQLite has `rule text`",
            "table cases: indexes on PostgreSQL {\"cases_rule\": [\"rule\"]}, on SQLite {}",
            "table cases: unique constraints on PostgreSQL {}, on SQLite {[\"rule\"]}",
            "table only_pg exists only on PostgreSQL",
        ]
    );
    assert!(diff(&pg, &pg).is_empty());
}
