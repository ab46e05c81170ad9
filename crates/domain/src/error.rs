use thiserror::Error;

/// A value that cannot become part of the domain, with what was wrong and what is accepted.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum DomainError {
    /// A distance that is negative, not finite, or absurdly large.
    #[error("invalid distance {0}: expected a finite number of kilometres, 0 or more")]
    InvalidDistance(String),
    /// An activity id that is not a positive integer.
    #[error("invalid activity id {0}: expected a positive integer")]
    InvalidActivityId(i64),
    /// A local start time that is not `YYYY-MM-DDTHH:MM:SS±HH:MM`.
    #[error(
        "invalid local start time {value:?}: {reason} (expected e.g. 2022-11-09T09:12:00-05:00)"
    )]
    InvalidStart {
        /// The text as received.
        value: String,
        /// Why it was refused.
        reason: String,
    },
    /// A streak rule name that is not known.
    #[error(
        "unknown streak rule {0:?}: use usrsa, continuous, any, or a daily minimum such as 2km, 1.5mi or 20min"
    )]
    InvalidRule(String),
    /// A target for a period or a year that is not a distance or a number of runs above zero.
    #[error(
        "invalid target {0:?}: use a distance such as 20mi or 32km, or a number of runs such as 12runs (more than zero)"
    )]
    InvalidTarget(String),
    /// A period that is not a week or a month.
    #[error(
        "invalid period {0:?}: use week (Monday to Sunday, as ISO weeks), week:sunday (or any other first day), or month"
    )]
    InvalidPeriod(String),
    /// A period rule that is not a target and a period separated by `/`.
    #[error(
        "invalid period rule {0:?}: write a target, a slash and a period, such as 20mi/week, 12runs/month or 3runs/week:sunday"
    )]
    InvalidPeriodRule(String),
    /// A ledger entry that cannot be recorded (an override without a reason, a run of no distance).
    #[error("invalid ledger entry: {0}")]
    InvalidLedgerEntry(String),
    /// A date computation left the supported calendar range.
    #[error("date out of range: {0}")]
    DateOutOfRange(String),
}
