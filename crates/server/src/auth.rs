//! Institution authentication, in the three forms the national gateways use. Which one a request
//! uses is told by the headers it carries:
//!
//! - **`x-tif-*`** (SHA-256): `x-tif-paasid`, `x-tif-timestamp` (Unix seconds), `x-tif-nonce`,
//!   `x-tif-signature` = SHA-256 hex of `timestamp + secret + nonce + timestamp` ([`sign`]).
//! - **`_api_*`** (HMAC-SHA1, as the Hunan gateway): `_api_name`, `_api_version`,
//!   `_api_timestamp` (Unix milliseconds), `_api_access_key` (the institution's paas_id),
//!   `_api_signature` = Base64(HmacSHA1(secret, `_api_access_key=…&_api_name=…&_api_timestamp=…&_api_version=…`))
//!   ([`sign_api`]).
//! - **OAuth2 bearer tokens** (as the Jilin gateway): `Authorization: Bearer <token>`, the token
//!   issued by `POST /auth/oauth/token` ([`oauth_token`], [`Credentials::issue_token`]) to a
//!   client authenticated with HTTP Basic `paas_id:secret`.
//!
//! A request with none of these is refused naming the `x-tif` header, as before the other two
//! were added. Every refusal's text is the gateway's (`签名不一致`, `签名时间戳超时`, …): the
//! national path answers it in the interface's envelope with `infcode` -1.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use hmac::{Hmac, KeyInit, Mac};
use serde::Serialize;
use sha1::Sha1;
use sha2::{Digest, Sha256};
use yibao_store::InstitutionRecord;

/// What a token request with an unknown clientId or a wrong clientSecret is told.
const CLIENT_REFUSED: &str = "客户端认证失败: clientId或clientSecret不正确";
/// How far a signature's timestamp may be from the server's clock.
pub const SIGNATURE_SKEW_SECONDS_MAX: i64 = 300;
/// The longest authentication header accepted (ids, timestamps, nonces, signatures, tokens):
/// anything longer is no header a gateway sends.
const HEADER_BYTES_MAX: usize = 128;
/// The longest `Authorization: Basic` at the token endpoint: Base64 of `paas_id:secret`.
const BASIC_AUTHORIZATION_BYTES_MAX: usize = 512;
/// The largest form body the token endpoint reads; a token request is a few short fields.
pub const OAUTH_FORM_BYTES_MAX: usize = 4 * 1024;
/// How long an access token lives (`expires_in`), as the gateways issue them.
pub const TOKEN_LIFETIME_SECONDS: i64 = 7_200;
/// Live access tokens kept at most, all institutions together: the memory they take is bounded.
pub const TOKENS_LIVE_MAX: usize = 100_000;
/// Live access tokens one institution may hold; issuing one more drops its oldest, so that one
/// client asking for tokens in a loop cannot use up [`TOKENS_LIVE_MAX`] for everyone else.
pub const TOKENS_PER_INSTITUTION_MAX: usize = 1_000;
/// Random bytes in an access token (sent as 64 hex digits).
const TOKEN_BYTES: usize = 32;
/// The `x-tif` headers: any of them present chooses that scheme.
const X_TIF_HEADERS: [&str; 4] = ["x-tif-paasid", "x-tif-timestamp", "x-tif-nonce", "x-tif-signature"];
/// The `_api_*` headers: any of them present chooses that scheme.
const API_HEADERS: [&str; 5] = [
    "_api_name",
    "_api_version",
    "_api_timestamp",
    "_api_access_key",
    "_api_signature",
];

/// What a caller is told when its credentials are not recognised, whether its access id is
/// unknown or its signature wrong: telling the two apart would let anyone find the registered
/// access ids. The audit log keeps which it was ([`AuthRefusal::audit`]).
pub const AUTH_REFUSED: &str = "非法用户或签名不一致";

/// Nonces (x-tif) and signatures (`_api_*`) remembered at most, all institutions together: the
/// memory a replay guard takes is bounded (about 65 bytes each, 130 MiB at the limit, reached
/// only by a sustained 6,600 signed requests a second).
pub const NONCES_LIVE_MAX: usize = 2_000_000;
/// Nonces one institution may have live, so that one client cannot fill [`NONCES_LIVE_MAX`]
/// for everyone else: 660 signed requests a second for the whole window, far above what one
/// hospital's HIS sends.
pub const NONCES_PER_INSTITUTION_MAX: usize = 200_000;

/// A refused authentication: what the caller is told, and what the audit log keeps.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuthRefusal {
    pub told: String,
    pub audit: String,
}

impl AuthRefusal {
    /// A refusal whose reason the caller may know.
    fn open(text: impl Into<String>) -> AuthRefusal {
        let text = text.into();
        AuthRefusal {
            told: text.clone(),
            audit: text,
        }
    }

    /// A refusal told as [`AUTH_REFUSED`], its reason kept for the audit log only.
    fn hidden(audit: impl Into<String>) -> AuthRefusal {
        AuthRefusal {
            told: AUTH_REFUSED.to_owned(),
            audit: audit.into(),
        }
    }
}

/// An authenticated request: the institution, and the transaction its signature names where
/// the scheme signs one (`_api_name`), which must then be the envelope's `infno`.
#[derive(Debug)]
pub struct Verified<'c> {
    pub institution: &'c InstitutionRecord,
    pub signed_infno: Option<String>,
}

/// The institutions by paas_id (`x-tif-paasid`, `_api_access_key`, OAuth2 clientId), and the
/// access tokens issued to them.
///
/// Tokens are kept in memory only: a restart forgets them, and clients authenticate again when
/// a token is refused, as they must with a gateway anyway (tokens expire). Keeping them in the
/// store would make every call a database read for no gain a client would notice.
///
/// The secrets here are in the clear: they are opened from the store's sealed form
/// ([`crate::secrets`]) when the service starts or an institution is registered.
#[derive(Clone, Default)]
pub struct Credentials {
    by_paas_id: HashMap<String, InstitutionRecord>,
    /// By the SHA-256 of the token: the tokens themselves are not kept, so a memory dump does not
    /// hand them out, and looking one up takes no time that depends on how much of it matched.
    tokens: HashMap<[u8; 32], LiveToken>,
    /// Shared by every clone: a nonce used through one clone is used for all.
    nonces: Arc<Mutex<SeenNonces>>,
}

#[derive(Clone)]
struct LiveToken {
    paas_id: String,
    expires_at_unix_seconds: i64,
}

/// The nonces and signatures seen while their timestamps are within the accepted skew. Once a
/// timestamp is out of the window the signature is refused for its time anyway, so forgetting
/// it then loses nothing.
#[derive(Default)]
struct SeenNonces {
    keys: HashSet<[u8; 16]>,
    /// In the order seen; purged from the front as they expire. Expiry follows the client's
    /// timestamp, so the order is nearly but not strictly by expiry: an entry behind one that
    /// expires later is kept a little longer, never dropped early.
    order: VecDeque<SeenNonce>,
    per_institution: HashMap<Arc<str>, usize>,
}

