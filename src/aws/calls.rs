//! A record of every AWS call of one invocation: logged (one line per mutation), counted by verb
//! for idempotency checks, and timed for the performance harness.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::Op;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Call {
    pub service: &'static str,
    pub operation: &'static str,
    /// The IAM action(s) that authorize it ("s3:PutReplicationConfiguration and iam:PassRole").
    pub action: &'static str,
    pub mutating: bool,
    pub account: String,
    pub region: String,
    pub resource: String,
    /// Offsets from the log's creation.
    pub start: Duration,
    pub end: Duration,
    pub ok: bool,
}

#[derive(Debug, Clone)]
pub struct CallLog {
    origin: Instant,
    calls: Arc<Mutex<Vec<Call>>>,
}

impl Default for CallLog {
    fn default() -> Self {
        Self {
            origin: Instant::now(),
            calls: Arc::default(),
        }
    }
}

impl CallLog {
    pub fn started(&self) -> Instant {
        self.origin
    }

    pub fn record(
        &self,
        op: Op,
        account: &str,
        region: &str,
        resource: &str,
        start: Instant,
        ok: bool,
    ) {
        let call = Call {
            service: op.service,
            operation: op.name,
            action: op.action,
            mutating: op.mutating,
            account: account.to_owned(),
            region: region.to_owned(),
            resource: resource.to_owned(),
            start: start.duration_since(self.origin),
            end: self.origin.elapsed(),
            ok,
        };
        self.calls
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(call);
    }

    pub fn calls(&self) -> Vec<Call> {
        self.calls.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Mutating calls that succeeded.
    pub fn mutations(&self) -> Vec<Call> {
        self.calls()
            .into_iter()
            .filter(|c| c.mutating && c.ok)
            .collect()
    }
}
