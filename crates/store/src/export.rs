//! Exports of the runs with DuckDB's own writers.

use std::path::Path;

use crate::{Store, StoreError};

impl Store {
    /// Writes the runs (not deleted) to `path` with DuckDB's own writer: `csv`, `parquet` or `json`.
    pub fn export(&self, format: ExportFormat, path: &Path) -> Result<u64, StoreError> {
        let target = path.to_string_lossy().replace('\'', "''");
        let options = match format {
            ExportFormat::Csv => "FORMAT csv, HEADER true",
            ExportFormat::Parquet => "FORMAT parquet",
            ExportFormat::Json => "FORMAT json, ARRAY true",
        };
        self.conn.execute_batch(&format!(
            "COPY (SELECT activity_id, start_local, run_date, start_utc, utc_offset_s, distance_km, duration_s, activity_type, source,
                          is_treadmill, is_race, calories, heart_rate_average, cadence_average, weather_type, temperature, how_felt,
                          terrain, notes, created_utc, updated_utc
                   FROM runs WHERE deleted_utc IS NULL ORDER BY start_utc) TO '{target}' ({options})"
        ))?;
        self.count()
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
