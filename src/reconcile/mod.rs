//! Applying a [`Plan`](crate::plan::Plan) and cleaning up after one, idempotently: every step
//! reads first and writes only what differs, so a second identical run makes no mutating call,
//! and every step is safe to re-run after an interruption. Cleanup copes with an apply that
//! never finished: what is already gone counts as removed.

mod apply;
mod batch;
mod bucket;
mod cleanup;
mod destination;
pub mod diff;
mod error;
mod gate;
mod keys;
mod retry;
mod role;
pub(crate) mod signals;
mod source;
mod statements;

pub use apply::{
    apply, check_all, connect_destination, connect_destinations, resolve_source, Facts,
};
pub use batch::{jobs_of, start_jobs};
pub use cleanup::{cleanup, cleanup_removed};
pub use destination::DestinationFacts;
pub use error::ReconcileError;
pub use retry::is_propagation_error;
pub use source::SourceFacts;

/// How many destinations are worked on at once. This bounds memory (one task per destination),
/// not AWS traffic: calls in flight are bounded across all destinations by
/// [`MAX_CALLS_IN_FLIGHT`](crate::aws::MAX_CALLS_IN_FLIGHT), so a destination waiting (settle
/// time, propagation backoff) holds no call slot.
pub const DESTINATION_CONCURRENCY: usize = 128;

#[cfg(test)]
mod tests;
