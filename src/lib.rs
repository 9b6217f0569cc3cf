//! CloudFormation custom resource `Custom::S3Replication`: cross-account, cross-region S3
//! replication with customer-managed KMS keys.
//!
//! The pipeline reads as the modules: [`cfn`] (protocol) → [`spec`] (validated properties) →
//! [`plan`] (pure desired state) → [`reconcile`] (idempotent apply/cleanup) → [`aws`] (clients).

pub mod aws;
pub mod cfn;
pub mod cli;
pub mod doctor;
pub mod handler;
pub mod plan;
pub mod preview;
pub mod reach;
pub mod reconcile;
pub mod redact;
pub mod spec;
pub mod template;
pub mod time;
pub mod verify;
