//! Pushing a ledger run to SmashRun, so that SmashRun has it too.
//!
//! A manual run becomes `POST /my/activities` with its start (the entry's date and time, noon
//! when it has none, with the offset of the runner's zone stored with the entry), its distance
//! and moving time, `activityType` `running`, and a stable `externalId`
//! ([`LedgerEntry::external_id`]). Overrides are never pushed: they are the runner's word for a
//! day, not a run.
//!
//! SmashRun may or may not deduplicate a repeated `externalId` (undocumented), so a push never
//! relies on it: the attempt is recorded (with its `externalId`) before the POST is sent, and
//! before any retry, and before any later push of an entry already attempted, the runner's
//! activities around the entry's day are searched for that `externalId`. A POST is sent only when
//! none is found. An answer without an id is completed the same way.
//!
//! The entry stays in the ledger whatever happens; it keeps counting until the mirror has the
//! pushed activity (after the next sync), and from then on the mirrored run counts instead
//! ([`LedgerEntry::counts_on_its_own`], read from the mirror each time).

use std::future::Future;
use std::time::Duration;

use jiff::Timestamp;
use jiff::civil::Date;
use myrunstreak_domain::{LedgerEntry, LedgerKind};
use myrunstreak_store::{Store, StoreError};
use serde::Serialize;
use smashrun_client::{Error as ClientError, NewActivity, SmashRunClient};

use crate::ledger::LedgerBook;

/// How many POSTs one push may send when their outcome stays unknown.
pub const MAX_ATTEMPTS: u32 = 3;

/// Where activities are created: SmashRun's REST API. One POST per `create` (no retry inside).
pub trait ActivityWriter: Send + Sync {
    /// Creates `activity`; its id when the answer says it.
    fn create(
        &self,
        activity: &NewActivity,
    ) -> impl Future<Output = Result<Option<i64>, ClientError>> + Send;
    /// The id of the live activity carrying `external_id` around `day`, if any.
    fn find(
        &self,
        external_id: &str,
        day: Date,
    ) -> impl Future<Output = Result<Option<i64>, ClientError>> + Send;
}

impl ActivityWriter for SmashRunClient {
    async fn create(&self, activity: &NewActivity) -> Result<Option<i64>, ClientError> {
        self.create_activity(activity).await
    }
    async fn find(&self, external_id: &str, day: Date) -> Result<Option<i64>, ClientError> {
        self.find_by_external_id(external_id, day).await
    }
}

/// The ledger, with what became of its pushes.
pub trait PushBook: LedgerBook {
    /// Records that entry `entry` is about to be pushed with `external_id` (kept if recorded).
    fn record_attempt(
        &mut self,
        entry: i64,
        external_id: &str,
        now: Timestamp,
    ) -> Result<(), StoreError>;
    /// Records that entry `entry` is SmashRun's activity `activity`.
    fn record_pushed(
        &mut self,
        entry: i64,
        activity: i64,
        now: Timestamp,
    ) -> Result<(), StoreError>;
    /// Forgets an attempt SmashRun refused (nothing was created).
    fn forget_attempt(&mut self, entry: i64) -> Result<(), StoreError>;
}

impl PushBook for Store {
    fn record_attempt(
        &mut self,
        entry: i64,
        external_id: &str,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        self.record_push_attempt(entry, external_id, now)
    }
    fn record_pushed(
        &mut self,
        entry: i64,
        activity: i64,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        Store::record_pushed(self, entry, activity, now)
    }
    fn forget_attempt(&mut self, entry: i64) -> Result<(), StoreError> {
        self.forget_push_attempt(entry)
    }
}

