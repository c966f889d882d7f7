//! 9001 签到 and 9002 签退.

use serde_json::Value;

use super::root;
use crate::error::FsiError;
use crate::limits::{ID_CHARS, IP_CHARS, SIGN_IN_FIELD_CHARS};

/// 9001 签到, node `input.signIn`. Answered with `output.signinoutb` (`sign_time`, `sign_no`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Input9001 {
    /// 操作员编号 (20, required).
    pub opter_no: String,
    /// 签到MAC地址 (20).
    pub mac: Option<String>,
    /// 签到IP地址 (spec 20, required; up to 46 accepted for IPv6).
    pub ip: String,
}

impl Input9001 {
    pub fn parse(input: &Value) -> Result<Input9001, FsiError> {
        let node = root(input)?.child("signIn")?;
        Ok(Input9001 {
            opter_no: node.req_text("opter_no", SIGN_IN_FIELD_CHARS)?,
            mac: node.text("mac", SIGN_IN_FIELD_CHARS)?,
            ip: node.req_text("ip", IP_CHARS)?,
        })
    }
}

/// 9002 签退, node `input.signOut`.
///
/// The reference gives no table for 9002. This follows the national spec's shape as the
/// client code we read builds it: `sign_no` (the 9001 answer) and `opter_no`, both required.
/// Clients that put them in `input.data` are accepted too.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Input9002 {
    /// 签到编号 (30, required).
    pub sign_no: String,
    /// 操作员编号 (20, required).
    pub opter_no: String,
}

impl Input9002 {
    pub fn parse(input: &Value) -> Result<Input9002, FsiError> {
        let input = root(input)?;
        let node = match input.opt_child("signOut")? {
            Some(node) => node,
            None => input
                .opt_child("data")?
                .ok_or_else(|| FsiError::missing("input.signOut"))?,
        };
        Ok(Input9002 {
            sign_no: node.req_text("sign_no", ID_CHARS)?,
            opter_no: node.req_text("opter_no", SIGN_IN_FIELD_CHARS)?,
        })
    }
}
