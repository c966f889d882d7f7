//! Small inline codes for MDC, ADRG and DRG identifiers.

use std::fmt;

/// A group identifier of at most four ASCII characters: an MDC (`MDCF`), an ADRG (`FM1`),
/// a DRG (`FM13`), the ambiguity group (`FQY`) or the ungroupable code `0000`.
///
/// It is `Copy` so a [`Grouping`](crate::Grouping) carries no heap allocation for its codes.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct GroupCode {
    bytes: [u8; 4],
    len: u8,
}

impl GroupCode {
    /// The code of an ungroupable case (`0000`, 无法入组).
    pub const UNGROUPABLE: GroupCode = GroupCode {
        bytes: *b"0000",
        len: 4,
    };

    /// Builds a code from 1–4 ASCII alphanumeric characters.
    pub fn new(text: &str) -> Option<GroupCode> {
        let raw = text.as_bytes();
        if raw.is_empty() || raw.len() > 4 || !raw.iter().all(u8::is_ascii_alphanumeric) {
            return None;
        }
        let mut bytes = [0u8; 4];
        bytes[..raw.len()].copy_from_slice(raw);
        Some(GroupCode {
            bytes,
            len: raw.len() as u8,
        })
    }

    /// Builds a code from raw ASCII bytes known to be valid.
    pub(crate) fn from_ascii(raw: &[u8]) -> GroupCode {
        let mut bytes = [0u8; 4];
        let len = raw.len().min(4);
        bytes[..len].copy_from_slice(&raw[..len]);
        GroupCode { bytes, len: len as u8 }
    }

    /// The code as text.
    pub fn as_str(&self) -> &str {
        // Only ever built from ASCII alphanumerics.
        std::str::from_utf8(&self.bytes[..self.len as usize]).unwrap_or("")
    }
}

impl fmt::Display for GroupCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for GroupCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.as_str())
    }
}

impl serde::Serialize for GroupCode {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

/// Whether a token looks like a 医保版 ICD-10 diagnosis code (`I21.000`, `A01.000x005+J17.0*`).
pub(crate) fn is_diagnosis_code(token: &str) -> bool {
    let b = token.as_bytes();
    b.len() >= 5
        && b[0].is_ascii_uppercase()
        && b[1].is_ascii_digit()
        && b[2].is_ascii_digit()
        && b[3..]
            .iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'+' | b'*'))
        && b[3] == b'.'
}

/// Whether a token looks like a 医保版 ICD-9-CM-3 procedure code (`36.0601`, `00.5500x008`).
pub(crate) fn is_procedure_code(token: &str) -> bool {
    let b = token.as_bytes();
    b.len() >= 4
        && b[0].is_ascii_digit()
        && b[1].is_ascii_digit()
        && b[2] == b'.'
        && b[3..].iter().all(u8::is_ascii_alphanumeric)
}
