//! The columns of `runs` that a batch writes, declared once.
//!
//! The store's own columns (the start in its four forms, the distance, the instants, the raw
//! JSON) are listed in [`OWN`], each with its type in `runs`, how it is staged, and how it is
//! read from a [`RunRow`]; after them comes one column per run attribute, taken from the
//! domain's declaration ([`RunAttributes::FIELDS`]). The staging table, the merge into `runs`
//! and the appender row are all generated from that one list, so they cannot disagree, and
//! a test below checks the list against the migrated `runs`: an attribute declared without a
//! migration (or a column migrated without a declaration) fails there.
//!
//! The staging table is temporary and built by each write, not migrated: it follows the
//! declaration by construction (migration 4 dropped the persistent one).

use duckdb::types::{ToSqlOutput, ValueRef};
use myrunstreak_domain::{AttrKind, AttrValue, Distance, RunAttributes};

use crate::RunRow;
use crate::time::micros;

/// The temporary table a batch is staged in.
pub(crate) const STAGING: &str = "staged_runs";

/// The column `runs` is keyed by.
const KEY: &str = "activity_id";

/// How a value travels from the appender into its column of `runs`.
#[derive(Clone, Copy, Debug)]
enum Staged {
    /// As it is: staged with the column's own type.
    AsIs,
    /// Microseconds since the epoch (`BIGINT`), made a `TIMESTAMP` by the merge.
    Micros,
    /// Text, cast by the merge to the column's type (a `DATE`, an exact `DECIMAL`).
    Text,
}

/// One column of `runs` that a batch writes.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Column {
    /// Its name, in `runs` and in the staging table.
    name: &'static str,
    /// Its type in `runs`.
    sql_type: &'static str,
    staged: Staged,
}

impl Column {
    const fn new(name: &'static str, sql_type: &'static str, staged: Staged) -> Self {
        Column {
            name,
            sql_type,
            staged,
        }
    }

    fn staged_type(&self) -> &'static str {
        match self.staged {
            Staged::AsIs => self.sql_type,
            Staged::Micros => "BIGINT",
            Staged::Text => "VARCHAR",
        }
    }

    /// The expression that reads it from the staging table `s`.
    fn merged(&self) -> String {
        let name = self.name;
        match self.staged {
            Staged::AsIs => format!("s.{name}"),
            Staged::Micros => format!("make_timestamp(s.{name})"),
            Staged::Text => format!("CAST(s.{name} AS {})", self.sql_type),
        }
    }
}

/// Reads one column's value from a row.
type Read = for<'a> fn(&'a RunRow) -> ToSqlOutput<'a>;

/// The store's own columns: everything of a run that is not a declared attribute.
const OWN: [(Column, Read); 13] = [
    (Column::new(KEY, "BIGINT", Staged::AsIs), |r| {
        r.activity_id.into()
    }),
    (Column::new("start_local", "VARCHAR", Staged::AsIs), |r| {
        r.start_local.as_str().into()
    }),
    (Column::new("start_utc", "TIMESTAMP", Staged::Micros), |r| {
        micros(r.start.instant()).into()
    }),
    (
        Column::new("start_local_wall", "TIMESTAMP", Staged::Micros),
        |r| {
            // the wall time as if it were UTC: a TIMESTAMP that reads as written
            r.start
                .wall()
                .to_zoned_datetime(jiff::tz::TimeZone::UTC)
                .map(|z| micros(z.timestamp()))
                .unwrap_or_default()
                .into()
        },
    ),
    (Column::new("utc_offset_s", "INTEGER", Staged::AsIs), |r| {
        r.start.offset().seconds().into()
    }),
    (Column::new("run_date", "DATE", Staged::Text), |r| {
        r.start.date().to_string().into()
    }),
    (
        Column::new("distance_km", "DECIMAL(12,5)", Staged::Text),
        |r| km_text(r.distance).into(),
    ),
    (Column::new("duration_s", "DOUBLE", Staged::AsIs), |r| {
        ToSqlOutput::Owned(r.duration_s.into())
    }),
    (
        Column::new("synced_utc", "TIMESTAMP", Staged::Micros),
        |r| ToSqlOutput::Owned(r.synced_at.map(micros).into()),
    ),
    (
        Column::new("created_utc", "TIMESTAMP", Staged::Micros),
        |r| ToSqlOutput::Owned(r.created_at.map(micros).into()),
    ),
    (
        Column::new("updated_utc", "TIMESTAMP", Staged::Micros),
        |r| ToSqlOutput::Owned(r.updated_at.map(micros).into()),
    ),
    (Column::new("raw_json", "VARCHAR", Staged::AsIs), |r| {
        r.raw_json.as_str().into()
    }),
    (
        Column::new("offset_assumed", "BOOLEAN", Staged::AsIs),
        |r| r.start.offset_assumed().into(),
    ),
];

