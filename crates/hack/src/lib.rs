//! The workspace-hack crate, managed by `cargo hakari` (`.config/hakari.toml`): it depends on
//! every third-party crate with the union of the features the whole workspace asks for, and every
//! workspace crate but the domain depends on it. So `cargo run --release -- demo` (the CLI alone),
//! `./scripts/test` (everything, with dev-dependencies) and `cargo clippy` build each dependency
//! with the same features and share one build, DuckDB's 40-minute C++ above all.
//!
//! Never edit the generated section by hand: after changing a dependency, run
//! `cargo hakari generate && cargo hakari manage-deps`; the test suite checks it is up to date.
