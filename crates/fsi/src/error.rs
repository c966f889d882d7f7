//! The one error type of the edge: which field, and which rule it broke.

/// A request the interface refuses, naming the field at fault.
///
/// `field` is a path into the request as the HIS sent it: an envelope field (`msgid`), a field
/// of a node (`input.data.psn_no`), or an element of a list, counted from 0
/// (`input.feedetail[3].pric`). Errors about the body as a whole use the field `body`.
/// `message` is Chinese, because the whole error goes back to the HIS engineer unchanged as the
/// answer's `err_msg`: `input.feedetail[3].pric: 单价小数位数超过6位`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct FsiError {
    pub field: String,
    pub message: String,
}

impl FsiError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> FsiError {
        FsiError {
            field: field.into(),
            message: message.into(),
        }
    }

    /// A required field that is absent, empty, or the literal `"null"`.
    pub fn missing(field: impl Into<String>) -> FsiError {
        FsiError::new(field, MISSING)
    }
}

/// The message for a required field that was not sent.
pub const MISSING: &str = "必填字段缺失";
