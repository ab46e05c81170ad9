//! The application layer every MyRunStreak shell shares (CLI, HTTP server, Lambda): settings,
//! token stores, the sync service, and the streak and analytics queries with their response
//! types. Shells read the clock and the environment; this crate takes both as arguments.
//!
//! It owns the ports the shells plug adapters into: [`TokenStore`] (file, environment, AWS
//! Secrets Manager in `myrunstreak-aws`).

pub mod doctor;
pub mod queries;
pub mod settings;
pub mod sync;
pub mod tokens;

pub use settings::{Settings, SettingsError, TokenStoreKind};
pub use sync::{
    DeletionGuard, ListingCheck, ListingHints, SyncError, SyncEvent, SyncMode, SyncReport,
    SyncRequest, pending_notice, preload_budget, sync,
};
pub use tokens::{EnvTokenStore, FileTokenStore, StoredTokens, TokenStore, TokenStoreError};
