//! Joren's analytics engine over a columnar transaction log: per-customer summaries, RFM
//! scores and segments, and the probabilistic customer-lifetime-value models (BG/NBD and
//! Gamma-Gamma, fitted by maximum likelihood). Pure computation: callers read files or the
//! database and hand over bytes or values; nothing here does I/O.

pub mod activity;
pub mod bgbb;
pub mod bgnbd;
pub mod churn;
pub mod clv;
pub mod cohort;
pub mod cross_sell;
pub mod fit;
pub mod gamma_gamma;
pub mod kpi;
pub mod log;
pub mod pareto_nbd;
pub mod rfm;
pub mod sbg;
pub mod special;
pub mod summary;
pub mod uplift;
pub mod validation;

pub use log::{TransactionLog, TransactionLogBuilder};
pub use summary::{CustomerSummary, TimeUnit};

/// Errors of the engine.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum AnalyticsError {
    /// A CSV line could not be read; `line` is 1-based, the header being line 1.
    #[error("line {line}: {message}")]
    Parse { line: u64, message: String },
    /// The data cannot support the model (too few customers or repeaters, …).
    #[error("not enough data: {0}")]
    NotEnoughData(String),
    /// The optimiser did not reach a trustworthy maximum.
    #[error("model not fitted: {0}")]
    NotConverged(String),
    /// Stored figures that cannot be read back (written by another version, or damaged).
    #[error("stored figures unreadable: {0}")]
    Corrupt(String),
}
