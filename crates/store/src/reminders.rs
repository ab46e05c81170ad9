//! Reminders sent (one row per run day and reminder time) and the runner's mute.

use duckdb::params;
use jiff::Timestamp;
use jiff::civil::Date;

use crate::time::{from_micros, micros};
use crate::{Store, StoreError};

/// The meta key of the date reminders are muted through.
const MUTE_KEY: &str = "remind.mute_until";

/// A reminder that was sent.
#[derive(Clone, Debug, PartialEq)]
pub struct SentReminder {
    /// The run day it was about.
    pub day: Date,
    /// The local reminder time (`HH:MM`), or `any`.
    pub slot: String,
    /// When it went out.
    pub sent: Timestamp,
    /// How many channels took it.
    pub channels: u32,
    /// What it said.
    pub message: String,
}

impl Store {
    /// Whether a reminder for `day` at `slot` was already sent.
    pub fn reminder_sent(&self, day: Date, slot: &str) -> Result<bool, StoreError> {
        let n: i64 = self.conn.query_row(
            "SELECT count(*) FROM reminders_sent WHERE day = CAST(? AS DATE) AND slot = ?",
            params![day.to_string(), slot],
            |r| r.get(0),
        )?;
        Ok(n > 0)
    }

    /// Remembers a sent reminder; a second record of the same pair keeps the first.
    pub fn record_reminder(&self, sent: &SentReminder) -> Result<(), StoreError> {
        self.conn.execute(
            "INSERT INTO reminders_sent VALUES (CAST(? AS DATE), ?, make_timestamp(?), ?, ?) ON CONFLICT DO NOTHING",
            params![
                sent.day.to_string(),
                sent.slot,
                micros(sent.sent),
                sent.channels,
                sent.message
            ],
        )?;
        Ok(())
    }

    /// The reminders sent, newest first.
    pub fn sent_reminders(&self, limit: usize) -> Result<Vec<SentReminder>, StoreError> {
        let mut stmt = self.conn.prepare(&format!(
            "SELECT strftime(day, '%Y-%m-%d'), slot, epoch_us(sent_utc), channels, message FROM reminders_sent ORDER BY sent_utc DESC, day DESC, slot DESC LIMIT {limit}"
        ))?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, i64>(2)?,
                r.get::<_, u32>(3)?,
                r.get::<_, String>(4)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (day, slot, sent, channels, message) = row?;
            out.push(SentReminder {
                day: day.parse().map_err(|e| {
                    StoreError::Unreadable(format!("reminders_sent.day {day:?}: {e}"))
                })?,
                slot,
                sent: from_micros(sent),
                channels,
                message,
            });
        }
        Ok(out)
    }

    /// The last day reminders are muted on, if any.
    pub fn reminders_muted_until(&self) -> Result<Option<Date>, StoreError> {
        match self.meta(MUTE_KEY)? {
            None => Ok(None),
            Some(v) if v.is_empty() => Ok(None),
            Some(v) => v
                .parse()
                .map(Some)
                .map_err(|e| StoreError::Unreadable(format!("meta {MUTE_KEY}={v:?}: {e}"))),
        }
    }

    /// Mutes reminders through `until` (inclusive), or unmutes them with `None`.
    pub fn mute_reminders_until(&self, until: Option<Date>) -> Result<(), StoreError> {
        self.set_meta(MUTE_KEY, &until.map(|d| d.to_string()).unwrap_or_default())
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use jiff::civil::date;

    use super::*;

    #[test]
    fn a_reminder_is_remembered_once_per_day_and_slot_and_the_mute_is_kept() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.duckdb");
        let store = Store::open(&path, Timestamp::UNIX_EPOCH).unwrap();
        let migrated = store.migrated_columns("reminders_sent");
        let expected: BTreeMap<String, String> = [
            ("day", "DATE"),
            ("slot", "VARCHAR"),
            ("sent_utc", "TIMESTAMP"),
            ("channels", "INTEGER"),
            ("message", "VARCHAR"),
        ]
        .into_iter()
        .map(|(n, t)| (n.to_owned(), t.to_owned()))
        .collect();
        assert_eq!(migrated, expected);

        let day = date(2026, 5, 4);
        assert!(!store.reminder_sent(day, "18:00").unwrap());
        let sent = SentReminder {
            day,
            slot: "18:00".into(),
            sent: "2026-05-04T22:05:00Z".parse().unwrap(),
            channels: 2,
            message: "Streak 10 days: today not run yet".into(),
        };
        store.record_reminder(&sent).unwrap();
        store
            .record_reminder(&SentReminder {
                message: "again".into(),
                ..sent.clone()
            })
            .unwrap();
        assert!(store.reminder_sent(day, "18:00").unwrap());
        assert!(!store.reminder_sent(day, "21:00").unwrap());
        assert!(!store.reminder_sent(date(2026, 5, 5), "18:00").unwrap());
        assert_eq!(store.sent_reminders(10).unwrap(), vec![sent]);

        assert_eq!(store.reminders_muted_until().unwrap(), None);
        store.mute_reminders_until(Some(date(2026, 5, 9))).unwrap();
        drop(store);
        let store = Store::open(&path, Timestamp::UNIX_EPOCH).unwrap();
        assert_eq!(
            store.reminders_muted_until().unwrap(),
            Some(date(2026, 5, 9))
        );
        store.mute_reminders_until(None).unwrap();
        assert_eq!(store.reminders_muted_until().unwrap(), None);
    }
}
