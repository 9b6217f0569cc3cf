//! The request side of policy evaluation: who asks ([`Principal`]), for what, on which
//! resource, with which condition keys ([`Context`]), and the three-valued truth ([`Tri`]) every
//! match is expressed in: `Unknown` stands for "this evaluator cannot tell" and never becomes a
//! pass.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Not;

use serde::Serialize;

/// Kleene's three-valued logic: `No < Unknown < Yes`; `and` is the minimum, `or` the maximum.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Tri {
    #[default]
    No,
    Unknown,
    Yes,
}

impl Tri {
    pub fn from_bool(b: bool) -> Tri {
        if b {
            Tri::Yes
        } else {
            Tri::No
        }
    }

    pub fn and(self, other: Tri) -> Tri {
        self.min(other)
    }

    pub fn or(self, other: Tri) -> Tri {
        self.max(other)
    }

    /// `Yes` if any is `Yes`, else `Unknown` if any is `Unknown`, else `No` (empty: `No`).
    pub fn any<I: IntoIterator<Item = Tri>>(items: I) -> Tri {
        items.into_iter().fold(Tri::No, Tri::or)
    }

    /// `No` if any is `No`, else `Unknown` if any is `Unknown`, else `Yes` (empty: `Yes`).
    pub fn all<I: IntoIterator<Item = Tri>>(items: I) -> Tri {
        items.into_iter().fold(Tri::Yes, Tri::and)
    }
}

impl Not for Tri {
    type Output = Tri;
    fn not(self) -> Tri {
        match self {
            Tri::No => Tri::Yes,
            Tri::Unknown => Tri::Unknown,
            Tri::Yes => Tri::No,
        }
    }
}

/// Who makes the request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    /// A session of an IAM role. `role_arn` is what `aws:PrincipalArn` holds for a role session
    /// (the role's ARN, path included); the session's own `arn:aws:sts::…:assumed-role/…` ARN is
    /// not known (S3 chooses the session name). `unique_id` is the role's `AROA…` id, if known.
    Role {
        role_arn: String,
        account: String,
        unique_id: Option<String>,
    },
    /// An IAM user.
    User { arn: String, account: String },
    /// A service principal such as `s3.amazonaws.com`.
    Service(String),
}

impl Principal {
    /// A session of the role with this ARN; the account is read from the ARN.
    pub fn role(role_arn: &str) -> Principal {
        Principal::Role {
            role_arn: role_arn.to_owned(),
            account: arn_account(role_arn).unwrap_or_default().to_owned(),
            unique_id: None,
        }
    }

    pub fn user(arn: &str) -> Principal {
        Principal::User {
            arn: arn.to_owned(),
            account: arn_account(arn).unwrap_or_default().to_owned(),
        }
    }

    pub fn service(name: &str) -> Principal {
        Principal::Service(name.to_owned())
    }

    /// The account of an IAM principal; `None` for a service principal.
    pub fn account(&self) -> Option<&str> {
        match self {
            Principal::Role { account, .. } | Principal::User { account, .. } => Some(account),
            Principal::Service(_) => None,
        }
    }

    /// The ARN `aws:PrincipalArn` holds (role or user ARN); `None` for a service principal.
    pub fn arn(&self) -> Option<&str> {
        match self {
            Principal::Role { role_arn, .. } => Some(role_arn),
            Principal::User { arn, .. } => Some(arn),
            Principal::Service(_) => None,
        }
    }
}

/// The account field (fifth) of an ARN.
pub fn arn_account(arn: &str) -> Option<&str> {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    (parts.len() == 6 && parts[0] == "arn").then(|| parts[4])
}

/// The region field (fourth) of an ARN.
pub fn arn_region(arn: &str) -> Option<&str> {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    (parts.len() == 6 && parts[0] == "arn").then(|| parts[3])
}

/// What a context key holds in a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lookup<'a> {
    /// Present with these values (one for a single-valued key).
    Present(&'a [String]),
    /// Known not to be in the request context.
    Absent,
    /// Known to be in the request context, with a value the snapshot cannot know (e.g.
    /// `aws:TokenIssueTime` of a role session): `Null` decides, value comparisons do not.
    PresentUnknown,
    /// The snapshot does not say whether or with what value the key is present.
    Unknown,
}

/// The request context's condition keys. Key names are case-insensitive ("Condition element":
/// condition key names are not case-sensitive), values are kept as given.
///
/// Open world by default: a key neither set nor declared absent is [`Lookup::Unknown`], so a
/// condition on it cannot be decided. [`Context::closed`] makes every unset key absent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Context {
    values: BTreeMap<String, Vec<String>>,
    absent: BTreeSet<String>,
    present: BTreeSet<String>,
    closed: bool,
}

impl Context {
    /// Open world: unset keys are unknown.
    pub fn open() -> Self {
        Self::default()
    }

    /// Closed world: unset keys are absent.
    pub fn closed() -> Self {
        Self {
            closed: true,
            ..Self::default()
        }
    }

    /// Sets a single-valued key.
    pub fn with(mut self, key: &str, value: impl Into<String>) -> Self {
        self.set(key, vec![value.into()]);
        self
    }

    /// Sets a multi-valued key.
    pub fn with_values<I, S>(mut self, key: &str, values: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.set(key, values.into_iter().map(Into::into).collect());
        self
    }

    /// Declares a key absent from the request.
    pub fn without(mut self, key: &str) -> Self {
        let k = key.to_ascii_lowercase();
        self.values.remove(&k);
        self.present.remove(&k);
        self.absent.insert(k);
        self
    }

    /// Declares a key present in the request with a value that is not known.
    pub fn with_unknown_value(mut self, key: &str) -> Self {
        let k = key.to_ascii_lowercase();
        self.values.remove(&k);
        self.absent.remove(&k);
        self.present.insert(k);
        self
    }

    pub fn set(&mut self, key: &str, values: Vec<String>) {
        let k = key.to_ascii_lowercase();
        self.absent.remove(&k);
        self.present.remove(&k);
        self.values.insert(k, values);
    }

    pub fn lookup(&self, key: &str) -> Lookup<'_> {
        let k = key.to_ascii_lowercase();
        match self.values.get(&k) {
            Some(v) => Lookup::Present(v),
            None if self.present.contains(&k) => Lookup::PresentUnknown,
            None if self.closed || self.absent.contains(&k) => Lookup::Absent,
            None => Lookup::Unknown,
        }
    }
}

/// One request: principal, action, resource and context ("The request context").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub principal: Principal,
    pub action: String,
    pub resource: String,
    pub context: Context,
}

impl Request {
    pub fn new(principal: Principal, action: &str, resource: &str, context: Context) -> Self {
        Self {
            principal,
            action: action.to_owned(),
            resource: resource.to_owned(),
            context,
        }
    }
}
