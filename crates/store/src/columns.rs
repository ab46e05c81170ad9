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

use std::sync::Arc;

use duckdb::arrow::array::{
    Array, ArrayRef, BooleanArray, Date32Array, Decimal128Array, Float64Array, Int32Array,
    Int64Array, StringArray, TimestampMicrosecondArray, new_null_array,
};
use duckdb::arrow::datatypes::{DataType, Field, Schema, TimeUnit};
use duckdb::arrow::record_batch::RecordBatch;
use myrunstreak_domain::{AttrKind, AttrValue, RunAttributes};

use crate::time::micros;
use crate::{RunRow, StoreError};

/// The temporary table a batch of known runs is staged in before the merge.
pub(crate) const STAGING: &str = "staged_runs";

/// The column `runs` is keyed by.
const KEY: &str = "activity_id";

/// One column of `runs` that a batch writes.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Column {
    /// Its name, in `runs` and in the staging table.
    name: &'static str,
    /// Its type in `runs` (and in the staging table: values travel in their final type).
    sql_type: &'static str,
}

impl Column {
    const fn new(name: &'static str, sql_type: &'static str) -> Self {
        Column { name, sql_type }
    }
}

/// Builds one column's values for a batch of rows, as an Arrow array of the column's type.
type Build = fn(&[&RunRow]) -> ArrayRef;

/// Microseconds since the epoch of an optional instant.
fn instants(rows: &[&RunRow], at: impl Fn(&RunRow) -> Option<jiff::Timestamp>) -> ArrayRef {
    Arc::new(TimestampMicrosecondArray::from_iter(
        rows.iter().map(|r| at(r).map(micros)),
    ))
}

/// Days since 1970-01-01 of a run day (DuckDB's `DATE`).
fn epoch_days(date: jiff::civil::Date) -> i32 {
    let seconds = date
        .duration_since(jiff::civil::Date::constant(1970, 1, 1))
        .as_secs();
    i32::try_from(seconds.div_euclid(86_400)).unwrap_or(0)
}

/// The store's own columns: everything of a run that is not a declared attribute.
const OWN: [(Column, Build); 13] = [
    (Column::new(KEY, "BIGINT"), |rows| {
        Arc::new(Int64Array::from_iter_values(
            rows.iter().map(|r| r.activity_id),
        ))
    }),
    (Column::new("start_local", "VARCHAR"), |rows| {
        Arc::new(StringArray::from_iter_values(
            rows.iter().map(|r| r.start_local.as_str()),
        ))
    }),
    (Column::new("start_utc", "TIMESTAMP"), |rows| {
        instants(rows, |r| Some(r.start.instant()))
    }),
    (Column::new("start_local_wall", "TIMESTAMP"), |rows| {
        // the wall time as if it were UTC (a TIMESTAMP that reads as written): the instant
        // moved by the offset
        Arc::new(TimestampMicrosecondArray::from_iter_values(
            rows.iter().map(|r| {
                micros(r.start.instant())
                    .saturating_add(i64::from(r.start.offset().seconds()) * 1_000_000)
            }),
        ))
    }),
    (Column::new("utc_offset_s", "INTEGER"), |rows| {
        Arc::new(Int32Array::from_iter_values(
            rows.iter().map(|r| r.start.offset().seconds()),
        ))
    }),
    (Column::new("run_date", "DATE"), |rows| {
        Arc::new(Date32Array::from_iter_values(
            rows.iter().map(|r| epoch_days(r.start.date())),
        ))
    }),
    (Column::new("distance_km", "DECIMAL(12,5)"), |rows| {
        // centimetres are kilometres at five decimals: the decimal's unscaled value
        let km =
            Decimal128Array::from_iter_values(rows.iter().map(|r| i128::from(r.distance.cm())));
        Arc::new(
            km.with_precision_and_scale(12, 5)
                .unwrap_or_else(|_| Decimal128Array::new_null(rows.len())),
        )
    }),
    (Column::new("duration_s", "DOUBLE"), |rows| {
        Arc::new(Float64Array::from_iter(rows.iter().map(|r| r.duration_s)))
    }),
    (Column::new("synced_utc", "TIMESTAMP"), |rows| {
        instants(rows, |r| r.synced_at)
    }),
    (Column::new("created_utc", "TIMESTAMP"), |rows| {
        instants(rows, |r| r.created_at)
    }),
    (Column::new("updated_utc", "TIMESTAMP"), |rows| {
        instants(rows, |r| r.updated_at)
    }),
    (Column::new("raw_json", "VARCHAR"), |rows| {
        Arc::new(StringArray::from_iter_values(
            rows.iter().map(|r| r.raw_json.as_str()),
        ))
    }),
    (Column::new("offset_assumed", "BOOLEAN"), |rows| {
        Arc::new(BooleanArray::from_iter(
            rows.iter().map(|r| Some(r.start.offset_assumed())),
        ))
    }),
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
        .map(|f| Column::new(f.name, sql_type(f.kind)));
    own.chain(attributes)
}

