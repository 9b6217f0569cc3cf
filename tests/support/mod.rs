//! Test helpers for the integration tests: a moto server per test, a
//! CloudFormation response receiver, event builders and "world" helpers that
//! create and inspect buckets, keys and roles across accounts and regions.
//!
//! Use from a test file with `mod support;`. Everything runs on 127.0.0.1.
//!
//! * [`Emulator::start`] starts moto through `scripts/emulator.py moto` (the harness the demo and
//!   the Python tests use: the pinned moto with the project's fixes, on a free port) and stops
//!   it on drop.
//! * [`Receiver::start`] is a tiny HTTP/1.1 server that records every request
//!   made to its pre-signed-looking URLs and answers 200 (or a scripted status).
//! * [`cfn_event`] builds a CloudFormation custom-resource request event.
//! * [`Emulator::invoke`] runs `bootstrap invoke -` against the emulator.
//!
//! moto 5.2.5 quirks worth knowing (see [`Emulator::replication`]):
//! GetBucketReplication answers every rule with `Filter: {Prefix: ""}` and
//! `DeleteMarkerReplication: Disabled` and drops `SourceSelectionCriteria`, so
//! `replication()` overlays those fields from moto's stored copy of the PUT;
//! GetBucketVersioning's reply has a root element the Rust SDK rejects (always:
//! "expected VersioningConfiguration"), so `versioning()` falls back to moto's
//! state;
//! ScheduleKeyDeletion/DisableKey/EnableKey/CancelKeyDeletion answer 500 when
//! given a key ARN instead of a key id; KMS calls only find a key in its own
//! account (use the owner account's config).
//!
//! Files, one concept each (everything is re-exported here, so tests say `support::X`):
//! `emulator` (moto), `clients` (SDK clients in any account), `world` (creating buckets, keys,
//! policies), `inspect` (reading them back) with `replication_view`, `invoke` (running
//! `bootstrap invoke`), `events` (CloudFormation events), `receiver` (the ResponseURL server),
//! `http_client`, `ids`, `policy_docs`; and the public modules [`harness`] (the handler
//! in-process), [`proxy`] (fault injection), [`oracle`] (the doctor on live state), [`fuzz`],
//! [`http_server`] (the local servers' hyper plumbing, also the bench's).
#![allow(dead_code)]

mod clients;
mod emulator;
mod events;
mod http_client;
mod ids;
mod inspect;
mod invoke;
mod policy_docs;
mod receiver;
mod replication_view;
mod world;

pub mod fuzz;
pub mod harness;
pub mod http_server;
pub mod oracle;
pub mod proxy;
pub mod stacks;
pub mod templates;

// One import item, so one allowance: each test crate uses a different part of `support`.
#[allow(unused_imports)]
pub use self::{
    emulator::{python, tools_dir, Emulator},
    events::{
        cfn_event, cfn_event_from, stack_id, test_stack_id, LOGICAL_RESOURCE_ID, RESOURCE_TYPE,
        TEST_STACK_REGION,
    },
    http_client::{free_port, http_request},
    ids::{arn_account_region, key_id_of, random_u64, unique, uuid},
    invoke::{bootstrap_path, scrub_aws_env, Invocation},
    policy_docs::{mentions, parse_policy, policy_sids, sid_in, sid_of},
    receiver::{Receiver, RecordedRequest},
    world::sse_kms_objects,
};

/// The account that static test credentials act in.
pub const DEFAULT_ACCOUNT: &str = "123456789012";
/// Role assumed (it need not exist in moto) to act in another account.
pub const TEST_ADMIN_ROLE: &str = "test-admin";
pub const TEST_ACCESS_KEY_ID: &str = "testing";
pub const TEST_SECRET_ACCESS_KEY: &str = "testing";
/// Region used for IAM (a global service).
pub const IAM_REGION: &str = "us-east-1";
/// The ResponseURL prefix of every local receiver: admitted by the function only through its
/// `PROVIDER_ALLOWED_RESPONSE_URL_PREFIXES` setting, as an operator would for an emulator.
pub const LOCAL_RESPONSE_URLS: &str = "http://127.0.0.1:";

/// [`s3_replication_provider::handler::Settings`] for the in-process handler in tests: the
/// defaults, with the local receivers admitted as ResponseURLs and, since the tests' events
/// name stacks no CloudFormation runs, without the stack-event check (as an operator sets
/// `PROVIDER_VERIFY_STACK_EVENTS=false` for an emulator; tests/security.rs turns it on).
pub fn local_settings() -> s3_replication_provider::handler::Settings {
    s3_replication_provider::handler::Settings {
        response_urls: s3_replication_provider::cfn::AllowedPrefixes::parse(LOCAL_RESPONSE_URLS),
        verify_stack_events: false,
        ..Default::default()
    }
}