/// Why a push did not happen. In every case the entry stays in the ledger.
#[derive(Debug, thiserror::Error)]
pub enum PushError {
    /// No such entry.
    #[error("there is no ledger entry {0} (see `myrunstreak ledger`)")]
    NoSuchEntry(i64),
    /// Overrides are not runs.
    #[error(
        "ledger entry {0} is an override: it is your word for a day, not a run, and is never pushed to SmashRun"
    )]
    Override(i64),
    /// The stored sign-in says it may not write.
    #[error(
        "your SmashRun sign-in allows only {granted:?}, not write_activity: run `myrunstreak auth login --write`, then push again"
    )]
    NotGranted {
        /// The scopes granted.
        granted: String,
    },
    /// SmashRun said it created the activity but gave no id, and does not list it (yet).
    #[error(
        "SmashRun accepted the activity but gave no id and does not list it yet (externalId {external_id}); it is not sent again: the next sync, or `myrunstreak ledger push {entry}`, looks for it"
    )]
    CreatedNotFound {
        /// The entry.
        entry: i64,
        /// What to look for.
        external_id: String,
    },
    /// Every attempt ended without knowing whether SmashRun created the activity, and the search
    /// did not find it.
    #[error(
        "SmashRun did not answer {attempts} pushes of ledger entry {entry} ({last}); the activity was not found among your runs, so `myrunstreak ledger push {entry}` can safely try again later"
    )]
    GaveUp {
        /// The entry.
        entry: i64,
        /// POSTs sent.
        attempts: u32,
        /// The last failure.
        last: String,
    },
    /// SmashRun refused, or could not be reached to search.
    #[error(transparent)]
    SmashRun(#[from] ClientError),
    /// The database.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl PushError {
    /// Whether signing in again with `--write` is what fixes this.
    pub fn needs_write_login(&self) -> bool {
        matches!(
            self,
            PushError::NotGranted { .. } | PushError::SmashRun(ClientError::MissingScope { .. })
        )
    }
}

/// How the activity came to be known.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PushOutcome {
    /// SmashRun created it now.
    Created,
    /// It was already there, from an earlier push whose answer was lost: found by `externalId`.
    Found,
    /// The entry was pushed before; nothing was sent.
    AlreadyPushed,
}

/// `ledger push ID --json` and `add --push --json`: the entry with its push, and what happened.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PushReport {
    /// The entry, its push state as stored now.
    pub entry: LedgerEntry,
    /// SmashRun's id of the activity.
    pub activity_id: i64,
    /// How it came to be known.
    pub outcome: PushOutcome,
    /// POSTs sent by this push.
    pub posts: u32,
}

/// The activity an entry is pushed as; `None` for an override.
pub fn activity_of(entry: &LedgerEntry) -> Option<NewActivity> {
    match &entry.item.kind {
        LedgerKind::Run {
            distance,
            duration_s,
            ..
        } => Some(NewActivity::running(
            entry.item.start(),
            *distance,
            *duration_s,
            entry.external_id(),
        )),
        LedgerKind::Override { .. } => None,
    }
}