struct SeenNonce {
    key: [u8; 16],
    paas_id: Arc<str>,
    expires_at_unix_seconds: i64,
}

impl SeenNonces {
    /// Records `nonce` for `paas_id` until `expires_at_unix_seconds`, or says why it cannot be.
    fn record(
        &mut self,
        scheme: &str,
        paas_id: &str,
        nonce: &[u8],
        expires_at_unix_seconds: i64,
        now_unix_seconds: i64,
    ) -> Result<(), AuthRefusal> {
        while let Some(front) = self.order.front() {
            if front.expires_at_unix_seconds > now_unix_seconds {
                break;
            }
            let Some(gone) = self.order.pop_front() else {
                break;
            };
            self.keys.remove(&gone.key);
            if let Some(count) = self.per_institution.get_mut(&gone.paas_id) {
                *count -= 1;
                if *count == 0 {
                    self.per_institution.remove(&gone.paas_id);
                }
            }
        }
        let key = nonce_key(scheme, paas_id, nonce);
        if self.keys.contains(&key) {
            return Err(AuthRefusal::open(format!(
                "签名已使用: {scheme}重复,每个请求须用新的签名"
            )));
        }
        let own = self.per_institution.get(paas_id).copied().unwrap_or(0);
        if own >= NONCES_PER_INSTITUTION_MAX || self.keys.len() >= NONCES_LIVE_MAX {
            return Err(AuthRefusal::open("签名请求过于频繁,请稍后重试"));
        }
        let paas_id: Arc<str> = match self.per_institution.get_key_value(paas_id) {
            Some((shared, _)) => shared.clone(),
            None => Arc::from(paas_id),
        };
        *self.per_institution.entry(paas_id.clone()).or_insert(0) += 1;
        self.keys.insert(key);
        self.order.push_back(SeenNonce {
            key,
            paas_id,
            expires_at_unix_seconds,
        });
        debug_assert_eq!(self.keys.len(), self.order.len());
        Ok(())
    }

    fn len(&self) -> usize {
        self.keys.len()
    }
}

/// 16 bytes of SHA-256 over the scheme, the access id and the nonce (length-prefixed, so no two
/// different triples meet): the nonces themselves, up to 128 bytes each, are not kept.
fn nonce_key(scheme: &str, paas_id: &str, nonce: &[u8]) -> [u8; 16] {
    let mut hasher = Sha256::new();
    for part in [scheme.as_bytes(), paas_id.as_bytes(), nonce] {
        hasher.update((part.len() as u64).to_le_bytes());
        hasher.update(part);
    }
    let digest = hasher.finalize();
    let mut key = [0u8; 16];
    key.copy_from_slice(&digest[..16]);
    key
}

impl Credentials {
    pub fn new(institutions: Vec<InstitutionRecord>) -> Credentials {
        Credentials {
            by_paas_id: by_paas_id(institutions),
            tokens: HashMap::new(),
            nonces: Arc::default(),
        }
    }

    /// Takes the institutions anew (after they changed) keeping the access tokens issued, so that
    /// clients are not all sent to authenticate again. A token goes, though, when its institution
    /// is gone, suspended, or has a new secret: a secret is changed because it leaked, and the
    /// tokens got with it must not outlive it.
    pub fn replace_institutions(&mut self, institutions: Vec<InstitutionRecord>) {
        let fresh = by_paas_id(institutions);
        let old = &self.by_paas_id;
        self.tokens
            .retain(|_, token| match (old.get(&token.paas_id), fresh.get(&token.paas_id)) {
                (Some(before), Some(now)) => now.active && before.secret == now.secret,
                _ => false,
            });
        self.by_paas_id = fresh;
    }

    /// Access tokens held, expired ones not yet purged included.
    pub fn token_count(&self) -> usize {
        self.tokens.len()
    }

    /// Nonces and signatures remembered against replay, expired ones not yet purged included.
    pub fn nonce_count(&self) -> usize {
        self.nonces.lock().map(|n| n.len()).unwrap_or(0)
    }

