//! A one-way gate between concurrent steps of one reconcile: closed until [`Gate::open`], then
//! every [`Gate::wait`] passes at once.

/// A semaphore with no permits: waiting acquires one, which fails at once once it is closed.
pub(super) struct Gate(tokio::sync::Semaphore);

impl Gate {
    pub(super) fn new() -> Self {
        Self(tokio::sync::Semaphore::new(0))
    }

    pub(super) fn open(&self) {
        self.0.close();
    }

    pub(super) async fn wait(&self) {
        let _ = self.0.acquire().await;
    }
}

#[cfg(test)]
mod tests {
    use super::Gate;
    use std::time::Duration;

    #[tokio::test]
    async fn waits_until_opened_then_passes_every_waiter() {
        let g = Gate::new();
        let early = tokio::time::timeout(Duration::from_millis(20), g.wait()).await;
        assert!(early.is_err(), "a closed gate let a waiter through");
        g.open();
        for _ in 0..3 {
            tokio::time::timeout(Duration::from_millis(20), g.wait())
                .await
                .expect("an open gate held a waiter");
        }
    }
}