/// Pushes ledger entry `id` to SmashRun at `now` (see the module docs). `granted` is the scope
/// the stored tokens were granted, when known: without `write_activity` nothing is sent.
/// `pause` is the wait before the `n`-th retry.
pub async fn push(
    book: &mut impl PushBook,
    writer: &impl ActivityWriter,
    id: i64,
    granted: Option<&str>,
    now: Timestamp,
    pause: impl Fn(u32) -> Duration,
) -> Result<PushReport, PushError> {
    let entry = find_entry(book, id)?;
    let Some(mut activity) = activity_of(&entry) else {
        return Err(PushError::Override(id));
    };
    if let Some(activity_id) = entry.push.as_ref().and_then(|p| p.activity_id) {
        return report(book, id, activity_id, PushOutcome::AlreadyPushed, 0);
    }
    if let Some(granted) = granted
        && !granted.split_whitespace().any(|s| s == "write_activity")
    {
        return Err(PushError::NotGranted {
            granted: granted.to_owned(),
        });
    }
    // an earlier attempt's external id stands, whatever the entry would give today
    if let Some(p) = &entry.push {
        activity.external_id = p.external_id.clone();
    }
    let external_id = activity.external_id.clone();
    let day = entry.item.date;
    let look_first_at_start = entry.push.is_some();
    let mut look_first = look_first_at_start;
    book.record_attempt(id, &external_id, now)?;
    let mut posts = 0;
    let mut last = String::new();
    while posts < MAX_ATTEMPTS {
        if look_first {
            if let Some(found) = writer.find(&external_id, day).await? {
                book.record_pushed(id, found, now)?;
                return report(book, id, found, PushOutcome::Found, posts);
            }
            tokio::time::sleep(pause(posts)).await;
        }
        look_first = true;
        posts += 1;
        match writer.create(&activity).await {
            Ok(Some(created)) => {
                book.record_pushed(id, created, now)?;
                return report(book, id, created, PushOutcome::Created, posts);
            }
            Ok(None) => {
                let Some(found) = writer.find(&external_id, day).await? else {
                    return Err(PushError::CreatedNotFound {
                        entry: id,
                        external_id,
                    });
                };
                book.record_pushed(id, found, now)?;
                return report(book, id, found, PushOutcome::Created, posts);
            }
            Err(e) if e.outcome_unknown() => {
                tracing::warn!(entry = id, error = %e, "a push's outcome is unknown; looking before trying again");
                last = e.to_string();
            }
            Err(e) => {
                // refused outright: when no other POST of this entry was ever sent, nothing was
                // created, and the entry is as unpushed as it was
                if posts == 1 && !look_first_at_start {
                    book.forget_attempt(id)?;
                }
                return Err(e.into());
            }
        }
    }
    // the last POST too may have been taken
    if let Some(found) = writer.find(&external_id, day).await? {
        book.record_pushed(id, found, now)?;
        return report(book, id, found, PushOutcome::Found, posts);
    }
    Err(PushError::GaveUp {
        entry: id,
        attempts: posts,
        last,
    })
}

fn report(
    book: &impl LedgerBook,
    id: i64,
    activity_id: i64,
    outcome: PushOutcome,
    posts: u32,
) -> Result<PushReport, PushError> {
    Ok(PushReport {
        entry: find_entry(book, id)?,
        activity_id,
        outcome,
        posts,
    })
}

fn find_entry(book: &impl LedgerBook, id: i64) -> Result<LedgerEntry, PushError> {
    book.entries()?
        .into_iter()
        .find(|e| e.id == id)
        .ok_or(PushError::NoSuchEntry(id))
}

#[cfg(test)]
mod tests {
    use std::collections::VecDeque;
    use std::sync::Mutex;

    use jiff::civil::date;
    use jiff::tz::Offset;
    use myrunstreak_domain::{Distance, LedgerItem, LedgerPush, PushState, Run};

    use super::*;

    /// A ledger in memory with one manual run (entry 1) and one override (entry 2).
    struct Book {
        entries: Vec<LedgerEntry>,
        /// (external id, activity id) by entry.
        pushes: std::collections::HashMap<i64, (String, Option<i64>)>,
    }

    impl Book {
        fn new() -> Self {
            let created: Timestamp = "2026-05-03T08:00:00Z".parse().unwrap();
            let offset = Offset::from_seconds(-4 * 3600).unwrap();
            let run = LedgerItem::run(
                date(2026, 5, 2),
                None,
                offset,
                Distance::from_km(3.0).unwrap(),
                None,
                None,
            )
            .unwrap();
            let over = LedgerItem::override_day(date(2026, 5, 1), offset, "watch died").unwrap();
            let entry = |id, item| LedgerEntry {
                id,
                created,
                item,
                push: None,
            };
            Book {
                entries: vec![entry(1, run), entry(2, over)],
                pushes: Default::default(),
            }
        }
    }