    /// The institution a request is signed by, or why the signature is refused. The scheme is
    /// the one whose headers the request carries: `x-tif-*`, else `_api_*`, else
    /// `Authorization: Bearer`; with none, the missing header named is `x-tif-paasid`. A signed
    /// request is accepted once: its nonce (x-tif) or signature (`_api_*`) is remembered while
    /// its timestamp is within [`SIGNATURE_SKEW_SECONDS_MAX`], and a second use refused.
    pub fn verify(&self, headers: &HeaderMap, now_unix_seconds: i64) -> Result<Verified<'_>, AuthRefusal> {
        let carries = |names: &[&str]| names.iter().any(|name| headers.contains_key(*name));
        if carries(&X_TIF_HEADERS) {
            self.verify_x_tif(headers, now_unix_seconds)
        } else if carries(&API_HEADERS) {
            self.verify_api(headers, now_unix_seconds)
        } else if headers.contains_key(header::AUTHORIZATION) {
            self.verify_bearer(headers, now_unix_seconds)
        } else {
            self.verify_x_tif(headers, now_unix_seconds)
        }
    }

    fn verify_x_tif(&self, headers: &HeaderMap, now_unix_seconds: i64) -> Result<Verified<'_>, AuthRefusal> {
        let paas_id = gateway_header(headers, "x-tif-paasid")?;
        let timestamp = gateway_header(headers, "x-tif-timestamp")?;
        let nonce = gateway_header(headers, "x-tif-nonce")?;
        let signature = gateway_header(headers, "x-tif-signature")?;
        let seconds: i64 = timestamp
            .parse()
            .map_err(|_| AuthRefusal::open("x-tif-timestamp 应为Unix秒数"))?;
        if seconds.abs_diff(now_unix_seconds) > SIGNATURE_SKEW_SECONDS_MAX.unsigned_abs() {
            return Err(AuthRefusal::open("签名时间戳超时"));
        }
        let institution = self
            .by_paas_id
            .get(paas_id)
            .ok_or_else(|| AuthRefusal::hidden(format!("x-tif-paasid未登记: {}", clip(paas_id))))?;
        // Hex in either case; compared in constant time, so that response times tell nothing
        // about how much of a guess was right.
        let expected = sign(timestamp, &institution.secret, nonce);
        if !constant_time_eq(expected.as_bytes(), signature.to_ascii_lowercase().as_bytes()) {
            return Err(AuthRefusal::hidden(format!(
                "签名不一致: x-tif-paasid {}",
                clip(paas_id)
            )));
        }
        // Only now, to a caller holding the secret: whether the institution is suspended.
        if !institution.active {
            return Err(AuthRefusal::open("非法用户: 机构已暂停"));
        }
        self.remember_nonce(
            "x-tif-nonce",
            paas_id,
            nonce.as_bytes(),
            seconds.saturating_add(SIGNATURE_SKEW_SECONDS_MAX),
            now_unix_seconds,
        )?;
        Ok(Verified {
            institution,
            signed_infno: None,
        })
    }

    fn verify_api(&self, headers: &HeaderMap, now_unix_seconds: i64) -> Result<Verified<'_>, AuthRefusal> {
        let name = gateway_header(headers, "_api_name")?;
        let version = gateway_header(headers, "_api_version")?;
        let timestamp_ms = gateway_header(headers, "_api_timestamp")?;
        let access_key = gateway_header(headers, "_api_access_key")?;
        let signature = gateway_header(headers, "_api_signature")?;
        let millis: i64 = timestamp_ms
            .parse()
            .map_err(|_| AuthRefusal::open("_api_timestamp 应为Unix毫秒数"))?;
        // In i128: neither a huge timestamp nor the clock times 1000 can overflow there.
        let skew_ms = (i128::from(millis) - i128::from(now_unix_seconds) * 1000).abs();
        if skew_ms > i128::from(SIGNATURE_SKEW_SECONDS_MAX) * 1000 {
            return Err(AuthRefusal::open("签名时间戳超时"));
        }
        let institution = self
            .by_paas_id
            .get(access_key)
            .ok_or_else(|| AuthRefusal::hidden(format!("_api_access_key未登记: {}", clip(access_key))))?;
        // Compared as bytes by the MAC, in constant time, rather than as text: a client learns
        // nothing from how long a wrong signature took to refuse.
        let wrong = || AuthRefusal::hidden(format!("签名不一致: _api_access_key {}", clip(access_key)));
        let claimed = BASE64.decode(signature).map_err(|_| wrong())?;
        api_mac(name, version, timestamp_ms, access_key, &institution.secret)
            .map_err(|_| wrong())?
            .verify_slice(&claimed)
            .map_err(|_| wrong())?;
        if !institution.active {
            return Err(AuthRefusal::open("非法用户: 机构已暂停"));
        }
        // The scheme has no nonce: the signature itself (over the name and the millisecond) is
        // what may be used once.
        self.remember_nonce(
            "_api_signature",
            access_key,
            &claimed,
            (millis / 1000).saturating_add(SIGNATURE_SKEW_SECONDS_MAX + 1),
            now_unix_seconds,
        )?;
        // `hnsyb.1101` signs transaction 1101: the part after the last dot.
        let signed_infno = name.rsplit('.').next().unwrap_or(name).to_ascii_uppercase();
        Ok(Verified {
            institution,
            signed_infno: Some(signed_infno),
        })
    }

    fn remember_nonce(
        &self,
        scheme: &str,
        paas_id: &str,
        nonce: &[u8],
        expires_at_unix_seconds: i64,
        now_unix_seconds: i64,
    ) -> Result<(), AuthRefusal> {
        let mut nonces = self
            .nonces
            .lock()
            .map_err(|_| AuthRefusal::open("签名校验暂时不可用,请稍后重试"))?;
        nonces.record(scheme, paas_id, nonce, expires_at_unix_seconds, now_unix_seconds)
    }

    fn verify_bearer(&self, headers: &HeaderMap, now_unix_seconds: i64) -> Result<Verified<'_>, AuthRefusal> {
        let token = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .filter(|v| v.len() <= HEADER_BYTES_MAX)
            .and_then(|v| v.trim().split_once(' '))
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .map(|(_, token)| token.trim())
            .filter(|token| !token.is_empty())
            .ok_or_else(|| AuthRefusal::open("非法用户: 请求头Authorization应为Bearer访问令牌"))?;
        let live = self
            .tokens
            .get(&token_key(token))
            .ok_or_else(|| AuthRefusal::open("非法用户: 访问令牌无效"))?;
        if live.expires_at_unix_seconds <= now_unix_seconds {
            return Err(AuthRefusal::open("访问令牌已过期"));
        }
        // Looked up on every call, not when issued: a suspension takes effect at once.
        let institution = self
            .by_paas_id
            .get(&live.paas_id)
            .ok_or_else(|| AuthRefusal::open("非法用户: 访问令牌无效"))?;
        if !institution.active {
            return Err(AuthRefusal::open("非法用户: 机构已暂停"));
        }
        Ok(Verified {
            institution,
            signed_infno: None,
        })
    }

    /// Issues an access token (`POST /auth/oauth/token`): the client authenticated by
    /// `authorization` (`Basic base64(clientId:clientSecret)`, clientId = paas_id, clientSecret =
    /// the institution's secret), the grant read from the form `form_body`
    /// (`grant_type=password|client_credentials`, `scope`; `username` and `password` name the
    /// operator and are not checked: the institution is what is authenticated, as with the other
    /// schemes). Expired tokens are purged here.
    pub fn issue_token(
        &mut self,
        authorization: Option<&str>,
        form_body: &[u8],
        now_unix_seconds: i64,
    ) -> Result<TokenGrant, OAuthError> {
        if form_body.len() > OAUTH_FORM_BYTES_MAX {
            return Err(OAuthError::invalid_request(format!(
                "请求体超过上限{OAUTH_FORM_BYTES_MAX}字节"
            )));
        }
        // The client first, as RFC 6749 does: an unauthenticated caller learns nothing of the form.
        let (client_id, client_secret) = basic_credentials(authorization)?;
        // An unknown clientId and a wrong secret are told alike; the log keeps which.
        let Some(institution) = self.by_paas_id.get(&client_id) else {
            tracing::warn!(client_id = %clip(&client_id), "token refused: clientId not registered");
            return Err(OAuthError::invalid_client(CLIENT_REFUSED));
        };
        if !constant_time_eq(institution.secret.as_bytes(), client_secret.as_bytes()) {
            tracing::warn!(client_id = %clip(&client_id), "token refused: wrong clientSecret");
            return Err(OAuthError::invalid_client(CLIENT_REFUSED));
        }
        if !institution.active {
            return Err(OAuthError::invalid_client("非法用户: 机构已暂停"));
        }
        let form = parse_form(form_body)?;
        match form.get("grant_type").map(String::as_str) {
            None | Some("") => return Err(OAuthError::invalid_request("缺少参数grant_type".into())),
            Some("password" | "client_credentials") => {}
            Some(other) => {
                return Err(OAuthError {
                    status: StatusCode::BAD_REQUEST,
                    error: "unsupported_grant_type",
                    error_description: format!("不支持的授权类型{}", clip(other)),
                })
            }
        }
        let scope = form.get("scope").filter(|s| !s.is_empty()).cloned();
        let paas_id = institution.paas_id.clone();
        self.purge_tokens(&paas_id, now_unix_seconds);
        if self.tokens.len() >= TOKENS_LIVE_MAX {
            return Err(OAuthError {
                status: StatusCode::SERVICE_UNAVAILABLE,
                error: "temporarily_unavailable",
                error_description: format!("访问令牌数已达上限{TOKENS_LIVE_MAX},请稍后再试"),
            });
        }
        let access_token = new_token()?;
        self.tokens.insert(
            token_key(&access_token),
            LiveToken {
                paas_id: paas_id.clone(),
                expires_at_unix_seconds: now_unix_seconds + TOKEN_LIFETIME_SECONDS,
            },
        );
        tracing::info!(%paas_id, "access token issued");
        Ok(TokenGrant {
            access_token,
            token_type: "bearer",
            expires_in: TOKEN_LIFETIME_SECONDS,
            scope,
        })
    }

    /// Drops expired tokens, and `paas_id`'s oldest ones while it holds
    /// [`TOKENS_PER_INSTITUTION_MAX`] or more, making room for one more.
    fn purge_tokens(&mut self, paas_id: &str, now_unix_seconds: i64) {
        self.tokens.retain(|_, t| t.expires_at_unix_seconds > now_unix_seconds);
        let mut own: Vec<([u8; 32], i64)> = self
            .tokens
            .iter()
            .filter(|(_, t)| t.paas_id == paas_id)
            .map(|(key, t)| (*key, t.expires_at_unix_seconds))
            .collect();
        if own.len() >= TOKENS_PER_INSTITUTION_MAX {
            // Every token lives as long: the soonest to expire is the oldest.
            own.sort_unstable_by_key(|(_, expires_at_unix_seconds)| *expires_at_unix_seconds);
            for (key, _) in &own[..=own.len() - TOKENS_PER_INSTITUTION_MAX] {
                self.tokens.remove(key);
            }
        }
    }
}

