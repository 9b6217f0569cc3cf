//! Time, in one place: how long an invocation may work before it must answer ([`Budget`]), the
//! instant the work must stop ([`Deadline`]), and the jittered backoff every retry waits
//! ([`backoff`]): AWS calls waiting for IAM propagation, and the answer's delivery.

use std::time::{Duration, Instant, SystemTime};

/// Used when the runtime gives no usable deadline (absent, already past, or absurdly far).
pub const DEFAULT_BUDGET: Duration = Duration::from_secs(300);

/// The time available to one invocation, split into work and the reserve kept for answering.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budget {
    /// When the work must stop so that the answer still goes out in time.
    pub work_until: Instant,
    /// When the answer itself must be done (the Lambda deadline, less a safety margin).
    pub answer_until: Instant,
}

impl Budget {
    /// From the Lambda deadline when it is plausible (in the future, at most 15 minutes away),
    /// else from `fallback`. A tenth of the time (2–20 s) is kept for answering.
    pub fn new(lambda_deadline: Option<SystemTime>, fallback: Duration) -> Self {
        let now = SystemTime::now();
        let total = lambda_deadline
            .and_then(|d| d.duration_since(now).ok())
            .filter(|left| *left > Duration::from_millis(500) && *left <= Duration::from_secs(900))
            .unwrap_or(fallback);
        let start = Instant::now();
        let margin = Duration::from_millis(250).min(total / 10);
        let answer_until = start + total.saturating_sub(margin);
        let reserve = (total / 10)
            .clamp(Duration::from_secs(2), Duration::from_secs(20))
            .min(total / 2);
        Self {
            work_until: answer_until - reserve,
            answer_until,
        }
    }
}

/// The instant by which the invocation must have answered, less a margin for answering.
#[derive(Debug, Clone, Copy)]
pub struct Deadline(pub Instant);

impl Deadline {
    pub fn after(d: Duration) -> Self {
        Self(Instant::now() + d)
    }
    pub fn remaining(&self) -> Duration {
        self.0.saturating_duration_since(Instant::now())
    }
}

/// Wait before retry `n` (n ≥ 1): between half and all of 0.5 s × 2ⁿ (1 s, 2 s, 4 s, then 8 s).
pub fn backoff(attempt: u32) -> Duration {
    let cap = Duration::from_millis(500u64.saturating_mul(1 << attempt.min(4)));
    cap.mul_f64(0.5 + fastrand::f64() / 2.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn past_or_missing_deadline_uses_fallback() {
        let fallback = Duration::from_secs(100);
        for d in [
            None,
            Some(SystemTime::UNIX_EPOCH),
            Some(SystemTime::now() + Duration::from_secs(86_400)),
        ] {
            let b = Budget::new(d, fallback);
            let total = b.answer_until - Instant::now();
            assert!(
                total > Duration::from_secs(95) && total <= fallback,
                "{total:?}"
            );
            assert!(b.work_until < b.answer_until);
        }
    }

    #[test]
    fn real_deadline_keeps_a_reserve_for_answering() {
        let b = Budget::new(
            Some(SystemTime::now() + Duration::from_secs(60)),
            DEFAULT_BUDGET,
        );
        let reserve = b.answer_until - b.work_until;
        assert!(
            reserve >= Duration::from_secs(2) && reserve <= Duration::from_secs(20),
            "{reserve:?}"
        );
        assert!(b.answer_until - Instant::now() <= Duration::from_secs(60));
    }

    #[test]
    fn tiny_budgets_still_order_work_before_answer() {
        let b = Budget::new(None, Duration::from_secs(1));
        assert!(b.work_until <= b.answer_until);
    }
    #[test]
    fn backoff_grows_and_is_bounded() {
        for n in 1..20 {
            let b = backoff(n);
            assert!(b <= Duration::from_secs(8), "{b:?}");
            assert!(b >= Duration::from_millis(500), "{b:?}");
        }
    }
}
