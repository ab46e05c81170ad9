//! Instants as DuckDB receives them: microseconds since the epoch, turned into `TIMESTAMP`s by
//! `make_timestamp` and read back with `epoch_us`.

use jiff::Timestamp;

pub(crate) fn micros(t: Timestamp) -> i64 {
    t.as_microsecond()
}

pub(crate) fn from_micros(us: i64) -> Timestamp {
    Timestamp::from_microsecond(us).unwrap_or(Timestamp::UNIX_EPOCH)
}