fn by_paas_id(institutions: Vec<InstitutionRecord>) -> HashMap<String, InstitutionRecord> {
    institutions.into_iter().map(|i| (i.paas_id.clone(), i)).collect()
}

/// A gateway header's value, or the gateway's refusal naming it and what is wrong with it.
fn gateway_header<'h>(headers: &'h HeaderMap, name: &str) -> Result<&'h str, AuthRefusal> {
    let value = headers
        .get(name)
        .filter(|v| !v.is_empty())
        .ok_or_else(|| AuthRefusal::open(format!("缺少服务网关的请求头{name}")))?;
    if value.len() > HEADER_BYTES_MAX {
        return Err(AuthRefusal::open(format!(
            "服务网关的请求头{name}长度{}超过上限{HEADER_BYTES_MAX}字节",
            value.len()
        )));
    }
    value
        .to_str()
        .map_err(|_| AuthRefusal::open(format!("服务网关的请求头{name}应为可见ASCII字符")))
}

/// The signature a client sends: lower-case hex SHA-256 of `timestamp + secret + nonce + timestamp`.
pub fn sign(timestamp: &str, secret: &str, nonce: &str) -> String {
    let mut hasher = Sha256::new();
    hasher.update(timestamp.as_bytes());
    hasher.update(secret.as_bytes());
    hasher.update(nonce.as_bytes());
    hasher.update(timestamp.as_bytes());
    hex(&hasher.finalize())
}

/// The `_api_signature` a client sends: Base64 of HmacSHA1 keyed by the institution's secret
/// over `_api_access_key=…&_api_name=…&_api_timestamp=…&_api_version=…`. `timestamp_ms` is the
/// `_api_timestamp` header as sent (Unix milliseconds): the text is what is signed.
pub fn sign_api(name: &str, version: &str, timestamp_ms: &str, access_key: &str, secret: &str) -> String {
    match api_mac(name, version, timestamp_ms, access_key, secret) {
        Ok(mac) => BASE64.encode(mac.finalize().into_bytes()),
        // Never taken (see `api_mac`); an empty signature verifies nothing.
        Err(_) => String::new(),
    }
}

fn api_mac(
    name: &str,
    version: &str,
    timestamp_ms: &str,
    access_key: &str,
    secret: &str,
) -> Result<Hmac<Sha1>, hmac::digest::InvalidLength> {
    // HMAC takes a key of any length (a long one is hashed first): this does not fail.
    let mut mac = Hmac::<Sha1>::new_from_slice(secret.as_bytes())?;
    // The four parameters sorted by name in ASCII order, as the gateway joins them.
    let message =
        format!("_api_access_key={access_key}&_api_name={name}&_api_timestamp={timestamp_ms}&_api_version={version}");
    mac.update(message.as_bytes());
    Ok(mac)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn token_key(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

fn new_token() -> Result<String, OAuthError> {
    let mut bytes = [0u8; TOKEN_BYTES];
    getrandom::fill(&mut bytes).map_err(|e| OAuthError {
        status: StatusCode::INTERNAL_SERVER_ERROR,
        error: "server_error",
        error_description: format!("无法生成访问令牌: {e}"),
    })?;
    Ok(hex(&bytes))
}

/// Equal, taking as long whichever byte differs: a client cannot find a secret byte by byte
/// from response times. (The length may show; a secret's length is no secret worth keeping.)
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// A value from the client echoed in an error, cut short.
fn clip(text: &str) -> String {
    text.chars().take(32).collect()
}

/// clientId and clientSecret from `Basic base64(clientId:clientSecret)`. They are taken as they
/// are, not form-decoded: paas_ids and secrets are plain ASCII, and the gateways' clients do
/// not encode them.
fn basic_credentials(authorization: Option<&str>) -> Result<(String, String), OAuthError> {
    let missing = || OAuthError::invalid_client("缺少客户端认证: 请求头Authorization应为Basic clientId:clientSecret");
    let encoded = authorization
        .filter(|v| v.len() <= BASIC_AUTHORIZATION_BYTES_MAX)
        .and_then(|v| v.trim().split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("basic"))
        .map(|(_, encoded)| encoded.trim())
        .ok_or_else(missing)?;
    let decoded = BASE64
        .decode(encoded)
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .ok_or_else(missing)?;
    let (id, secret) = decoded.split_once(':').ok_or_else(missing)?;
    Ok((id.to_owned(), secret.to_owned()))
}

/// An `application/x-www-form-urlencoded` body's fields; a field given twice is refused rather
/// than one of them chosen.
fn parse_form(body: &[u8]) -> Result<HashMap<String, String>, OAuthError> {
    let text = std::str::from_utf8(body)
        .map_err(|_| OAuthError::invalid_request("请求体应为UTF-8表单(application/x-www-form-urlencoded)".into()))?;
    let mut fields = HashMap::new();
    for pair in text.split('&').filter(|p| !p.is_empty()) {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        let name = form_decode(name)?;
        if fields.insert(name.clone(), form_decode(value)?).is_some() {
            return Err(OAuthError::invalid_request(format!("参数{}重复", clip(&name))));
        }
    }
    Ok(fields)
}

fn form_decode(text: &str) -> Result<String, OAuthError> {
    let bad = || OAuthError::invalid_request(format!("表单编码错误: {}", clip(text)));
    let hex_digit = |b: u8| (b as char).to_digit(16).map(|d| d as u8);
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let high = bytes.get(i + 1).copied().and_then(hex_digit).ok_or_else(bad)?;
                let low = bytes.get(i + 2).copied().and_then(hex_digit).ok_or_else(bad)?;
                out.push(high << 4 | low);
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).map_err(|_| bad())
}

/// An issued access token, answered as JSON (RFC 6749 §5.1).
#[derive(Debug, Clone, Serialize)]
pub struct TokenGrant {
    pub access_token: String,
    pub token_type: &'static str,
    pub expires_in: i64,
    /// The scope asked for; omitted when none was (RFC 6749: then it is the default).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
}

/// A refused token request: answered as `{"error": …, "error_description": …}` with `status`
/// (RFC 6749 §5.2).
#[derive(Debug, Clone, Serialize)]
pub struct OAuthError {
    #[serde(skip)]
    pub status: StatusCode,
    pub error: &'static str,
    pub error_description: String,
}

impl OAuthError {
    fn invalid_client(description: &str) -> OAuthError {
        OAuthError {
            status: StatusCode::UNAUTHORIZED,
            error: "invalid_client",
            error_description: description.to_owned(),
        }
    }

    fn invalid_request(description: String) -> OAuthError {
        OAuthError {
            status: StatusCode::BAD_REQUEST,
            error: "invalid_request",
            error_description: description,
        }
    }
}

impl IntoResponse for OAuthError {
    fn into_response(self) -> Response {
        // Two strings always serialize; an empty object would stand in if they did not.
        let body = serde_json::to_vec(&self).unwrap_or_else(|_| b"{}".to_vec());
        let mut response = (
            self.status,
            [
                (header::CONTENT_TYPE, "application/json;charset=UTF-8"),
                (header::CACHE_CONTROL, "no-store"),
            ],
            body,
        )
            .into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            // RFC 6749 §5.2: a client refused at the Authorization header is told the scheme.
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                header::HeaderValue::from_static("Basic realm=\"oauth\""),
            );
        }
        response
    }
}

