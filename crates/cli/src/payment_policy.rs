//! A region's payment policy file (医保支付方式政策): `policies/<region>/payment/<year>.toml`.
//!
//! Hospital payment is decided apart from the benefit policy (different documents, different
//! dates), so it has its own versioned, effective-dated file, in its own directory so that the
//! benefit policy directory holds benefit policies only. Top-level keys: `region`,
//! `version`, `effective_from` (a date), `assumptions` (what the file assumes where no source
//! says); then one table per payment method: `[drg]` (see `yibao_drg::annual::DrgPolicyText`)
//! and `[dip]` (see `yibao_dip::DipParams`). Unknown keys are refused, with their line.

use std::path::Path;

use chrono::NaiveDate;
use serde::Deserialize;

use crate::files::{read_text, INPUT_FILE_BYTES_MAX};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PaymentPolicyFile {
    pub region: String,
    pub version: String,
    pub effective_from: toml::value::Datetime,
    #[serde(default)]
    pub assumptions: Vec<String>,
    #[serde(default)]
    pub drg: Option<yibao_drg::annual::DrgPolicyText>,
    #[serde(default)]
    pub dip: Option<toml::Value>,
}

impl PaymentPolicyFile {
    /// Reads and checks the file's top level; each method's table is checked by its reader.
    pub fn read(path: &Path) -> Result<PaymentPolicyFile, String> {
        let text = read_text(path, INPUT_FILE_BYTES_MAX)?;
        let file: PaymentPolicyFile = toml::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
        file.effective_date()
            .ok_or_else(|| format!("{}: effective_from 应为日期, 如 2024-01-01", path.display()))?;
        Ok(file)
    }

    pub fn effective_date(&self) -> Option<NaiveDate> {
        let date = self.effective_from.date?;
        if self.effective_from.time.is_some() {
            return None;
        }
        NaiveDate::from_ymd_opt(i32::from(date.year), u32::from(date.month), u32::from(date.day))
    }

    /// The `[drg]` table, checked.
    pub fn drg_policy(&self, path: &Path) -> Result<yibao_drg::annual::DrgPolicy, String> {
        let text = self
            .drg
            .as_ref()
            .ok_or_else(|| format!("{}: 缺少[drg]表", path.display()))?;
        yibao_drg::annual::DrgPolicy::from_text(text).map_err(|e| format!("{}: {e}", path.display()))
    }

    /// `region version (effective_from)`, for statements.
    pub fn label(&self) -> String {
        format!("{} {} (自{}起)", self.region, self.version, self.effective_from)
    }
}