/// The attribute `i` of every row, as an Arrow array of its kind.
fn attribute(
    kind: AttrKind,
    i: usize,
    values: &[[AttrValue<'_>; RunAttributes::COUNT]],
) -> ArrayRef {
    match kind {
        AttrKind::Text => Arc::new(StringArray::from_iter(values.iter().map(|v| match v[i] {
            AttrValue::Text(t) => t,
            _ => None,
        }))),
        AttrKind::Integer => Arc::new(Int64Array::from_iter(values.iter().map(|v| match v[i] {
            AttrValue::Integer(n) => n,
            _ => None,
        }))),
        AttrKind::Real => Arc::new(Float64Array::from_iter(values.iter().map(|v| match v[i] {
            AttrValue::Real(x) => x,
            _ => None,
        }))),
        AttrKind::Flag => Arc::new(BooleanArray::from_iter(values.iter().map(|v| match v[i] {
            AttrValue::Flag(b) => b,
            _ => None,
        }))),
    }
}

/// Every written column of `rows`, by name, in the order of [`columns`].
fn arrays(rows: &[&RunRow]) -> Vec<(&'static str, ArrayRef)> {
    let values: Vec<_> = rows.iter().map(|r| r.attributes.values()).collect();
    let own = OWN.iter().map(|(column, build)| (column.name, build(rows)));
    let attributes = RunAttributes::FIELDS
        .iter()
        .enumerate()
        .map(|(i, f)| (f.name, attribute(f.kind, i, &values)));
    own.chain(attributes).collect()
}

fn record_batch(columns: Vec<(&str, ArrayRef)>) -> Result<RecordBatch, StoreError> {
    let fields: Vec<Field> = columns
        .iter()
        .map(|(name, array)| Field::new(*name, array.data_type().clone(), true))
        .collect();
    let arrays = columns.into_iter().map(|(_, a)| a).collect();
    RecordBatch::try_new(Arc::new(Schema::new(fields)), arrays)
        .map_err(|e| StoreError::Batch(e.to_string()))
}

/// `rows` as the staging table's record batch: the written columns in the order of [`columns`].
pub(crate) fn staging_batch(rows: &[&RunRow]) -> Result<RecordBatch, StoreError> {
    record_batch(arrays(rows))
}

/// `rows`, which are new to `runs`, as a record batch of every column of `runs` in the table's
/// own order (`table`, from the catalog), first and last seen at `now_us`.
pub(crate) fn runs_batch(
    rows: &[&RunRow],
    table: &[String],
    now_us: i64,
) -> Result<RecordBatch, StoreError> {
    let mut written = arrays(rows);
    let timestamp = DataType::Timestamp(TimeUnit::Microsecond, None);
    let mut ordered = Vec::with_capacity(table.len());
    for name in table {
        let array: ArrayRef = match written.iter().position(|(n, _)| n == name) {
            Some(i) => written.swap_remove(i).1,
            None => match name.as_str() {
                "first_seen_utc" | "last_seen_utc" => {
                    Arc::new(TimestampMicrosecondArray::from_value(now_us, rows.len()))
                }
                "deleted_utc" | "missing_since_utc" => new_null_array(&timestamp, rows.len()),
                other => {
                    return Err(StoreError::Batch(format!(
                        "runs has a column {other} that no write fills; it needs a declaration in columns.rs"
                    )));
                }
            },
        };
        ordered.push((name.as_str(), array));
    }
    record_batch(ordered)
}

/// Creates (or empties) the staging table: one column per written column, in its type in `runs`.
pub(crate) fn create_staging() -> String {
    let columns: Vec<String> = columns()
        .map(|c| format!("{} {}", c.name, c.sql_type))
        .collect();
    format!(
        "CREATE OR REPLACE TEMP TABLE {STAGING} ({})",
        columns.join(", ")
    )
}

/// Merges the staging table into `runs` as seen at `now_us`: known runs are updated (undeleted,
/// released from a pending deletion); a run not yet in `runs` is inserted.
pub(crate) fn merge(now_us: i64) -> String {
    let names: Vec<&str> = columns().map(|c| c.name).collect();
    let exprs: Vec<String> = columns().map(|c| format!("s.{}", c.name)).collect();
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

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use jiff::Timestamp;
    use myrunstreak_domain::{AttrSource, Distance, LocalStart};

    use super::*;
    use crate::Store;

    /// The columns of `runs` that a write sets itself instead of taking them from the batch.
    const SET_BY_WRITES: [(&str, &str); 4] = [
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
        let migrated = store.migrated_columns("runs");
        let declared: Vec<(String, String)> = columns()
            .map(|c| (c.name, c.sql_type))
            .chain(SET_BY_WRITES)
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
