//! The national designated-institution interface (《医疗保障信息平台 定点医药机构接口规范》) at
//! yibao's edge.
//!
//! Hospitals' and pharmacies' HIS systems call the platform with one JSON envelope per
//! transaction (`infno` 1101 人员信息获取, 2207 门诊结算, …). This crate is the wire edge between
//! those envelopes and the domain crates:
//!
//! - [`parse_envelope`] reads a request body into an [`Envelope`];
//! - one typed input per transaction ([`Input2207`], [`Input2301`], …, dispatched by
//!   [`TransactionInput::parse`]) reads the envelope's `input`, with the national field names as
//!   Rust field names (the only place in yibao where they appear);
//! - [`Response`] is the answer in spec form, and [`setlinfo`], [`setldetail`] and
//!   [`fee_result_row`] build its output nodes from a [`yibao_settle::Settlement`] and a line's
//!   [`yibao_catalog::LineSplit`].
//!
//! **Why lenient.** The spec exists only second-hand, and the clients in the field disagree:
//! some send `input` as a JSON string, numbers as strings (and strings as numbers), empty
//! strings or the literal `"null"` for absent values, `inf_time` as `yyyyMMddHHmmss`, "1" for
//! the code "01", or post JSON as `text/plain`. Refusing any of these would refuse real
//! hospitals; accepting them costs nothing in exactness. So what is *spelled* differently is
//! accepted, and what *means* something different is refused: a price with seven decimals,
//! a quantity that is not a number, an unknown medical type, 1001 fee lines. The readers in
//! [`read`] state the rules once for every field.
//!
//! **Refusals name the field.** Every error is an [`FsiError`] whose text is the answer's
//! `err_msg`: the path of the field as sent and the rule in Chinese, for the HIS engineer who
//! reads it — `input.feedetail[3].pric: 单价小数位数超过6位`.
//!
//! **Pure.** No I/O, no clock (callers pass `now`), no state; no `f64` touches money; no input
//! makes anything here panic, and nothing recurses on input, whatever its nesting. Limits are
//! named with their units ([`ENVELOPE_BYTES_MAX`], [`FEEDETAIL_MAX`], [`limits`]).

#![forbid(unsafe_code)]
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::float_arithmetic)
)]

pub mod answers;
mod envelope;
mod error;
pub mod files;
pub mod limits;
pub mod output;
pub mod read;
mod response;
mod tx;

pub use envelope::{
    check_infno, check_msgid_layout, parse_envelope, request_digest, Envelope, ENVELOPE_BYTES_MAX, MSGID_CHARS_MAX,
};
pub use error::{FsiError, MISSING};
pub use limits::{DISEINFO_MAX, FEEDETAIL_MAX, FEE_REVOKE_MAX};
pub use output::{fee_result_row, setldetail, setlinfo, settlement_output, SetlAmounts, SetlContext};
pub use response::{
    inf_refmsgid, millis_text, Response, ERR_MSG_CHARS_MAX, INFCODE_FAILURE, INFCODE_SUCCESS, INF_REFMSGID_CHARS,
};
pub use tx::*;