    impl LedgerBook for Book {
        fn entries(&self) -> Result<Vec<LedgerEntry>, StoreError> {
            Ok(self
                .entries
                .iter()
                .cloned()
                .map(|mut e| {
                    e.push = self.pushes.get(&e.id).map(|(x, a)| {
                        LedgerPush::new(x.clone(), *a, a.map(|_| Timestamp::UNIX_EPOCH), None)
                    });
                    e
                })
                .collect())
        }
        fn add(&mut self, _: &LedgerItem, _: Timestamp) -> Result<LedgerEntry, StoreError> {
            unreachable!("a push adds nothing")
        }
        fn remove(&mut self, _: i64) -> Result<Option<LedgerEntry>, StoreError> {
            unreachable!("a push removes nothing")
        }
        fn remove_override(&mut self, _: Date) -> Result<Option<LedgerEntry>, StoreError> {
            unreachable!("a push removes nothing")
        }
        fn mirrored(&self) -> Result<Vec<Run>, StoreError> {
            Ok(Vec::new())
        }
    }

    impl PushBook for Book {
        fn record_attempt(&mut self, entry: i64, x: &str, _: Timestamp) -> Result<(), StoreError> {
            self.pushes.entry(entry).or_insert((x.to_owned(), None));
            Ok(())
        }
        fn record_pushed(&mut self, entry: i64, a: i64, _: Timestamp) -> Result<(), StoreError> {
            self.pushes.get_mut(&entry).unwrap().1 = Some(a);
            Ok(())
        }
        fn forget_attempt(&mut self, entry: i64) -> Result<(), StoreError> {
            self.pushes.retain(|e, (_, a)| *e != entry || a.is_some());
            Ok(())
        }
    }

    /// SmashRun as a script: each POST takes the next answer (and creates the activity unless
    /// it is refused); a search finds what was created.
    #[derive(Default)]
    struct Writer {
        answers: Mutex<VecDeque<Result<Option<i64>, ClientError>>>,
        created: Mutex<Vec<(i64, NewActivity)>>,
        searches: Mutex<u32>,
    }

    impl Writer {
        fn answering(answers: Vec<Result<Option<i64>, ClientError>>) -> Self {
            Writer {
                answers: Mutex::new(answers.into()),
                ..Writer::default()
            }
        }
        fn posts(&self) -> usize {
            self.created.lock().unwrap().len()
        }
    }

    fn lost() -> Result<Option<i64>, ClientError> {
        Err(ClientError::Status {
            method: "POST",
            path: "/my/activities".into(),
            status: 502,
            body: String::new(),
        })
    }

    impl ActivityWriter for Writer {
        async fn create(&self, activity: &NewActivity) -> Result<Option<i64>, ClientError> {
            let answer = self.answers.lock().unwrap().pop_front().unwrap_or(Ok(None));
            let refused = matches!(
                answer,
                Err(ClientError::MissingScope { .. } | ClientError::WriteRefused { .. })
            );
            if !refused {
                let mut created = self.created.lock().unwrap();
                let id = 500 + created.len() as i64;
                created.push((id, activity.clone()));
            }
            answer
        }
        async fn find(&self, external_id: &str, _: Date) -> Result<Option<i64>, ClientError> {
            *self.searches.lock().unwrap() += 1;
            Ok(self
                .created
                .lock()
                .unwrap()
                .iter()
                .find(|(_, a)| a.external_id == external_id)
                .map(|(id, _)| *id))
        }
    }

    async fn push_one(
        book: &mut Book,
        writer: &Writer,
        id: i64,
        granted: Option<&str>,
    ) -> Result<PushReport, PushError> {
        push(book, writer, id, granted, Timestamp::UNIX_EPOCH, |_| {
            Duration::ZERO
        })
        .await
    }