/// The column type of each kind of attribute.
fn sql_type(kind: AttrKind) -> &'static str {
    match kind {
        AttrKind::Text => "VARCHAR",
        AttrKind::Integer => "BIGINT",
        AttrKind::Real => "DOUBLE",
        AttrKind::Flag => "BOOLEAN",
    }
}

/// Every column a batch writes: the store's own, then one per declared attribute.
fn columns() -> impl Iterator<Item = Column> {
    let own = OWN.iter().map(|(column, _)| *column);
    let attributes = RunAttributes::FIELDS
        .iter()
        .map(|f| Column::new(f.name, sql_type(f.kind), Staged::AsIs));
    own.chain(attributes)
}

/// A row's values for the appender, in the order of [`columns`].
pub(crate) fn values(r: &RunRow) -> impl Iterator<Item = ToSqlOutput<'_>> {
    let own = OWN.iter().map(move |(_, read)| read(r));
    let attributes = r.attributes.values().into_iter().map(|v| match v {
        AttrValue::Text(t) => ToSqlOutput::Borrowed(ValueRef::from(t)),
        AttrValue::Integer(n) => ToSqlOutput::Owned(n.into()),
        AttrValue::Real(x) => ToSqlOutput::Owned(x.into()),
        AttrValue::Flag(b) => ToSqlOutput::Owned(b.into()),
    });
    own.chain(attributes)
}

/// Creates (or empties) the staging table: one column per written column, in its staged type.
pub(crate) fn create_staging() -> String {
    let columns: Vec<String> = columns()
        .map(|c| format!("{} {}", c.name, c.staged_type()))
        .collect();
    format!(
        "CREATE OR REPLACE TEMP TABLE {STAGING} ({})",
        columns.join(", ")
    )
}

/// Merges the staging table into `runs` as seen at `now_us`: new runs are inserted, known ones
/// updated (undeleted, released from a pending deletion).
pub(crate) fn merge(now_us: i64) -> String {
    let names: Vec<&str> = columns().map(|c| c.name).collect();
    let exprs: Vec<String> = columns().map(|c| c.merged()).collect();
    let updates: Vec<String> = columns()
        .filter(|c| c.name != KEY)
        .map(|c| format!("{0} = excluded.{0}", c.name))
        .collect();
    format!(
        "INSERT INTO runs ({names}, first_seen_utc, last_seen_utc, deleted_utc)
         SELECT {exprs}, make_timestamp({now_us}), make_timestamp({now_us}), NULL FROM {STAGING} s
         ON CONFLICT ({KEY}) DO UPDATE SET {updates}, last_seen_utc = excluded.last_seen_utc, deleted_utc = NULL, missing_since_utc = NULL",
        names = names.join(", "),
        exprs = exprs.join(", "),
        updates = updates.join(", "),
    )
}

