//! The application layer: the one seam every MyRunStreak shell (CLI, HTTP server, Lambda) talks
//! to. It holds the settings, the token stores, the wiring of settings → tokens → SmashRun client →
//! store ([`Wiring`]), the sync service and its rules, the runner's ledger of manual runs and
//! overrides ([`ledger`]) and their pushes to SmashRun ([`push`]), the streak and analytics queries, the answer types every shell
//! serializes ([`views`], [`queries`]), and what is published from them ([`publish`]:
//! `status.json`, the [`badge`], the `streak.ics` feed).
//!
//! It owns the ports adapters plug into: [`RunSource`] (SmashRun) and [`RunMirror`] (the DuckDB
//! store) and [`ledger::LedgerBook`] (where the ledger is kept), implemented here for the real
//! client and store, and [`TokenStore`] (file, environment, AWS Secrets Manager in
//! `myrunstreak-aws`).
//!
//! What it may not do: read the clock or the environment on its own (shells pass both in, except
//! for [`Wiring`]'s defaults, which take `Timestamp::now`), print, or know HTTP routes. Shells
//! never reach the store or the SmashRun client crates except through this crate.

pub mod badge;
pub mod doctor;
pub mod goals;
pub mod import;
pub mod ledger;
pub mod mirror;
pub mod ports;
pub mod publish;
pub mod push;
pub mod queries;
pub mod remind;
pub mod settings;
pub mod site;
pub mod sync;
pub mod tokens;
pub mod verdict;
pub mod views;
pub mod wiring;

pub use goals::Goals;
pub use mirror::{ExportFormat, Mirror, RunQuery, Snapshot};
pub use myrunstreak_store::StoreError;
pub use ports::{ListingStyle, RunMirror, RunSource};
pub use publish::{Publication, PublishError, PublishedFile};
pub use settings::{Settings, SettingsError, TokenStoreKind};
pub use sync::{
    DeletionGuard, FULL_EVERY, ListingCheck, ListingHints, SyncError, SyncEvent, SyncMode,
    SyncReport, SyncRequest, first_sync, pending_notice, preload_budget, scheduled_mode, sync,
};
pub use tokens::{EnvTokenStore, FileTokenStore, StoredTokens, TokenStore, TokenStoreError};
pub use verdict::{DEFAULT_STALE_AFTER, StreakAnswer, Verdict, is_stale};
pub use views::{ChangeCounts, HeldRun, RejectedActivity, RunItem, SyncEntry, SyncState};
pub use wiring::{RemindOptions, Wiring, WiringError, http_client, local_token_store};

/// The SmashRun client's value types that shells handle: the OAuth flow's parts for a login, the
/// tokens, and the client's progress events. Requests themselves go through [`Wiring`].
pub mod smashrun {
    pub use smashrun_client::{
        Authorization, Error, Event, OAuthClient, OAuthConfig, Observer, Scope, Secret, TokenSet,
        UserInfo, WaitReason,
    };
}