    #[tokio::test]
    async fn the_activity_is_the_entrys_run_at_noon_with_its_offset() {
        let (mut book, writer) = (Book::new(), Writer::answering(vec![Ok(Some(500))]));
        let report = push_one(&mut book, &writer, 1, None).await.unwrap();
        assert_eq!(
            (report.activity_id, report.outcome, report.posts),
            (500, PushOutcome::Created, 1)
        );
        assert_eq!(report.entry.push.unwrap().state, PushState::Pushed);
        let sent = writer.created.lock().unwrap()[0].1.clone();
        assert_eq!(sent.start.to_string(), "2026-05-02T12:00:00-04:00");
        assert_eq!(sent.external_id, "myrunstreak-ledger-1-1777795200");
        assert_eq!(
            *writer.searches.lock().unwrap(),
            0,
            "a first push does not search"
        );
        // a second push sends nothing
        let again = push_one(&mut book, &writer, 1, None).await.unwrap();
        assert_eq!(again.outcome, PushOutcome::AlreadyPushed);
        assert_eq!(writer.posts(), 1);
    }

    #[tokio::test]
    async fn an_answer_without_an_id_is_completed_by_the_external_id() {
        let (mut book, writer) = (Book::new(), Writer::answering(vec![Ok(None)]));
        let report = push_one(&mut book, &writer, 1, None).await.unwrap();
        assert_eq!(
            (report.activity_id, report.outcome),
            (500, PushOutcome::Created)
        );
    }

    #[tokio::test]
    async fn lost_answers_are_searched_for_and_never_posted_twice() {
        let (mut book, writer) = (Book::new(), Writer::answering(vec![lost()]));
        let report = push_one(&mut book, &writer, 1, None).await.unwrap();
        assert_eq!(
            (report.activity_id, report.outcome, report.posts),
            (500, PushOutcome::Found, 1)
        );
        assert_eq!(writer.posts(), 1);
    }

    #[tokio::test]
    async fn refusals_forget_the_attempt_and_overrides_are_never_sent() {
        let mut book = Book::new();
        let scope = Writer::answering(vec![Err(ClientError::MissingScope {
            status: 403,
            message: "no".into(),
        })]);
        let err = push_one(&mut book, &scope, 1, None).await.unwrap_err();
        assert!(err.needs_write_login(), "{err}");
        assert!(book.pushes.is_empty(), "the entry is as unpushed as before");

        let err = push_one(&mut book, &Writer::default(), 1, Some("read_activity"))
            .await
            .unwrap_err();
        assert!(matches!(err, PushError::NotGranted { .. }) && err.needs_write_login());
        let err = push_one(&mut book, &Writer::default(), 2, None)
            .await
            .unwrap_err();
        assert!(matches!(err, PushError::Override(2)), "{err}");
        let err = push_one(&mut book, &Writer::default(), 9, None)
            .await
            .unwrap_err();
        assert!(matches!(err, PushError::NoSuchEntry(9)), "{err}");
    }

    #[tokio::test]
    async fn when_nothing_answers_and_nothing_is_found_it_gives_up_after_its_attempts() {
        /// A SmashRun that loses every POST before creating anything.
        struct Down(Mutex<u32>);
        impl ActivityWriter for Down {
            async fn create(&self, _: &NewActivity) -> Result<Option<i64>, ClientError> {
                *self.0.lock().unwrap() += 1;
                lost()
            }
            async fn find(&self, _: &str, _: Date) -> Result<Option<i64>, ClientError> {
                Ok(None)
            }
        }
        let (mut book, down) = (Book::new(), Down(Mutex::new(0)));
        let err = push(&mut book, &down, 1, None, Timestamp::UNIX_EPOCH, |_| {
            Duration::ZERO
        })
        .await
        .unwrap_err();
        assert!(
            matches!(
                err,
                PushError::GaveUp {
                    attempts: MAX_ATTEMPTS,
                    ..
                }
            ),
            "{err}"
        );
        assert_eq!(*down.0.lock().unwrap(), MAX_ATTEMPTS);
        assert!(book.pushes[&1].1.is_none(), "still only attempted");
    }
}
