//! Details fetched on demand: the full activity and its splits.

use duckdb::params;
use jiff::Timestamp;

use crate::time::micros;
use crate::{Store, StoreError};

impl Store {
    /// Run ids with no stored details yet, most recent first.
    pub fn ids_without_details(&self, limit: usize) -> Result<Vec<i64>, StoreError> {
        let mut stmt = self.conn.prepare(&format!(
            "SELECT r.activity_id FROM runs r LEFT JOIN activity_details d ON d.activity_id = r.activity_id
             WHERE d.activity_id IS NULL AND r.deleted_utc IS NULL ORDER BY r.start_utc DESC LIMIT {limit}"
        ))?;
        let rows = stmt.query_map([], |r| r.get(0))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Number of runs without details.
    pub fn details_backlog(&self) -> Result<u64, StoreError> {
        let n: i64 = self.conn.query_row(
            "SELECT count(*) FROM runs r LEFT JOIN activity_details d ON d.activity_id = r.activity_id WHERE d.activity_id IS NULL AND r.deleted_utc IS NULL",
            [],
            |r| r.get(0),
        )?;
        Ok(n as u64)
    }

    /// Stores the full activity and its splits, in one transaction.
    pub fn save_details(
        &mut self,
        activity_id: i64,
        full_json: &str,
        splits: &[(String, Vec<[Option<f64>; 6]>)],
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let tx = self.conn.transaction()?;
        tx.execute(
            "DELETE FROM splits WHERE activity_id = ?",
            params![activity_id],
        )?;
        tx.execute(
            "DELETE FROM activity_details WHERE activity_id = ?",
            params![activity_id],
        )?;
        tx.execute(
            "INSERT INTO activity_details VALUES (?, ?, make_timestamp(?))",
            params![activity_id, full_json, micros(now)],
        )?;
        for (unit, rows) in splits {
            for (i, s) in rows.iter().enumerate() {
                tx.execute(
                    "INSERT INTO splits VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    params![
                        activity_id,
                        unit,
                        i as i32,
                        s[0].unwrap_or(0.0),
                        s[1].unwrap_or(0.0),
                        s[2],
                        s[3],
                        s[4],
                        s[5]
                    ],
                )?;
            }
        }
        tx.commit()?;
        Ok(())
    }
}
