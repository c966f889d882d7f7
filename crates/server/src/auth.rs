//! Institution authentication: the `x-tif-*` SHA-256 header scheme of the national gateways
//! (`x-tif-paasid`, `x-tif-timestamp`, `x-tif-nonce`, `x-tif-signature` =
//! SHA-256 hex of `timestamp + secret + nonce + timestamp`).

use std::collections::HashMap;

use axum::http::HeaderMap;
use sha2::{Digest, Sha256};
use yibao_store::InstitutionRecord;

/// How far a signature's timestamp may be from the server's clock.
pub const SIGNATURE_SKEW_SECONDS_MAX: i64 = 300;

/// Credentials by `x-tif-paasid`.
#[derive(Clone, Default)]
pub struct Credentials {
    by_paas_id: HashMap<String, InstitutionRecord>,
}

impl Credentials {
    pub fn new(institutions: Vec<InstitutionRecord>) -> Credentials {
        Credentials {
            by_paas_id: institutions.into_iter().map(|i| (i.paas_id.clone(), i)).collect(),
        }
    }

    /// The institution a request is signed by, or why the signature is refused.
    pub fn verify(&self, headers: &HeaderMap, now_unix_seconds: i64) -> Result<&InstitutionRecord, String> {
        let header = |name: &str| -> Result<&str, String> {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .filter(|v| !v.is_empty() && v.len() <= 128)
                .ok_or_else(|| format!("缺少服务网关的请求头{name}"))
        };
        let paas_id = header("x-tif-paasid")?;
        let timestamp = header("x-tif-timestamp")?;
        let nonce = header("x-tif-nonce")?;
        let signature = header("x-tif-signature")?;
        let institution = self
            .by_paas_id
            .get(paas_id)
            .ok_or_else(|| "非法用户: x-tif-paasid未登记".to_owned())?;
        if !institution.active {
            return Err("非法用户: 机构已暂停".into());
        }
        let seconds: i64 = timestamp
            .parse()
            .map_err(|_| "x-tif-timestamp 应为Unix秒数".to_owned())?;
        if (seconds - now_unix_seconds).abs() > SIGNATURE_SKEW_SECONDS_MAX {
            return Err("签名时间戳超时".into());
        }
        let expected = sign(timestamp, &institution.secret, nonce);
        if !expected.eq_ignore_ascii_case(signature) {
            return Err("签名不一致".into());
        }
        Ok(institution)
    }
}

/// The signature a client sends: lower-case hex SHA-256 of `timestamp + secret + nonce + timestamp`.
pub fn sign(timestamp: &str, secret: &str, nonce: &str) -> String {
    let mut hasher = Sha256::new();
    hasher.update(timestamp.as_bytes());
    hasher.update(secret.as_bytes());
    hasher.update(nonce.as_bytes());
    hasher.update(timestamp.as_bytes());
    hasher.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn institution() -> InstitutionRecord {
        InstitutionRecord {
            code: "H50010300001".into(),
            name: "测试医院".into(),
            hosp_lv: "02".into(),
            admdvs: "500103".into(),
            paas_id: "demo-h50010300001".into(),
            secret: "s3cret".into(),
            active: true,
        }
    }

    fn headers(ts: &str, nonce: &str, signature: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert("x-tif-paasid", "demo-h50010300001".parse().unwrap());
        h.insert("x-tif-timestamp", ts.parse().unwrap());
        h.insert("x-tif-nonce", nonce.parse().unwrap());
        h.insert("x-tif-signature", signature.parse().unwrap());
        h
    }

    #[test]
    fn accepts_a_good_signature_in_either_case() {
        let creds = Credentials::new(vec![institution()]);
        let sig = sign("1700000000", "s3cret", "abc");
        assert_eq!(
            creds
                .verify(&headers("1700000000", "abc", &sig), 1_700_000_100)
                .unwrap()
                .code,
            "H50010300001"
        );
        let upper = sig.to_uppercase();
        assert!(creds
            .verify(&headers("1700000000", "abc", &upper), 1_700_000_100)
            .is_ok());
    }

    #[test]
    fn refuses_bad_signatures_with_the_gateway_messages() {
        let creds = Credentials::new(vec![institution()]);
        let sig = sign("1700000000", "wrong", "abc");
        assert_eq!(
            creds
                .verify(&headers("1700000000", "abc", &sig), 1_700_000_000)
                .unwrap_err(),
            "签名不一致"
        );
        let sig = sign("1700000000", "s3cret", "abc");
        assert_eq!(
            creds
                .verify(&headers("1700000000", "abc", &sig), 1_700_001_000)
                .unwrap_err(),
            "签名时间戳超时"
        );
        assert_eq!(
            creds.verify(&HeaderMap::new(), 0).unwrap_err(),
            "缺少服务网关的请求头x-tif-paasid"
        );
    }
}
