//! AWS clients per account and region, and the calls the provider makes through them. This is
//! the only module that touches the SDK.

mod account;
mod batch;
mod calls;
mod cloudformation;
mod cloudwatch;
mod connect;
mod error;
mod iam;
mod in_flight;
mod kms;
mod notifications;
mod objects;
mod organizations;
mod s3;
mod sns;
mod sqs;
#[cfg(test)]
pub mod stub;

pub use account::Account;
pub use batch::{JobInfo, NewJob};
pub use calls::{Call, CallLog};
pub use cloudformation::StackResource;
pub use connect::{tuned, Connector, DEFAULT_ATTEMPT_TIMEOUT, DEFAULT_SETTLE, SESSION_NAME};
pub use error::{from_sdk, AwsError, AwsErrorDetail, Code, ErrorKind, Op};
pub use iam::RoleInfo;
pub use in_flight::{InFlight, Slot, MAX_CALLS_IN_FLIGHT};
pub use kms::{KeyInfo, KeyState};
pub use objects::ObjectVersion;
pub use organizations::Membership;
pub use s3::{DefaultEncryption, LiveReplication, LiveRule, SseAlgorithm, VersioningStatus};
