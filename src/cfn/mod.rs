//! The CloudFormation custom-resource protocol: requests in, exactly one response out.

mod request;
mod responder;
mod response;
mod response_url;
pub mod stack_check;

pub use request::{parse_event, Malformed, Request, RequestKind};
pub use responder::{deliver, DeliveryError};
pub use response::{Response, Status, MAX_BODY};
pub use response_url::{AllowedPrefixes, Refused, ALLOWED_PREFIXES_ENV};