/// `POST /auth/oauth/token`: issues an access token ([`Credentials::issue_token`]). The body is
/// read up to [`OAUTH_FORM_BYTES_MAX`] and no further, whatever the route's general limit.
pub async fn oauth_token(State(app): State<crate::AppState>, headers: HeaderMap, body: Body) -> Response {
    let Some(credentials) = &app.credentials else {
        return OAuthError {
            status: StatusCode::NOT_FOUND,
            error: "unsupported",
            error_description: "本服务未开启认证(--no-auth),无需也无从获取访问令牌".into(),
        }
        .into_response();
    };
    let form_body = match axum::body::to_bytes(body, OAUTH_FORM_BYTES_MAX).await {
        Ok(bytes) => bytes,
        Err(_) => {
            return OAuthError::invalid_request(format!("请求体读取失败或超过上限{OAUTH_FORM_BYTES_MAX}字节"))
                .into_response()
        }
    };
    let authorization = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok());
    let grant = credentials
        .write()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .issue_token(authorization, &form_body, chrono::Utc::now().timestamp());
    match grant {
        Ok(grant) => (
            StatusCode::OK,
            [
                (header::CONTENT_TYPE, "application/json;charset=UTF-8"),
                // RFC 6749 §5.1: a token is not to be cached on the way.
                (header::CACHE_CONTROL, "no-store"),
                (header::PRAGMA, "no-cache"),
            ],
            serde_json::to_vec(&grant).unwrap_or_else(|_| b"{}".to_vec()),
        )
            .into_response(),
        Err(refusal) => refusal.into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_700_000_000;

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

    fn suspended() -> InstitutionRecord {
        InstitutionRecord {
            active: false,
            ..institution()
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
                .institution
                .code,
            "H50010300001"
        );
        let upper = sign("1700000000", "s3cret", "abd").to_uppercase();
        assert!(creds
            .verify(&headers("1700000000", "abd", &upper), 1_700_000_100)
            .is_ok());
    }

    #[test]
    fn a_nonce_is_accepted_once_while_its_timestamp_is_in_the_window() {
        let creds = Credentials::new(vec![institution()]);
        let sig = sign("1700000000", "s3cret", "n1");
        let h = headers("1700000000", "n1", &sig);
        assert!(creds.verify(&h, NOW).is_ok());
        // The same four headers again, 2 s later: refused, whatever the body would have been.
        assert_eq!(
            creds.verify(&h, NOW + 2).unwrap_err().told,
            "签名已使用: x-tif-nonce重复,每个请求须用新的签名"
        );
        // A refused signature does not use up its nonce.
        let creds = Credentials::new(vec![institution()]);
        let wrong = headers("1700000000", "n2", &sign("1700000000", "wrong", "n2"));
        assert!(creds.verify(&wrong, NOW).is_err());
        assert!(creds
            .verify(&headers("1700000000", "n2", &sign("1700000000", "s3cret", "n2")), NOW)
            .is_ok());
        // Out of the window the nonce is forgotten, and the timestamp refused for its age.
        assert_eq!(creds.nonce_count(), 1);
        let later = headers("1700000400", "n3", &sign("1700000400", "s3cret", "n3"));
        assert!(creds.verify(&later, NOW + 400).is_ok());
        assert_eq!(creds.nonce_count(), 1, "the expired nonce was purged");
        assert_eq!(
            creds
                .verify(
                    &headers("1700000000", "n2", &sign("1700000000", "s3cret", "n2")),
                    NOW + 400
                )
                .unwrap_err()
                .told,
            "签名时间戳超时"
        );
        // Clones share what was seen: a nonce used through one is used for all.
        let clone = creds.clone();
        assert!(clone.verify(&later, NOW + 400).is_err());
    }

    #[test]
    fn one_institution_cannot_fill_the_nonce_memory() {
        let mut nonces = SeenNonces::default();
        for i in 0..NONCES_PER_INSTITUTION_MAX {
            nonces
                .record("x-tif-nonce", "a", &i.to_le_bytes(), NOW + 300, NOW)
                .unwrap();
        }
        assert_eq!(
            nonces
                .record("x-tif-nonce", "a", b"one more", NOW + 300, NOW)
                .unwrap_err()
                .told,
            "签名请求过于频繁,请稍后重试"
        );
        // Another institution is not held back by the first.
        nonces.record("x-tif-nonce", "b", b"x", NOW + 300, NOW).unwrap();
        // Once the first's nonces expire, it may sign again.
        nonces
            .record("x-tif-nonce", "a", b"one more", NOW + 600, NOW + 300)
            .unwrap();
        assert_eq!(nonces.len(), 1);
    }

    #[test]
    fn unknown_access_ids_and_wrong_secrets_are_told_alike() {
        let creds = Credentials::new(vec![
            institution(),
            InstitutionRecord {
                code: "H50010300002".into(),
                paas_id: "suspended".into(),
                ..suspended()
            },
        ]);
        let mut unknown = headers("1700000000", "u1", &sign("1700000000", "s3cret", "u1"));
        unknown.insert("x-tif-paasid", "nobody".parse().unwrap());
        let wrong = headers("1700000000", "u2", &sign("1700000000", "wrong", "u2"));
        let (a, b) = (
            creds.verify(&unknown, NOW).unwrap_err(),
            creds.verify(&wrong, NOW).unwrap_err(),
        );
        assert_eq!((a.told.as_str(), b.told.as_str()), (AUTH_REFUSED, AUTH_REFUSED));
        // The audit log keeps the difference.
        assert_eq!(a.audit, "x-tif-paasid未登记: nobody");
        assert_eq!(b.audit, "签名不一致: x-tif-paasid demo-h50010300001");
        // A suspended institution's state is shown only to a caller that holds its secret.
        let mut s = headers("1700000000", "u3", &sign("1700000000", "wrong", "u3"));
        s.insert("x-tif-paasid", "suspended".parse().unwrap());
        assert_eq!(creds.verify(&s, NOW).unwrap_err().told, AUTH_REFUSED);
        let mut s = headers("1700000000", "u4", &sign("1700000000", "s3cret", "u4"));
        s.insert("x-tif-paasid", "suspended".parse().unwrap());
        assert_eq!(creds.verify(&s, NOW).unwrap_err().told, "非法用户: 机构已暂停");
    }

    #[test]
    fn header_refusals_say_what_is_wrong() {
        let creds = Credentials::new(vec![institution()]);
        let long = "n".repeat(200);
        let h = headers("1700000000", &long, &sign("1700000000", "s3cret", &long));
        assert_eq!(
            creds.verify(&h, NOW).unwrap_err().told,
            "服务网关的请求头x-tif-nonce长度200超过上限128字节"
        );
        let mut h = headers("1700000000", "x", "y");
        h.insert(
            "x-tif-nonce",
            axum::http::HeaderValue::from_bytes("随机".as_bytes()).unwrap(),
        );
        assert_eq!(
            creds.verify(&h, NOW).unwrap_err().told,
            "服务网关的请求头x-tif-nonce应为可见ASCII字符"
        );
    }

    #[test]
    fn refuses_bad_signatures_with_the_gateway_messages() {
        let creds = Credentials::new(vec![institution()]);
        let sig = sign("1700000000", "wrong", "abc");
        assert_eq!(
            creds
                .verify(&headers("1700000000", "abc", &sig), 1_700_000_000)
                .unwrap_err()
                .told,
            AUTH_REFUSED
        );
        let sig = sign("1700000000", "s3cret", "abc");
        assert_eq!(
            creds
                .verify(&headers("1700000000", "abc", &sig), 1_700_001_000)
                .unwrap_err()
                .told,
            "签名时间戳超时"
        );
        assert_eq!(
            creds.verify(&HeaderMap::new(), 0).unwrap_err().told,
            "缺少服务网关的请求头x-tif-paasid"
        );
    }

    // ---- `_api_*` HMAC-SHA1 ----

    /// `_api_*` headers for `access_key`, signed with `secret` at `timestamp_ms`.
    fn api_headers(access_key: &str, secret: &str, timestamp_ms: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert("_api_name", "hnsyb.1101".parse().unwrap());
        h.insert("_api_version", "1.0.0".parse().unwrap());
        h.insert("_api_timestamp", timestamp_ms.parse().unwrap());
        h.insert("_api_access_key", access_key.parse().unwrap());
        let signature = sign_api("hnsyb.1101", "1.0.0", timestamp_ms, access_key, secret);
        h.insert("_api_signature", signature.parse().unwrap());
        h
    }

    #[test]
    fn sign_api_is_base64_hmac_sha1_of_the_sorted_parameters() {
        // Computed independently (Python's hmac and base64) over
        // `_api_access_key=demo-h50010300001&_api_name=hnsyb.1101&_api_timestamp=1700000000000&_api_version=1.0.0`.
        assert_eq!(
            sign_api("hnsyb.1101", "1.0.0", "1700000000000", "demo-h50010300001", "s3cret"),
            "lKAgH/obGZAYB7m/p9rmBnoc6VM="
        );
    }

    #[test]
    fn accepts_a_good_api_signature() {
        let creds = Credentials::new(vec![institution()]);
        // Within the skew either way, in milliseconds.
        for timestamp_ms in ["1700000000000", "1700000299999", "1699999700000"] {
            let h = api_headers("demo-h50010300001", "s3cret", timestamp_ms);
            assert_eq!(
                creds.verify(&h, NOW).unwrap().institution.code,
                "H50010300001",
                "{timestamp_ms}"
            );
        }
    }

    #[test]
    fn an_api_signature_is_accepted_once_and_names_its_transaction() {
        let creds = Credentials::new(vec![institution()]);
        let h = api_headers("demo-h50010300001", "s3cret", "1700000000000");
        let verified = creds.verify(&h, NOW).unwrap();
        assert_eq!(verified.signed_infno.as_deref(), Some("1101"));
        assert_eq!(
            creds.verify(&h, NOW + 1).unwrap_err().told,
            "签名已使用: _api_signature重复,每个请求须用新的签名"
        );
        // The next millisecond is another signature.
        let h = api_headers("demo-h50010300001", "s3cret", "1700000000001");
        assert!(creds.verify(&h, NOW + 1).is_ok());
    }

    #[test]
    fn refuses_api_signatures_with_the_gateway_messages() {
        let creds = Credentials::new(vec![
            institution(),
            InstitutionRecord {
                paas_id: "suspended".into(),
                ..suspended()
            },
        ]);
        let good = api_headers("demo-h50010300001", "s3cret", "1700000000000");
        for name in API_HEADERS {
            let mut h = good.clone();
            h.remove(name);
            assert_eq!(
                creds.verify(&h, NOW).unwrap_err().told,
                format!("缺少服务网关的请求头{name}")
            );
        }
        let mut too_long = good.clone();
        too_long.insert("_api_name", "n".repeat(HEADER_BYTES_MAX + 1).parse().unwrap());
        assert_eq!(
            creds.verify(&too_long, NOW).unwrap_err().told,
            "服务网关的请求头_api_name长度129超过上限128字节"
        );

        let h = api_headers("nobody", "s3cret", "1700000000000");
        assert_eq!(creds.verify(&h, NOW).unwrap_err().told, AUTH_REFUSED);
        assert_eq!(
            creds.verify(&h, NOW).unwrap_err().audit,
            "_api_access_key未登记: nobody"
        );
        let h = api_headers("suspended", "s3cret", "1700000000000");
        assert_eq!(creds.verify(&h, NOW).unwrap_err().told, "非法用户: 机构已暂停");

        // Seconds where milliseconds are due are 55 years off.
        let h = api_headers("demo-h50010300001", "s3cret", "1700000000");
        assert_eq!(creds.verify(&h, NOW).unwrap_err().told, "签名时间戳超时");
        let h = api_headers("demo-h50010300001", "s3cret", "1700000300001");
        assert_eq!(creds.verify(&h, NOW).unwrap_err().told, "签名时间戳超时");
        let h = api_headers("demo-h50010300001", "s3cret", "9223372036854775807");
        assert_eq!(creds.verify(&h, NOW).unwrap_err().told, "签名时间戳超时");
        let h = api_headers("demo-h50010300001", "s3cret", "soon");
        assert_eq!(creds.verify(&h, NOW).unwrap_err().told, "_api_timestamp 应为Unix毫秒数");

        let h = api_headers("demo-h50010300001", "wrong", "1700000000000");
        assert_eq!(creds.verify(&h, NOW).unwrap_err().told, AUTH_REFUSED);
        // A signed parameter changed after signing.
        let mut h = good.clone();
        h.insert("_api_version", "2.0.0".parse().unwrap());
        assert_eq!(creds.verify(&h, NOW).unwrap_err().told, AUTH_REFUSED);
        let mut h = good.clone();
        h.insert("_api_signature", "not base64!".parse().unwrap());
        assert_eq!(creds.verify(&h, NOW).unwrap_err().told, AUTH_REFUSED);
        // A signature cut short is not a prefix match.
        let mut h = good.clone();
        let sig = sign_api("hnsyb.1101", "1.0.0", "1700000000000", "demo-h50010300001", "s3cret");
        let short = BASE64.encode(&BASE64.decode(sig).unwrap()[..10]);
        h.insert("_api_signature", short.parse().unwrap());
        assert_eq!(creds.verify(&h, NOW).unwrap_err().told, AUTH_REFUSED);
    }

    #[test]
    fn x_tif_headers_take_precedence_over_the_others() {
        let creds = Credentials::new(vec![institution()]);
        let mut h = api_headers("demo-h50010300001", "s3cret", "1700000000000");
        h.insert("x-tif-paasid", "demo-h50010300001".parse().unwrap());
        assert_eq!(
            creds.verify(&h, NOW).unwrap_err().told,
            "缺少服务网关的请求头x-tif-timestamp"
        );
    }

    // ---- OAuth2 ----

    fn basic(id: &str, secret: &str) -> String {
        format!("Basic {}", BASE64.encode(format!("{id}:{secret}")))
    }

    fn bearer(token: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::AUTHORIZATION, format!("Bearer {token}").parse().unwrap());
        h
    }

    const PASSWORD_FORM: &[u8] = b"grant_type=password&username=001&password=x%26y&scope=server";

    fn issue(creds: &mut Credentials, now_unix_seconds: i64) -> TokenGrant {
        creds
            .issue_token(
                Some(&basic("demo-h50010300001", "s3cret")),
                PASSWORD_FORM,
                now_unix_seconds,
            )
            .unwrap()
    }

    fn refusal(result: Result<TokenGrant, OAuthError>) -> (StatusCode, &'static str, String) {
        let e = result.unwrap_err();
        (e.status, e.error, e.error_description)
    }

    #[test]
    fn issues_a_token_and_accepts_it_as_bearer_until_it_expires() {
        let mut creds = Credentials::new(vec![institution()]);
        let grant = issue(&mut creds, NOW);
        assert_eq!(grant.token_type, "bearer");
        assert_eq!(grant.expires_in, 7200);
        assert_eq!(grant.scope.as_deref(), Some("server"));
        assert_eq!(grant.access_token.len(), 64);
        assert!(grant.access_token.bytes().all(|b| b.is_ascii_hexdigit()));
        let json = serde_json::to_value(&grant).unwrap();
        assert_eq!(json["token_type"], "bearer");
        assert_eq!(json["expires_in"], 7200);

        assert_eq!(
            creds
                .verify(&bearer(&grant.access_token), NOW)
                .unwrap()
                .institution
                .code,
            "H50010300001"
        );
        // The scheme's name in any case, as HTTP allows.
        let mut h = HeaderMap::new();
        h.insert(
            header::AUTHORIZATION,
            format!("bearer {}", grant.access_token).parse().unwrap(),
        );
        assert!(creds.verify(&h, NOW + 7199).is_ok());
        assert_eq!(
            creds.verify(&bearer(&grant.access_token), NOW + 7200).unwrap_err().told,
            "访问令牌已过期"
        );

        // client_credentials, without a scope: none answered.
        let grant = creds
            .issue_token(
                Some(&basic("demo-h50010300001", "s3cret")),
                b"grant_type=client_credentials",
                NOW,
            )
            .unwrap();
        assert_eq!(grant.scope, None);
        assert!(serde_json::to_value(&grant).unwrap().get("scope").is_none());
        // Each issue is a new token.
        assert_ne!(grant.access_token, issue(&mut creds, NOW).access_token);
    }

    #[test]
    fn refuses_unknown_and_malformed_bearer_tokens() {
        let mut creds = Credentials::new(vec![institution()]);
        let grant = issue(&mut creds, NOW);
        assert_eq!(
            creds.verify(&bearer(&"0".repeat(64)), NOW).unwrap_err().told,
            "非法用户: 访问令牌无效"
        );
        let mut h = HeaderMap::new();
        h.insert(
            header::AUTHORIZATION,
            basic("demo-h50010300001", "s3cret").parse().unwrap(),
        );
        assert_eq!(
            creds.verify(&h, NOW).unwrap_err().told,
            "非法用户: 请求头Authorization应为Bearer访问令牌"
        );
        h.insert(header::AUTHORIZATION, "Bearer ".parse().unwrap());
        assert_eq!(
            creds.verify(&h, NOW).unwrap_err().told,
            "非法用户: 请求头Authorization应为Bearer访问令牌"
        );
        // x-tif headers win over a token: the x-tif signature is what is checked.
        let mut h = bearer(&grant.access_token);
        h.insert("x-tif-paasid", "demo-h50010300001".parse().unwrap());
        assert_eq!(
            creds.verify(&h, NOW).unwrap_err().told,
            "缺少服务网关的请求头x-tif-timestamp"
        );
    }

    #[test]
    fn refuses_token_requests_with_the_oauth_errors() {
        let mut creds = Credentials::new(vec![institution()]);
        let id = "demo-h50010300001";
        let unauthorized = StatusCode::UNAUTHORIZED;
        assert_eq!(
            refusal(creds.issue_token(Some(&basic(id, "wrong")), PASSWORD_FORM, NOW)),
            (unauthorized, "invalid_client", CLIENT_REFUSED.into())
        );
        assert_eq!(
            refusal(creds.issue_token(Some(&basic(id, "s3cre")), PASSWORD_FORM, NOW)),
            (unauthorized, "invalid_client", CLIENT_REFUSED.into())
        );
        assert_eq!(
            refusal(creds.issue_token(Some(&basic("nobody", "s3cret")), PASSWORD_FORM, NOW)),
            (unauthorized, "invalid_client", CLIENT_REFUSED.into())
        );
        let missing = (
            unauthorized,
            "invalid_client",
            "缺少客户端认证: 请求头Authorization应为Basic clientId:clientSecret".to_owned(),
        );
        assert_eq!(refusal(creds.issue_token(None, PASSWORD_FORM, NOW)), missing);
        assert_eq!(
            refusal(creds.issue_token(Some("Bearer abc"), PASSWORD_FORM, NOW)),
            missing
        );
        assert_eq!(
            refusal(creds.issue_token(Some("Basic !!!"), PASSWORD_FORM, NOW)),
            missing
        );
        let no_colon = format!("Basic {}", BASE64.encode(id));
        assert_eq!(refusal(creds.issue_token(Some(&no_colon), PASSWORD_FORM, NOW)), missing);
        let huge = basic(id, &"s".repeat(BASIC_AUTHORIZATION_BYTES_MAX));
        assert_eq!(refusal(creds.issue_token(Some(&huge), PASSWORD_FORM, NOW)), missing);

        let good = basic(id, "s3cret");
        let bad_request = StatusCode::BAD_REQUEST;
        assert_eq!(
            refusal(creds.issue_token(Some(&good), b"grant_type=authorization_code&code=x", NOW)),
            (
                bad_request,
                "unsupported_grant_type",
                "不支持的授权类型authorization_code".into()
            )
        );
        assert_eq!(
            refusal(creds.issue_token(Some(&good), b"username=001", NOW)),
            (bad_request, "invalid_request", "缺少参数grant_type".into())
        );
        assert_eq!(
            refusal(creds.issue_token(Some(&good), b"grant_type=password&grant_type=client_credentials", NOW)),
            (bad_request, "invalid_request", "参数grant_type重复".into())
        );
        assert_eq!(
            refusal(creds.issue_token(Some(&good), b"grant_type=pass%zzword", NOW)).1,
            "invalid_request"
        );
        let big = [b"grant_type=password&scope=".as_slice(), &[b'a'; OAUTH_FORM_BYTES_MAX]].concat();
        assert_eq!(
            refusal(creds.issue_token(Some(&good), &big, NOW)),
            (bad_request, "invalid_request", "请求体超过上限4096字节".into())
        );
        assert_eq!(creds.token_count(), 0);
    }

    #[test]
    fn a_suspended_institution_gets_no_token_and_its_tokens_stop_working() {
        let mut creds = Credentials::new(vec![suspended()]);
        assert_eq!(
            refusal(creds.issue_token(Some(&basic("demo-h50010300001", "s3cret")), PASSWORD_FORM, NOW)),
            (
                StatusCode::UNAUTHORIZED,
                "invalid_client",
                "非法用户: 机构已暂停".into()
            )
        );
        // A suspended institution's wrong secret is told as a wrong secret: its state is not
        // shown to whoever does not hold the secret.
        assert_eq!(
            refusal(creds.issue_token(Some(&basic("demo-h50010300001", "x")), PASSWORD_FORM, NOW)).2,
            CLIENT_REFUSED
        );

        // A token issued while active is refused once the institution is suspended.
        let mut creds = Credentials::new(vec![institution()]);
        let grant = issue(&mut creds, NOW);
        creds.by_paas_id.get_mut("demo-h50010300001").unwrap().active = false;
        assert_eq!(
            creds.verify(&bearer(&grant.access_token), NOW).unwrap_err().told,
            "非法用户: 机构已暂停"
        );
    }

    #[test]
    fn tokens_survive_replacing_the_institutions_unless_suspended_removed_or_rekeyed() {
        let mut creds = Credentials::new(vec![institution()]);
        let grant = issue(&mut creds, NOW);
        let renamed = InstitutionRecord {
            name: "改名医院".into(),
            ..institution()
        };
        creds.replace_institutions(vec![renamed]);
        assert_eq!(
            creds
                .verify(&bearer(&grant.access_token), NOW)
                .unwrap()
                .institution
                .name,
            "改名医院"
        );

        creds.replace_institutions(vec![suspended()]);
        assert_eq!(creds.token_count(), 0);
        creds.replace_institutions(vec![institution()]);
        assert_eq!(
            creds.verify(&bearer(&grant.access_token), NOW).unwrap_err().told,
            "非法用户: 访问令牌无效"
        );

        let grant = issue(&mut creds, NOW);
        creds.replace_institutions(vec![InstitutionRecord {
            secret: "rotated".into(),
            ..institution()
        }]);
        assert_eq!(
            creds.verify(&bearer(&grant.access_token), NOW).unwrap_err().told,
            "非法用户: 访问令牌无效"
        );

        creds.replace_institutions(vec![institution()]);
        let grant = issue(&mut creds, NOW);
        creds.replace_institutions(Vec::new());
        assert_eq!(
            creds.verify(&bearer(&grant.access_token), NOW).unwrap_err().told,
            "非法用户: 访问令牌无效"
        );
    }

    #[test]
    fn issuing_purges_expired_tokens_and_caps_each_institution() {
        let mut creds = Credentials::new(vec![institution()]);
        let old = issue(&mut creds, NOW);
        assert_eq!(creds.token_count(), 1);
        // Issued after the first expired: it is purged.
        issue(&mut creds, NOW + TOKEN_LIFETIME_SECONDS);
        assert_eq!(creds.token_count(), 1);
        assert_eq!(
            creds
                .verify(&bearer(&old.access_token), NOW + TOKEN_LIFETIME_SECONDS)
                .unwrap_err()
                .told,
            "非法用户: 访问令牌无效"
        );

        let start = NOW + TOKEN_LIFETIME_SECONDS;
        let first = issue(&mut creds, start + 1);
        for i in 0..TOKENS_PER_INSTITUTION_MAX as i64 {
            issue(&mut creds, start + 2 + i / 100);
        }
        assert_eq!(creds.token_count(), TOKENS_PER_INSTITUTION_MAX);
        // The oldest went to make room.
        assert_eq!(
            creds.verify(&bearer(&first.access_token), start + 20).unwrap_err().told,
            "非法用户: 访问令牌无效"
        );
    }

    #[test]
    fn form_decoding() {
        let form = parse_form(b"a=1+2&b=%E5%8C%BB%2b&c&=x").unwrap();
        assert_eq!(form["a"], "1 2");
        assert_eq!(form["b"], "医+");
        assert_eq!(form["c"], "");
        assert_eq!(form[""], "x");
        assert!(form_decode("%2").is_err());
        assert!(form_decode("%+f").is_err());
        assert!(form_decode("%ff").is_err());
        assert!(parse_form(&[0xff]).is_err());
    }
}
