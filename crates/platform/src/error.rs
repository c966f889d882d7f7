//! Why the platform refused a request. The text is the national interface's `err_msg`: Chinese,
//! naming the field when there is one.

use std::fmt;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// A field of the request is wrong (missing, malformed, unknown code or id).
    Field,
    /// The request is well formed but the rules forbid it now (order of calls, state).
    Rule,
    /// The platform failed (storage): nothing was changed; the caller may retry.
    Internal,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlatformError {
    pub kind: ErrorKind,
    pub field: Option<String>,
    pub message: String,
}

impl PlatformError {
    pub fn field(field: &str, message: String) -> PlatformError {
        PlatformError {
            kind: ErrorKind::Field,
            field: Some(field.to_owned()),
            message,
        }
    }

    pub fn rule(message: String) -> PlatformError {
        PlatformError {
            kind: ErrorKind::Rule,
            field: None,
            message,
        }
    }

    pub fn internal(message: String) -> PlatformError {
        PlatformError {
            kind: ErrorKind::Internal,
            field: None,
            message,
        }
    }

    /// Whether the refusal is final for this message (replayed on retry) or transient.
    pub fn is_final(&self) -> bool {
        self.kind != ErrorKind::Internal
    }
}

impl fmt::Display for PlatformError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.field {
            Some(field) if !self.message.starts_with(field.as_str()) => write!(f, "{field}: {}", self.message),
            _ => f.write_str(&self.message),
        }
    }
}

impl From<yibao_fsi::FsiError> for PlatformError {
    fn from(e: yibao_fsi::FsiError) -> PlatformError {
        PlatformError {
            kind: ErrorKind::Field,
            field: None,
            message: e.to_string(),
        }
    }
}
