//! The bound on AWS calls in flight during one invocation.
//!
//! Work fans out per destination, and much of a destination's time is spent waiting (the settle
//! time before a verifying policy read, backoff while IAM propagates). Bounding *calls* rather
//! than destination tasks keeps those waits from holding a slot: every destination can wait at
//! once, while no more than [`MAX_CALLS_IN_FLIGHT`] requests reach AWS together (connections,
//! per-account request rates). Slots are handed out first come, first served.
//!
//! A sequence of calls that must follow each other closely (a shared policy's read-modify-write,
//! whose read-to-write gap is the window in which a concurrent writer can be overwritten) takes
//! one slot for the whole sequence, so the gap never includes waiting for a slot.

use std::sync::Arc;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// AWS requests one invocation has open at once, across all accounts and regions. At AWS's
/// 20–100 ms per control-plane call, 16 in flight is 150–800 calls a second, beyond what IAM's
/// and KMS's per-account request quotas sustain anyway (throttled calls are retried); more
/// would only queue at the server, and a shared policy's read-to-write time — from which its
/// settle time is derived — grows with every call queued ahead of it.
pub const MAX_CALLS_IN_FLIGHT: usize = 16;

/// A cloneable handle on one invocation's call bound.
#[derive(Clone, Debug)]
pub struct InFlight(Option<Arc<Semaphore>>);

/// One held call slot; released when dropped.
#[derive(Debug)]
pub struct Slot {
    _permit: Option<OwnedSemaphorePermit>,
}

impl Default for InFlight {
    fn default() -> Self {
        Self::new(MAX_CALLS_IN_FLIGHT)
    }
}

impl InFlight {
    pub fn new(limit: usize) -> Self {
        Self(Some(Arc::new(Semaphore::new(limit.max(1)))))
    }

    /// Waits for a free slot.
    pub async fn acquire(&self) -> Slot {
        match &self.0 {
            // The semaphore is never closed, so acquiring cannot fail.
            Some(s) => Slot {
                _permit: s.clone().acquire_owned().await.ok(),
            },
            None => Slot { _permit: None },
        }
    }

    /// A handle whose calls take no slot: for calls made while the caller holds one.
    pub fn within_held_slot(&self) -> Self {
        Self(None)
    }

    /// Slots free right now (`None`: this handle does not bound calls).
    pub fn available(&self) -> Option<usize> {
        self.0.as_ref().map(|s| s.available_permits())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn bounds_concurrent_holders_and_releases_on_drop() {
        let f = InFlight::new(2);
        let a = f.acquire().await;
        let b = f.acquire().await;
        assert_eq!(f.available(), Some(0));
        // A third caller waits until a slot is released.
        let third = tokio::time::timeout(Duration::from_millis(20), f.acquire()).await;
        assert!(third.is_err(), "a third call ran while two were in flight");
        drop(a);
        let c = tokio::time::timeout(Duration::from_millis(20), f.acquire()).await;
        assert!(c.is_ok(), "a released slot was not handed on");
        drop((b, c));
        assert_eq!(f.available(), Some(2));
    }

    #[tokio::test]
    async fn calls_within_a_held_slot_take_no_other() {
        let f = InFlight::new(1);
        let held = f.acquire().await;
        let inner = f.within_held_slot();
        // Would wait forever if it took a slot of the exhausted bound.
        let nested = tokio::time::timeout(Duration::from_millis(20), inner.acquire()).await;
        assert!(
            nested.is_ok(),
            "a call within a held slot waited for another"
        );
        assert_eq!(inner.available(), None);
        drop(held);
        assert_eq!(f.available(), Some(1));
    }

    #[test]
    fn a_zero_limit_still_lets_calls_through_one_at_a_time() {
        assert_eq!(InFlight::new(0).available(), Some(1));
    }
}
