//! Exports of the runs with DuckDB's own writers.

use std::path::Path;

use crate::{Store, StoreError};

impl Store {
    /// Writes the runs (not deleted) to `path` with DuckDB's own writer: `csv`, `parquet` or `json`;
    /// with `include_ledger`, the ledger's manual runs and overrides too, after the same columns
    /// (`origin` is `smashrun`, `ledger` or `override`; then `ledger_entry`, `override_reason`).
    /// Returns how many rows were written.
    pub fn export(
        &self,
        format: ExportFormat,
        path: &Path,
        include_ledger: bool,
    ) -> Result<u64, StoreError> {
        self.export_with(format, path, include_ledger.then_some(&[][..]))
    }

    /// [`Store::export`], with the ledger's entries (`Some`) but those listed (the duplicates of
    /// mirrored runs, which the mirror's rows already stand for), or without the ledger (`None`).
    pub fn export_with(
        &self,
        format: ExportFormat,
        path: &Path,
        ledger_except: Option<&[i64]>,
    ) -> Result<u64, StoreError> {
        let include_ledger = ledger_except.is_some();
        let except = ledger_except
            .unwrap_or_default()
            .iter()
            .map(i64::to_string)
            .collect::<Vec<_>>()
            .join(", ");
        let target = path.to_string_lossy().replace('\'', "''");
        let options = match format {
            ExportFormat::Csv => "FORMAT csv, HEADER true",
            ExportFormat::Parquet => "FORMAT parquet",
            ExportFormat::Json => "FORMAT json, ARRAY true",
        };
        // a file older than the ledger (schema 6), opened read-only, has none
        let ledger = include_ledger && self.version >= 6;
        // left out: duplicates of mirrored runs, and entries whose pushed activity the mirror has
        // (that run, exported once, as SmashRun's)
        let mut left_out = Vec::new();
        if !except.is_empty() {
            left_out.push(format!("entry_id NOT IN ({except})"));
        }
        if self.version >= 8 {
            left_out.push("entry_id NOT IN (SELECT entry_id FROM ledger_push_states WHERE mirrored_id IS NOT NULL)".to_owned());
        }
        let kept = if left_out.is_empty() {
            String::new()
        } else {
            format!(" WHERE {}", left_out.join(" AND "))
        };
        let runs = "SELECT activity_id, start_local, run_date, start_utc, utc_offset_s, distance_km, duration_s, activity_type, source,
                           is_treadmill, is_race, calories, heart_rate_average, cadence_average, weather_type, temperature, how_felt,
                           terrain, notes, created_utc, updated_utc,
                           'smashrun' AS origin, CAST(NULL AS BIGINT) AS ledger_entry, CAST(NULL AS VARCHAR) AS override_reason
                    FROM runs WHERE deleted_utc IS NULL";
        let query = if ledger {
            format!(
                "{runs}
                 UNION ALL BY NAME
                 SELECT run_date, utc_offset_s, distance_km, duration_s,
                        CASE kind WHEN 'run' THEN 'running' END AS activity_type, 'ledger' AS source,
                        note AS notes, created_utc,
                        CASE kind WHEN 'run' THEN 'ledger' ELSE 'override' END AS origin,
                        entry_id AS ledger_entry, reason AS override_reason
                 FROM ledger{kept}"
            )
        } else {
            runs.to_owned()
        };
        self.conn.execute_batch(&format!(
            "COPY ({query} ORDER BY run_date, start_utc NULLS LAST) TO '{target}' ({options})"
        ))?;
        let ledger_rows = if ledger {
            self.conn
                .query_row(&format!("SELECT count(*) FROM ledger{kept}"), [], |r| {
                    r.get::<_, i64>(0)
                })?
        } else {
            0
        };
        Ok(self.count()? + ledger_rows as u64)
    }
}

/// Formats of `export`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExportFormat {
    /// Comma-separated values with a header.
    Csv,
    /// Apache Parquet.
    Parquet,
    /// A JSON array.
    Json,
}