/// `9.74928`: kilometres with exactly SmashRun's five decimals.
fn km_text(d: Distance) -> String {
    format!("{}.{:05}", d.cm() / 100_000, d.cm() % 100_000)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use jiff::Timestamp;
    use myrunstreak_domain::{AttrSource, LocalStart};

    use super::*;
    use crate::Store;

    /// The columns of `runs` that [`merge`] sets itself instead of taking them from the batch.
    const BOOKKEEPING: [(&str, &str); 4] = [
        ("first_seen_utc", "TIMESTAMP"),
        ("last_seen_utc", "TIMESTAMP"),
        ("deleted_utc", "TIMESTAMP"),
        ("missing_since_utc", "TIMESTAMP"),
    ];

    fn open() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path().join("r.duckdb"), Timestamp::UNIX_EPOCH).unwrap();
        (dir, store)
    }

    #[test]
    fn the_migrated_runs_table_has_exactly_the_declared_columns() {
        let (_dir, store) = open();
        let mut stmt = store
            .conn
            .prepare(
                "SELECT column_name, data_type FROM information_schema.columns
                 WHERE table_catalog = current_database() AND table_schema = 'main' AND table_name = 'runs'",
            )
            .unwrap();
        let migrated: BTreeMap<String, String> = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        let declared: Vec<(String, String)> = columns()
            .map(|c| (c.name, c.sql_type))
            .chain(BOOKKEEPING)
            .map(|(name, ty)| (name.to_owned(), ty.to_owned()))
            .collect();
        let n = declared.len();
        let declared: BTreeMap<String, String> = declared.into_iter().collect();
        assert_eq!(declared.len(), n, "a column is declared twice");
        let missing: Vec<_> = declared
            .iter()
            .filter(|(name, ty)| migrated.get(*name) != Some(ty))
            .collect();
        let undeclared: Vec<_> = migrated
            .iter()
            .filter(|(name, ty)| declared.get(*name) != Some(ty))
            .collect();
        assert!(
            missing.is_empty() && undeclared.is_empty(),
            "declared but not migrated so (add a migration): {missing:?}; \
             migrated but not declared so: {undeclared:?}"
        );
    }

    /// A value for every attribute, derived from its key so that no two are alike.
    struct Distinct;

    impl AttrSource for Distinct {
        fn text(&self, key: &str) -> Option<String> {
            Some(format!("<{key}>"))
        }
        fn integer(&self, key: &str) -> Option<i64> {
            Some(1000 + key.len() as i64)
        }
        fn real(&self, key: &str) -> Option<f64> {
            Some(key.len() as f64 + 0.25)
        }
        fn flag(&self, key: &str) -> Option<bool> {
            Some(!key.len().is_multiple_of(2))
        }
    }

    #[test]
    fn every_attribute_reaches_its_own_column_and_is_cleared_by_a_later_none() {
        let (_dir, mut store) = open();
        let now = Timestamp::UNIX_EPOCH;
        let mut row = RunRow {
            activity_id: 1,
            start_local: "2026-05-01T07:00:00-04:00".into(),
            start: LocalStart::parse("2026-05-01T07:00:00-04:00").unwrap(),
            distance: Distance::from_km(5.0).unwrap(),
            duration_s: Some(1500.0),
            attributes: RunAttributes::read(&Distinct),
            synced_at: None,
            created_at: None,
            updated_at: None,
            raw_json: "{}".into(),
        };
        store.apply(std::slice::from_ref(&row), &[], now).unwrap();
        let stored = |store: &Store, name: &str| -> Option<String> {
            store
                .conn
                .query_row(
                    &format!("SELECT CAST({name} AS VARCHAR) FROM runs WHERE activity_id = 1"),
                    [],
                    |r| r.get(0),
                )
                .unwrap()
        };
        for (field, value) in RunAttributes::FIELDS.iter().zip(row.attributes.values()) {
            let expected = match value {
                AttrValue::Text(t) => t.map(str::to_owned),
                AttrValue::Integer(n) => n.map(|n| n.to_string()),
                AttrValue::Real(x) => x.map(|x| x.to_string()),
                AttrValue::Flag(b) => b.map(|b| b.to_string()),
            };
            assert!(expected.is_some(), "{}", field.name);
            assert_eq!(stored(&store, field.name), expected, "{}", field.name);
        }
        row.attributes = RunAttributes::default();
        row.raw_json = r#"{"edited":true}"#.into();
        store.apply(&[row], &[], now).unwrap();
        for field in RunAttributes::FIELDS {
            assert_eq!(stored(&store, field.name), None, "{}", field.name);
        }
    }
}
