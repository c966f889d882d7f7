//! The JSON admin API (管理接口) under `/admin/api`: employer registration, enrolment commands,
//! person and coverage views, resident contributions, the monthly employee contribution run and
//! fund indicators. Each route maps to one [`AdminRequest`] of the platform; the OpenAPI 3.1
//! description is `docs/admin-api.openapi.json`, served at `GET /admin/api/openapi.json`.
//!
//! Access: `Authorization: Bearer <token>`, the token from `YIBAO_ADMIN_TOKEN` or
//! `yibao serve --admin-token-file`. Without a configured token every admin route answers 403;
//! a missing or wrong token answers 401. Tokens are compared as SHA-256 digests in constant time,
//! and never logged. `--no-auth` opens the admin API (development only).
//!
//! Errors are `{"error": "<中文说明>", "field": "<字段或 null>"}`: a wrong field 400, a refusal by
//! the rules 409, a platform failure 500, a body over [`ADMIN_BODY_BYTES_MAX`] 413.

use std::path::Path;
use std::time::Instant;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, Path as UrlPath, RawQuery, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put, MethodRouter};
use axum::Extension;
use axum::Router;
use chrono::NaiveDate;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use yibao_codes::InsuranceType;
use yibao_money::Money;
use yibao_monitor::cases::{StaffRole, StepRequest};
use yibao_platform::{AdminRequest, ErrorKind, PlatformError, Staff};

use crate::AppState;

/// Where the admin API is served.
pub const ADMIN_PREFIX: &str = "/admin/api";
/// The largest request body the admin API reads.
pub const ADMIN_BODY_BYTES_MAX: usize = 1024 * 1024;
/// The environment variable holding the admin token.
pub const ADMIN_TOKEN_ENV: &str = "YIBAO_ADMIN_TOKEN";
/// The shortest admin token accepted: a short token can be guessed.
pub const ADMIN_TOKEN_CHARS_MIN: usize = 16;
/// The longest admin token accepted (and the longest `Authorization` value read).
pub const ADMIN_TOKEN_CHARS_MAX: usize = 4096;
/// The OpenAPI 3.1 description of the admin API.
pub const OPENAPI_JSON: &str = include_str!("../../../docs/admin-api.openapi.json");

/// The refusal when no token is configured.
pub const ADMIN_DISABLED_MESSAGE: &str = "管理接口未启用: 未配置管理口令(YIBAO_ADMIN_TOKEN 或 --admin-token-file)";

const EMPLOYERS: &str = "/admin/api/employers";
const PERSON_COMMANDS: &str = "/admin/api/persons/{certno}/commands";
const PERSON: &str = "/admin/api/persons/{certno}";
const COVERAGE: &str = "/admin/api/persons/{certno}/coverage";
const RESIDENT_CONTRIBUTIONS: &str = "/admin/api/persons/{certno}/resident-contributions";
const CONTRIBUTION_RUNS: &str = "/admin/api/contribution-runs";
const INDICATORS: &str = "/admin/api/funds/indicators";
const PERIOD_CLOSES: &str = "/admin/api/funds/period-closes";
const EMPLOYER_ARREARS: &str = "/admin/api/employers/{credit_code}/arrears";
const EMPLOYER_BACK_PAYMENTS: &str = "/admin/api/employers/{credit_code}/back-payments";
const ARREARS_CHECKS: &str = "/admin/api/arrears-checks";
const INSTITUTIONS: &str = "/admin/api/institutions";
const INSTITUTION: &str = "/admin/api/institutions/{code}";
const SETTLEMENT: &str = "/admin/api/settlements/{setl_id}";
const CASES: &str = "/admin/api/cases";
const CASE: &str = "/admin/api/cases/{case_id}";
const CASE_STEPS: &str = "/admin/api/cases/{case_id}/steps";
const DOCTOR_POINTS: &str = "/admin/api/doctors/{doctor}/points";
const INSTITUTION_CREDIT: &str = "/admin/api/institutions/{code}/credit";
const OPENAPI: &str = "/admin/api/openapi.json";

/// Every admin route: method and path, the path as both axum and OpenAPI write it. The router
/// is built from this list, and the OpenAPI description is tested against it in both directions.
pub const ADMIN_ROUTES: &[(&str, &str)] = &[
    ("POST", EMPLOYERS),
    ("POST", PERSON_COMMANDS),
    ("GET", PERSON),
    ("GET", COVERAGE),
    ("POST", RESIDENT_CONTRIBUTIONS),
    ("POST", CONTRIBUTION_RUNS),
    ("GET", INDICATORS),
    ("POST", PERIOD_CLOSES),
    ("POST", EMPLOYER_ARREARS),
    ("POST", EMPLOYER_BACK_PAYMENTS),
    ("POST", ARREARS_CHECKS),
    ("GET", INSTITUTIONS),
    ("PUT", INSTITUTION),
    ("GET", SETTLEMENT),
    ("POST", CASES),
    ("GET", CASE),
    ("POST", CASE_STEPS),
    ("GET", DOCTOR_POINTS),
    ("GET", INSTITUTION_CREDIT),
    ("GET", OPENAPI),
];

/// The routes a staff token (not the administrator's) may use: supervision's.
const STAFF_ROUTE_PREFIXES: &[&str] = &["/cases", "/doctors/", "/settlements/"];

/// Whether a staff token may use `path` (relative to the admin prefix): supervision's routes and
/// an institution's credit, nothing else of the institutions.
fn staff_may_use(path: &str) -> bool {
    STAFF_ROUTE_PREFIXES.iter().any(|p| path.starts_with(p))
        || (path.starts_with("/institutions/") && path.ends_with("/credit") && path.matches('/').count() == 3)
}

fn method_router(method: &str, path: &str) -> MethodRouter<AppState> {
    match (method, path) {
        ("POST", EMPLOYERS) => post(register_employer),
        ("POST", PERSON_COMMANDS) => post(execute),
        ("GET", PERSON) => get(person),
        ("GET", COVERAGE) => get(coverage),
        ("POST", RESIDENT_CONTRIBUTIONS) => post(resident_contribution),
        ("POST", CONTRIBUTION_RUNS) => post(contribution_run),
        ("GET", INDICATORS) => get(indicators),
        ("POST", PERIOD_CLOSES) => post(close_period),
        ("POST", EMPLOYER_ARREARS) => post(employer_arrears),
        ("POST", EMPLOYER_BACK_PAYMENTS) => post(employer_back_pay),
        ("POST", ARREARS_CHECKS) => post(arrears_check),
        ("GET", INSTITUTIONS) => get(list_institutions),
        ("PUT", INSTITUTION) => put(register_institution),
        ("GET", SETTLEMENT) => get(settlement),
        ("POST", CASES) => post(open_case),
        ("GET", CASE) => get(case),
        ("POST", CASE_STEPS) => post(case_step),
        ("GET", DOCTOR_POINTS) => get(doctor_points),
        ("GET", INSTITUTION_CREDIT) => get(institution_credit),
        ("GET", OPENAPI) => get(openapi),
        _ => unreachable!("admin route {method} {path} has no handler"),
    }
}

/// The admin routes, to be nested at [`ADMIN_PREFIX`]: authentication, logging and the body
/// limit apply to every one of them and to unknown paths under the prefix.
pub(crate) fn router(state: AppState) -> Router<AppState> {
    let mut router = Router::new();
    for (method, path) in ADMIN_ROUTES {
        // Every route in ADMIN_ROUTES is written under the prefix (a unit test holds them to it).
        let relative = path.strip_prefix(ADMIN_PREFIX).unwrap_or(path);
        router = router.route(relative, method_router(method, path));
    }
    router
        .fallback(|| async { error_response(StatusCode::NOT_FOUND, "管理接口没有这个路径".into(), None) })
        .layer(DefaultBodyLimit::max(ADMIN_BODY_BYTES_MAX))
        .layer(middleware::from_fn_with_state(state, guard))
}

// =============================================================================================
// Access.

/// Who may use the admin API.
#[derive(Clone, Default)]
pub enum AdminAccess {
    /// No token configured: every admin route answers 403.
    #[default]
    Disabled,
    /// Authentication is off (`--no-auth`, development only): anyone may.
    Open,
    /// The SHA-256 digest of the token a caller must present.
    Token([u8; 32]),
}

impl std::fmt::Debug for AdminAccess {
    // Never prints the digest.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            AdminAccess::Disabled => "AdminAccess::Disabled",
            AdminAccess::Open => "AdminAccess::Open",
            AdminAccess::Token(_) => "AdminAccess::Token(..)",
        })
    }
}

/// Staff members' tokens (稽核, 经办, 财务): each as its SHA-256 with the actor and role it stands
/// for, read from a file of lines `ROLE ACTOR SHA256HEX` (`#` starts a comment). Only the digest
/// is kept, as for the administrator's token.
#[derive(Clone, Default)]
pub struct StaffTokens(Vec<([u8; 32], Staff)>);

impl std::fmt::Debug for StaffTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "StaffTokens({} tokens)", self.0.len())
    }
}

/// The most staff tokens one file may list.
pub const STAFF_TOKENS_MAX: usize = 10_000;

impl StaffTokens {
    /// Reads the token file's text; every bad line is named.
    pub fn parse(text: &str) -> Result<StaffTokens, String> {
        let mut tokens = Vec::new();
        for (i, line) in text.lines().enumerate() {
            let line = line.split('#').next().unwrap_or("").trim();
            if line.is_empty() {
                continue;
            }
            let fields: Vec<&str> = line.split_whitespace().collect();
            let at = |m: &str| format!("第{}行: {m}", i + 1);
            let [role, actor, hex] = fields.as_slice() else {
                return Err(at("应为“角色 人员 口令的SHA-256(64位十六进制)”三项"));
            };
            let role =
                StaffRole::parse(role).ok_or_else(|| at(&format!("角色“{role}”应为clerk、auditor、finance或admin")))?;
            if actor.chars().count() > 50 {
                return Err(at("人员名称不超过50个字符"));
            }
            let mut digest = [0u8; 32];
            if hex.len() != 64 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(at("口令摘要应为64位十六进制(sha256sum的输出)"));
            }
            for (k, byte) in digest.iter_mut().enumerate() {
                *byte = u8::from_str_radix(&hex[2 * k..2 * k + 2], 16).map_err(|_| at("口令摘要无效"))?;
            }
            if tokens.len() == STAFF_TOKENS_MAX {
                return Err(at(&format!("口令超过上限{STAFF_TOKENS_MAX}个")));
            }
            tokens.push((
                digest,
                Staff {
                    actor: (*actor).to_owned(),
                    role,
                },
            ));
        }
        Ok(StaffTokens(tokens))
    }

    /// `--staff-tokens-file`, else `YIBAO_STAFF_TOKENS_FILE`, else none.
    pub fn configure(file: Option<&Path>) -> Result<StaffTokens, String> {
        let file = match file {
            Some(f) => f.to_path_buf(),
            None => match std::env::var("YIBAO_STAFF_TOKENS_FILE") {
                Ok(f) if !f.trim().is_empty() => std::path::PathBuf::from(f),
                _ => return Ok(StaffTokens::default()),
            },
        };
        let metadata =
            std::fs::metadata(&file).map_err(|e| format!("{}: 无法读取人员口令文件: {e}", file.display()))?;
        if metadata.len() > 4 << 20 {
            return Err(format!("{}: 人员口令文件过大", file.display()));
        }
        let text =
            std::fs::read_to_string(&file).map_err(|e| format!("{}: 无法读取人员口令文件: {e}", file.display()))?;
        StaffTokens::parse(&text).map_err(|e| format!("{}: {e}", file.display()))
    }

    /// The staff member whose token the request bears, compared in constant time with each.
    fn identify(&self, headers: &HeaderMap) -> Option<Staff> {
        let presented = headers
            .get(header::AUTHORIZATION)?
            .to_str()
            .ok()
            .filter(|v| v.len() <= ADMIN_TOKEN_CHARS_MAX + 16)?
            .split_once(' ')
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .map(|(_, t)| digest(t.trim().as_bytes()))?;
        let mut found = None;
        for (expected, staff) in &self.0 {
            if digests_equal(&presented, expected) {
                found = Some(staff.clone());
            }
        }
        found
    }
}

fn digest(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

/// Equal digests, in time independent of where they differ.
fn digests_equal(a: &[u8; 32], b: &[u8; 32]) -> bool {
    let difference = a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y));
    std::hint::black_box(difference) == 0
}

impl AdminAccess {
    /// Access with `token` (surrounding white space, e.g. a file's final newline, is dropped).
    pub fn token(token: &str) -> Result<AdminAccess, String> {
        let token = token.trim();
        let chars = token.chars().count();
        if chars < ADMIN_TOKEN_CHARS_MIN {
            return Err(format!("管理口令过短: 至少{ADMIN_TOKEN_CHARS_MIN}个字符"));
        }
        if chars > ADMIN_TOKEN_CHARS_MAX {
            return Err(format!("管理口令过长: 至多{ADMIN_TOKEN_CHARS_MAX}个字符"));
        }
        if !token.chars().all(|c| c.is_ascii_graphic()) {
            return Err("管理口令只能由可见ASCII字符组成(不含空格)".into());
        }
        Ok(AdminAccess::Token(digest(token.as_bytes())))
    }

    /// The access `yibao serve` configures: open with `--no-auth`; else the token of
    /// `token_file` (`--admin-token-file`), else of `YIBAO_ADMIN_TOKEN`; else disabled.
    pub fn configure(no_auth: bool, token_file: Option<&Path>) -> Result<AdminAccess, String> {
        if no_auth {
            return Ok(AdminAccess::Open);
        }
        if let Some(file) = token_file {
            let metadata =
                std::fs::metadata(file).map_err(|e| format!("{}: 无法读取管理口令文件: {e}", file.display()))?;
            if metadata.len() > (ADMIN_TOKEN_CHARS_MAX * 4 + 2) as u64 {
                return Err(format!("{}: 管理口令文件过大", file.display()));
            }
            let text =
                std::fs::read_to_string(file).map_err(|e| format!("{}: 无法读取管理口令文件: {e}", file.display()))?;
            return AdminAccess::token(&text).map_err(|e| format!("{}: {e}", file.display()));
        }
        match std::env::var(ADMIN_TOKEN_ENV) {
            Ok(text) if !text.trim().is_empty() => {
                AdminAccess::token(&text).map_err(|e| format!("{ADMIN_TOKEN_ENV}: {e}"))
            }
            Ok(_) | Err(std::env::VarError::NotPresent) => Ok(AdminAccess::Disabled),
            Err(std::env::VarError::NotUnicode(_)) => Err(format!("{ADMIN_TOKEN_ENV}: 管理口令不是有效的文本")),
        }
    }

    /// Whether a request with these headers may use the admin API; else the refusal.
    fn check(&self, headers: &HeaderMap) -> Result<(), Refusal> {
        let expected = match self {
            AdminAccess::Open => return Ok(()),
            AdminAccess::Disabled => {
                return Err(Box::new(error_response(
                    StatusCode::FORBIDDEN,
                    ADMIN_DISABLED_MESSAGE.into(),
                    None,
                )));
            }
            AdminAccess::Token(expected) => expected,
        };
        let unauthorized = |message: &str| {
            let mut response = error_response(StatusCode::UNAUTHORIZED, message.into(), None);
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"yibao-admin\""),
            );
            Box::new(response)
        };
        let Some(value) = headers.get(header::AUTHORIZATION) else {
            return Err(unauthorized("缺少管理口令: 请求头 Authorization: Bearer <口令>"));
        };
        let presented = value
            .to_str()
            .ok()
            .filter(|v| v.len() <= ADMIN_TOKEN_CHARS_MAX + 16)
            .and_then(|v| v.split_once(' '))
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .map(|(_, token)| token.trim());
        let Some(presented) = presented else {
            return Err(unauthorized("管理口令格式不正确: 应为 Authorization: Bearer <口令>"));
        };
        if digests_equal(&digest(presented.as_bytes()), expected) {
            Ok(())
        } else {
            Err(unauthorized("管理口令不正确"))
        }
    }
}

/// Authenticates every admin request and logs it (method, path with citizen IDs masked, status;
/// never the token).
async fn guard(State(app): State<AppState>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().clone();
    // Inside the nested router the path has lost the prefix; citizen IDs in it are masked.
    let path = format!("{ADMIN_PREFIX}{}", yibao_platform::mask(request.uri().path()));
    let mut request = request;
    let staff = match app.admin.check(request.headers()) {
        Ok(()) => Ok(Staff {
            actor: "admin".into(),
            role: StaffRole::Admin,
        }),
        Err(refusal) => {
            // A staff member's token: for supervision's routes only.
            let supervision = staff_may_use(request.uri().path());
            match app.staff.identify(request.headers()) {
                Some(staff) if supervision => Ok(staff),
                Some(_) => Err(Box::new(error_response(
                    StatusCode::FORBIDDEN,
                    "该口令只可用于智能监控接口(案件、医师记分、结算详情)".into(),
                    None,
                ))),
                None => Err(refusal),
            }
        }
    };
    let response = match staff {
        Ok(staff) => {
            request.extensions_mut().insert(staff);
            next.run(request).await
        }
        Err(refusal) => *refusal,
    };
    // axum's own refusals (wrong method) have no body: answer them in the API's form too.
    let response = if response.status() == StatusCode::METHOD_NOT_ALLOWED {
        let allow = response.headers().get(header::ALLOW).cloned();
        let mut r = error_response(
            StatusCode::METHOD_NOT_ALLOWED,
            format!("{path}不支持{method}方法"),
            None,
        );
        if let Some(allow) = allow {
            r.headers_mut().insert(header::ALLOW, allow);
        }
        r
    } else {
        response
    };
    let status = response.status().as_u16();
    let elapsed_ms = started.elapsed().as_millis() as u64;
    if response.status().is_server_error() {
        tracing::error!(%method, path, status, elapsed_ms, "admin request");
    } else if response.status().is_client_error() {
        tracing::warn!(%method, path, status, elapsed_ms, "admin request");
    } else {
        tracing::info!(%method, path, status, elapsed_ms, "admin request");
    }
    response
}

// =============================================================================================
// Answers.

fn json_body(status: StatusCode, value: &Value) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/json;charset=UTF-8")],
        // A `Value` always serializes; an empty object would stand in if it did not.
        serde_json::to_vec(value).unwrap_or_else(|_| b"{}".to_vec()),
    )
        .into_response()
}

fn error_response(status: StatusCode, message: String, field: Option<String>) -> Response {
    json_body(status, &json!({ "error": message, "field": field }))
}

fn platform_error(e: PlatformError) -> Response {
    let status = match e.kind {
        ErrorKind::Field => StatusCode::BAD_REQUEST,
        ErrorKind::Rule => StatusCode::CONFLICT,
        ErrorKind::Internal => StatusCode::INTERNAL_SERVER_ERROR,
    };
    if e.kind == ErrorKind::Internal {
        tracing::error!(error = %yibao_platform::mask(&e.message), "admin request failed in the platform");
    }
    error_response(status, e.message, e.field)
}

async fn ask(app: &AppState, request: AdminRequest) -> Response {
    match app.platform.admin(request).await {
        Ok(value) => json_body(StatusCode::OK, &value),
        Err(e) => platform_error(e),
    }
}

type Refusal = Box<Response>;

fn bad_request(field: Option<String>, message: String) -> Refusal {
    Box::new(error_response(StatusCode::BAD_REQUEST, message, field))
}

/// The first name between backquotes in a serde message (`missing field `x``).
fn quoted(message: &str) -> Option<&str> {
    let start = message.find('`')? + 1;
    let len = message[start..].find('`')?;
    Some(&message[start..start + len])
}

fn join_path(path: &str, name: &str) -> String {
    if path.is_empty() || path == "." {
        name.to_owned()
    } else {
        format!("{path}.{name}")
    }
}

/// Reads a JSON body into `T`; a refusal names the field at fault.
fn parse_body<T: DeserializeOwned>(body: Result<Bytes, BytesRejection>) -> Result<T, Refusal> {
    let body = match body {
        Ok(body) => body,
        Err(rejection) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            return Err(Box::new(error_response(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("请求体超过上限{ADMIN_BODY_BYTES_MAX}字节"),
                None,
            )));
        }
        Err(rejection) => return Err(bad_request(None, format!("请求体读取失败({})", rejection.body_text()))),
    };
    let mut deserializer = serde_json::Deserializer::from_slice(&body);
    let value = serde_path_to_error::deserialize(&mut deserializer).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        let (line, column) = (inner.line(), inner.column());
        let text = inner.to_string();
        // serde_json appends the position; the message without it reads better.
        let detail = text
            .strip_suffix(&format!(" at line {line} column {column}"))
            .unwrap_or(&text)
            .to_owned();
        match inner.classify() {
            serde_json::error::Category::Syntax
            | serde_json::error::Category::Eof
            | serde_json::error::Category::Io => {
                bad_request(None, format!("请求体不是有效的JSON(第{line}行第{column}列: {detail})"))
            }
            serde_json::error::Category::Data => {
                if let Some(name) = detail.strip_prefix("missing field ").and_then(quoted) {
                    let field = join_path(&path, name);
                    bad_request(Some(field.clone()), format!("{field}: 缺少必填字段"))
                } else if let Some(name) = detail.strip_prefix("unknown field ").and_then(quoted) {
                    // The path already ends with the unknown field.
                    let field = if path == "." { name.to_owned() } else { path.clone() };
                    bad_request(Some(field.clone()), format!("{field}: 不认识的字段({detail})"))
                } else if let Some(variant) = detail.strip_prefix("unknown variant ").and_then(quoted) {
                    let field = if path == "." { None } else { Some(path.clone()) };
                    let shown = field.clone().unwrap_or_else(|| "请求体".into());
                    bad_request(field, format!("{shown}: 不认识的取值“{variant}”({detail})"))
                } else {
                    let field = if path == "." { None } else { Some(path.clone()) };
                    let shown = field.clone().unwrap_or_else(|| "请求体".into());
                    let detail = if detail.is_ascii() {
                        format!("类型或取值不正确({detail})")
                    } else {
                        detail
                    };
                    bad_request(field, format!("{shown}: {detail}"))
                }
            }
        }
    })?;
    // Nothing may follow the value.
    deserializer.end().map_err(|e| {
        bad_request(
            None,
            format!(
                "请求体不是有效的JSON(第{}行第{}列: JSON值之后还有内容)",
                e.line(),
                e.column()
            ),
        )
    })?;
    Ok(value)
}

/// The query parameters, each once; unknown names refused.
fn parse_query(query: Option<String>, known: &[&str]) -> Result<Vec<(String, String)>, Refusal> {
    let mut out: Vec<(String, String)> = Vec::new();
    let query = query.unwrap_or_default();
    if query.len() > 1024 {
        return Err(bad_request(None, "查询参数过长".into()));
    }
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        if !known.contains(&name) {
            let shown: String = name.chars().take(40).collect();
            return Err(bad_request(
                Some(shown.clone()),
                format!("{shown}: 不认识的查询参数(可用: {})", known.join(", ")),
            ));
        }
        if out.iter().any(|(n, _)| n == name) {
            return Err(bad_request(Some(name.to_owned()), format!("{name}: 查询参数重复")));
        }
        let value = percent_decode(value)
            .ok_or_else(|| bad_request(Some(name.to_owned()), format!("{name}: 查询参数的编码无效")))?;
        out.push((name.to_owned(), value));
    }
    Ok(out)
}

/// A query value with its `%XX` escapes (and `+` for a space) decoded; `None` if malformed.
fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}

fn required<'a>(params: &'a [(String, String)], name: &str, form: &str) -> Result<&'a str, Refusal> {
    params
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
        .filter(|v| !v.is_empty())
        .ok_or_else(|| bad_request(Some(name.to_owned()), format!("{name}: 缺少查询参数(应为{form})")))
}

fn query_date(params: &[(String, String)], name: &str) -> Result<NaiveDate, Refusal> {
    let text = required(params, name, "YYYY-MM-DD")?;
    NaiveDate::parse_from_str(text, "%Y-%m-%d").map_err(|_| {
        let shown: String = text.chars().take(20).collect();
        bad_request(Some(name.to_owned()), format!("{name}: “{shown}”应为日期YYYY-MM-DD"))
    })
}

fn respond(result: Result<Response, Refusal>) -> Response {
    result.unwrap_or_else(|refusal| *refusal)
}

// =============================================================================================
// Routes.

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RegisterEmployerBody {
    credit_code: String,
    name: String,
    registered_on: NaiveDate,
}

async fn register_employer(State(app): State<AppState>, body: Result<Bytes, BytesRejection>) -> Response {
    respond(
        async {
            let body: RegisterEmployerBody = parse_body(body)?;
            Ok(ask(
                &app,
                AdminRequest::RegisterEmployer {
                    credit_code: body.credit_code,
                    name: body.name,
                    registered_on: body.registered_on,
                },
            )
            .await)
        }
        .await,
    )
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ExecuteBody {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    wage_monthly: Option<Money>,
    command: Value,
}

/// Reads the enrolment command. It is an internally tagged enum, whose inner errors serde
/// reports without a path: the path is rebuilt from the message where it names a field.
fn parse_command(command: Value) -> Result<yibao_enrol::Command, Refusal> {
    serde_json::from_value(command).map_err(|e| {
        let detail = e.to_string();
        if let Some(name) = detail.strip_prefix("missing field ").and_then(quoted) {
            let field = format!("command.{name}");
            bad_request(Some(field.clone()), format!("{field}: 缺少必填字段"))
        } else if detail.starts_with("missing field `command`") || detail.contains("tag `command`") {
            bad_request(Some("command.command".into()), "command.command: 缺少命令名称".into())
        } else if let Some(variant) = detail.strip_prefix("unknown variant ").and_then(quoted) {
            bad_request(
                Some("command.command".into()),
                format!("command.command: 不认识的命令“{variant}”({detail})"),
            )
        } else if detail.is_ascii() {
            bad_request(Some("command".into()), format!("command: 类型或取值不正确({detail})"))
        } else {
            bad_request(Some("command".into()), format!("command: {detail}"))
        }
    })
}

async fn execute(
    State(app): State<AppState>,
    UrlPath(certno): UrlPath<String>,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    respond(
        async {
            let body: ExecuteBody = parse_body(body)?;
            let command = parse_command(body.command)?;
            Ok(ask(
                &app,
                AdminRequest::Execute {
                    certno,
                    name: body.name,
                    wage_monthly: body.wage_monthly,
                    command,
                },
            )
            .await)
        }
        .await,
    )
}

async fn person(State(app): State<AppState>, UrlPath(certno): UrlPath<String>, RawQuery(query): RawQuery) -> Response {
    respond(
        async {
            parse_query(query, &[])?;
            Ok(ask(&app, AdminRequest::Person { certno }).await)
        }
        .await,
    )
}

async fn settlement(
    State(app): State<AppState>,
    UrlPath(settlement_id): UrlPath<String>,
    RawQuery(query): RawQuery,
) -> Response {
    respond(
        async {
            parse_query(query, &[])?;
            Ok(ask(&app, AdminRequest::Settlement { settlement_id }).await)
        }
        .await,
    )
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OpenCaseBody {
    suspicions: Vec<String>,
    note: String,
}

async fn open_case(
    State(app): State<AppState>,
    Extension(staff): Extension<Staff>,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    ask_with_body(&app, body, |b: OpenCaseBody| AdminRequest::OpenCase {
        staff,
        suspicions: b.suspicions,
        note: b.note,
    })
    .await
}

async fn case(State(app): State<AppState>, UrlPath(case_id): UrlPath<String>, RawQuery(query): RawQuery) -> Response {
    respond(
        async {
            parse_query(query, &[])?;
            Ok(ask(&app, AdminRequest::Case { case_id }).await)
        }
        .await,
    )
}

async fn case_step(
    State(app): State<AppState>,
    Extension(staff): Extension<Staff>,
    UrlPath(case_id): UrlPath<String>,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    ask_with_body(&app, body, |step: StepRequest| AdminRequest::CaseStep {
        staff,
        case_id,
        step,
    })
    .await
}

async fn doctor_points(
    State(app): State<AppState>,
    UrlPath(doctor): UrlPath<String>,
    RawQuery(query): RawQuery,
) -> Response {
    respond(
        async {
            let year = query_year(query)?;
            Ok(ask(&app, AdminRequest::DoctorPoints { doctor, year }).await)
        }
        .await,
    )
}

async fn institution_credit(
    State(app): State<AppState>,
    UrlPath(institution): UrlPath<String>,
    RawQuery(query): RawQuery,
) -> Response {
    respond(
        async {
            let year = query_year(query)?;
            Ok(ask(&app, AdminRequest::InstitutionCredit { institution, year }).await)
        }
        .await,
    )
}

async fn coverage(
    State(app): State<AppState>,
    UrlPath(certno): UrlPath<String>,
    RawQuery(query): RawQuery,
) -> Response {
    respond(
        async {
            let params = parse_query(query, &["insutype", "date"])?;
            let insutype = required(&params, "insutype", "险种类型代码, 如310")?;
            let insurance = InsuranceType::parse(insutype)
                .map_err(|e| bad_request(Some("insutype".into()), format!("insutype: {e}")))?;
            let date = query_date(&params, "date")?;
            Ok(ask(
                &app,
                AdminRequest::Coverage {
                    certno,
                    insurance,
                    date,
                },
            )
            .await)
        }
        .await,
    )
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ResidentContributionBody {
    paid_on: NaiveDate,
}

async fn resident_contribution(
    State(app): State<AppState>,
    UrlPath(certno): UrlPath<String>,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    ask_with_body(&app, body, |b: ResidentContributionBody| {
        AdminRequest::ResidentContribution {
            certno,
            paid_on: b.paid_on,
        }
    })
    .await
}

/// Answers a request whose JSON body (`B`, unknown fields refused) makes the admin request.
async fn ask_with_body<B: serde::de::DeserializeOwned>(
    app: &AppState,
    body: Result<Bytes, BytesRejection>,
    make: impl FnOnce(B) -> AdminRequest,
) -> Response {
    respond(
        async {
            let body: B = parse_body(body)?;
            Ok(ask(app, make(body)).await)
        }
        .await,
    )
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ContributionRunBody {
    month: String,
}

async fn contribution_run(State(app): State<AppState>, body: Result<Bytes, BytesRejection>) -> Response {
    ask_with_body(&app, body, |b: ContributionRunBody| AdminRequest::ContributionRun {
        month: b.month,
    })
    .await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ClosePeriodBody {
    period: String,
}

async fn close_period(State(app): State<AppState>, body: Result<Bytes, BytesRejection>) -> Response {
    ask_with_body(&app, body, |b: ClosePeriodBody| AdminRequest::ClosePeriod {
        period: b.period,
    })
    .await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EmployerArrearsBody {
    from_month: String,
}

async fn employer_arrears(
    State(app): State<AppState>,
    UrlPath(credit_code): UrlPath<String>,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    ask_with_body(&app, body, |b: EmployerArrearsBody| AdminRequest::EmployerArrears {
        credit_code,
        from_month: b.from_month,
    })
    .await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BackPayBody {
    paid_on: NaiveDate,
}

async fn employer_back_pay(
    State(app): State<AppState>,
    UrlPath(credit_code): UrlPath<String>,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    ask_with_body(&app, body, |b: BackPayBody| AdminRequest::EmployerBackPay {
        credit_code,
        paid_on: b.paid_on,
    })
    .await
}

async fn arrears_check(State(app): State<AppState>, body: Result<Bytes, BytesRejection>) -> Response {
    // The same body as a contribution run: the month.
    ask_with_body(&app, body, |b: ContributionRunBody| AdminRequest::ArrearsCheck {
        month: b.month,
    })
    .await
}

/// The only query parameter `year`: a four-digit year (`?year=2026`).
fn query_year(query: Option<String>) -> Result<i32, Refusal> {
    let params = parse_query(query, &["year"])?;
    let text = required(&params, "year", "四位年度, 如2026")?;
    text.parse()
        .ok()
        .filter(|_| text.len() == 4 && text.bytes().all(|b| b.is_ascii_digit()))
        .ok_or_else(|| {
            let shown: String = text.chars().take(20).collect();
            bad_request(Some("year".into()), format!("year: “{shown}”应为四位年度"))
        })
}

async fn indicators(State(app): State<AppState>, RawQuery(query): RawQuery) -> Response {
    respond(
        async {
            let year = query_year(query)?;
            Ok(ask(&app, AdminRequest::Indicators { year }).await)
        }
        .await,
    )
}

async fn openapi() -> Response {
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/json;charset=UTF-8")],
        OPENAPI_JSON,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_openapi_description_lists_exactly_the_routes() {
        let doc: Value = serde_json::from_str(OPENAPI_JSON).expect("the OpenAPI description is JSON");
        assert!(doc["openapi"].as_str().is_some_and(|v| v.starts_with("3.1")));
        let paths = doc["paths"].as_object().expect("paths");
        let mut described: Vec<(String, String)> = Vec::new();
        for (path, item) in paths {
            for (method, _) in item.as_object().expect("path item") {
                if ["get", "post", "put", "patch", "delete"].contains(&method.as_str()) {
                    described.push((method.to_uppercase(), path.clone()));
                }
            }
        }
        let mut routed: Vec<(String, String)> = ADMIN_ROUTES
            .iter()
            .map(|(m, p)| ((*m).to_owned(), (*p).to_owned()))
            .collect();
        described.sort();
        routed.sort();
        assert_eq!(described, routed);
        // The router nests them under the prefix: each must begin with it.
        for (_, path) in ADMIN_ROUTES {
            assert!(path.starts_with(&format!("{ADMIN_PREFIX}/")), "{path}");
        }
    }

    #[test]
    fn tokens_are_checked_in_constant_time_on_digests() {
        let access = AdminAccess::token("0123456789abcdef-token\n").unwrap();
        let mut headers = HeaderMap::new();
        assert_eq!(access.check(&headers).unwrap_err().status(), StatusCode::UNAUTHORIZED);
        headers.insert(header::AUTHORIZATION, "Bearer 0123456789abcdef-token".parse().unwrap());
        assert!(access.check(&headers).is_ok());
        headers.insert(header::AUTHORIZATION, "bearer 0123456789abcdef-token".parse().unwrap());
        assert!(access.check(&headers).is_ok());
        headers.insert(header::AUTHORIZATION, "Bearer 0123456789abcdef-tokeN".parse().unwrap());
        assert_eq!(access.check(&headers).unwrap_err().status(), StatusCode::UNAUTHORIZED);
        headers.insert(header::AUTHORIZATION, "Basic 0123456789abcdef-token".parse().unwrap());
        assert_eq!(access.check(&headers).unwrap_err().status(), StatusCode::UNAUTHORIZED);
        assert_eq!(
            AdminAccess::Disabled.check(&headers).unwrap_err().status(),
            StatusCode::FORBIDDEN
        );
        assert!(AdminAccess::Open.check(&HeaderMap::new()).is_ok());
        assert!(AdminAccess::token("short").is_err());
        assert!(AdminAccess::token("0123456789abcdef token").is_err());
        assert!(!format!("{access:?}").contains("0123"));
    }

    #[test]
    fn commands_read_with_numbers_inside_the_tagged_enum() {
        let command = parse_command(json!({
            "command": "enrol", "insurance": "390", "region": "500000", "employer": null,
            "kind": "adult_resident", "tier": 1, "county_class": "district_county", "applied_on": "2026-01-15"
        }))
        .unwrap_or_else(|r| panic!("{:?}", r.status()));
        let yibao_enrol::Command::Enrol(e) = command else {
            panic!("not an enrolment")
        };
        assert_eq!(e.tier, Some(yibao_codes::Tier::One));
        let refused = parse_command(json!({"command": "enrol", "insurance": "390"})).unwrap_err();
        assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    }

    #[test]
    fn query_values_are_decoded() {
        assert_eq!(percent_decode("2026-06-01").as_deref(), Some("2026-06-01"));
        assert_eq!(percent_decode("%33%31%30").as_deref(), Some("310"));
        assert_eq!(percent_decode("%E8%81%8C+x").as_deref(), Some("职 x"));
        assert_eq!(percent_decode("%3"), None);
        assert_eq!(percent_decode("%FF"), None);
        let params = parse_query(Some("insutype=%33%31%30&date=2026-06-01".into()), &["insutype", "date"])
            .unwrap_or_else(|_| panic!("refused"));
        assert_eq!(params[0].1, "310");
        assert!(parse_query(Some("year=1&year=2".into()), &["year"]).is_err());
        assert!(parse_query(Some("month=1".into()), &["year"]).is_err());
    }

    #[test]
    fn body_errors_name_the_field() {
        let bytes = |s: &str| Ok(Bytes::from(s.to_owned()));
        let field = |r: Refusal| {
            let body = futures_body(*r);
            body["field"].as_str().map(str::to_owned)
        };
        let r = parse_body::<ResidentContributionBody>(bytes(r#"{"paid_on": 5}"#))
            .err()
            .unwrap();
        assert_eq!(field(r), Some("paid_on".into()));
        let r = parse_body::<ResidentContributionBody>(bytes(r#"{}"#)).err().unwrap();
        assert_eq!(field(r), Some("paid_on".into()));
        let r = parse_body::<ResidentContributionBody>(bytes(r#"{"paid_on":"2026-01-01","x":1}"#))
            .err()
            .unwrap();
        assert_eq!(field(r), Some("x".into()));
        let r = parse_body::<ResidentContributionBody>(bytes(r#"{"paid_on":"#))
            .err()
            .unwrap();
        assert_eq!(field(r), None);
        let r = parse_body::<ExecuteBody>(bytes(r#"{"wage_monthly":"abc","command":{}}"#))
            .err()
            .unwrap();
        assert_eq!(field(r), Some("wage_monthly".into()));
    }

    fn futures_body(response: Response) -> Value {
        let body = response.into_body();
        let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
        let bytes = runtime.block_on(axum::body::to_bytes(body, usize::MAX)).expect("body");
        serde_json::from_slice(&bytes).expect("JSON body")
    }
}

// =============================================================================================
// Designated institutions (定点医药机构) and their interface credentials.

/// The longest `paas_id` (`x-tif-paasid`, `_api_access_key`, OAuth2 client id) accepted: the
/// gateways' header limit.
pub const PAAS_ID_CHARS_MAX: usize = 128;
/// The shortest and longest interface secret accepted.
pub const SECRET_CHARS_MIN: usize = 8;
pub const SECRET_CHARS_MAX: usize = 128;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct InstitutionBody {
    name: String,
    hosp_lv: String,
    admdvs: String,
    paas_id: String,
    secret: String,
    #[serde(default = "active_by_default")]
    active: bool,
}

fn active_by_default() -> bool {
    true
}

/// An institution as the list shows it: everything but the secret.
fn institution_view(i: &yibao_store::InstitutionRecord) -> Value {
    json!({
        "code": i.code, "name": i.name, "hosp_lv": i.hosp_lv, "admdvs": i.admdvs,
        "paas_id": i.paas_id, "active": i.active,
    })
}

/// The record a registration asks for, or the field it gets wrong.
fn institution_record(code: &str, b: InstitutionBody) -> Result<yibao_store::InstitutionRecord, Refusal> {
    let field = |name: &str, message: String| bad_request(Some(name.to_owned()), message);
    let bytes = code.as_bytes();
    if bytes.len() != 12 || !matches!(bytes[0], b'H' | b'P') || !bytes[1..].iter().all(u8::is_ascii_digit) {
        return Err(field(
            "code",
            "定点医药机构编号应为H(医疗机构)或P(药店)加11位数字,如H50010200001".into(),
        ));
    }
    let name = b.name.trim();
    if name.is_empty() || name.chars().count() > 200 || name.chars().any(char::is_control) {
        return Err(field("name", "机构名称应为1至200个字符,不含控制字符".into()));
    }
    let level_ok = b.hosp_lv.len() == 2
        && b.hosp_lv.bytes().all(|c| c.is_ascii_digit())
        && (1..=14).contains(&b.hosp_lv.parse::<u8>().unwrap_or(0));
    if !level_ok {
        return Err(field("hosp_lv", "医院等级应为01至14的两位代码(药店为11)".into()));
    }
    if b.admdvs.len() != 6 || !b.admdvs.bytes().all(|c| c.is_ascii_digit()) {
        return Err(field("admdvs", "医保区划应为6位数字".into()));
    }
    let visible = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_graphic());
    if !visible(&b.paas_id) || b.paas_id.len() > PAAS_ID_CHARS_MAX {
        return Err(field(
            "paas_id",
            format!("接入标识应为1至{PAAS_ID_CHARS_MAX}个可见ASCII字符"),
        ));
    }
    if !visible(&b.secret) || !(SECRET_CHARS_MIN..=SECRET_CHARS_MAX).contains(&b.secret.len()) {
        return Err(field(
            "secret",
            format!("接入密钥应为{SECRET_CHARS_MIN}至{SECRET_CHARS_MAX}个可见ASCII字符"),
        ));
    }
    Ok(yibao_store::InstitutionRecord {
        code: code.to_owned(),
        name: name.to_owned(),
        hosp_lv: b.hosp_lv,
        admdvs: b.admdvs,
        paas_id: b.paas_id,
        secret: b.secret,
        active: b.active,
    })
}

/// `GET /admin/api/institutions`: every registered institution, in code order, without secrets.
async fn list_institutions(State(app): State<AppState>) -> Response {
    match app.platform.institutions().await {
        Ok(mut list) => {
            list.sort_by(|a, b| a.code.cmp(&b.code));
            let rows: Vec<Value> = list.iter().map(institution_view).collect();
            json_body(StatusCode::OK, &json!({ "institutions": rows }))
        }
        Err(e) => platform_error(e),
    }
}

/// Registrations one at a time: the `paas_id` check, the write and the refresh of the
/// verifier's credentials happen together, so two registrations cannot both take one `paas_id`,
/// and an earlier list of institutions is never installed over a later one (a rotated secret
/// would come back). The store's unique index on `paas_id` refuses a duplicate as well.
static REGISTRATION: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// `PUT /admin/api/institutions/{code}`: registers an institution or replaces its details,
/// credentials and status. Its requests are authenticated with the new credentials as soon as
/// the answer arrives (tokens issued before stay valid unless the secret changed or the
/// institution was suspended). A `paas_id` may belong to one institution only.
async fn register_institution(
    State(app): State<AppState>,
    UrlPath(code): UrlPath<String>,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    respond(
        async {
            let body: InstitutionBody = parse_body(body)?;
            let record = institution_record(&code, body)?;
            let _registration = REGISTRATION.lock().await;
            let existing = app
                .platform
                .institutions()
                .await
                .map_err(|e| Box::new(platform_error(e)))?;
            if let Some(other) = existing
                .iter()
                .find(|i| i.paas_id == record.paas_id && i.code != record.code)
            {
                return Err(Box::new(error_response(
                    StatusCode::CONFLICT,
                    format!("接入标识{}已由机构{}使用", record.paas_id, other.code),
                    Some("paas_id".into()),
                )));
            }
            let created = !existing.iter().any(|i| i.code == record.code);
            let view = institution_view(&record);
            // The list the verifier gets once the record is durable: registrations are the only
            // writers of institutions and run one at a time, so it is `existing` with this one.
            // The store keeps the secret sealed; the verifier gets it in the clear.
            let internal = |e: String| Box::new(error_response(StatusCode::INTERNAL_SERVER_ERROR, e, None));
            let others: Vec<_> = existing.into_iter().filter(|i| i.code != record.code).collect();
            let (mut institutions, _) = app.keys.open_all(others).map_err(internal)?;
            institutions.push(record.clone());
            let sealed = yibao_store::InstitutionRecord {
                secret: app.keys.seal(&record.code, &record.secret).map_err(internal)?,
                ..record
            };
            app.platform
                .upsert_institutions(vec![sealed])
                .await
                .map_err(|e| Box::new(platform_error(e)))?;
            // The new credentials take effect for the next request.
            if let Some(credentials) = &app.credentials {
                credentials
                    .write()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .replace_institutions(institutions);
            }
            let status = if created { StatusCode::CREATED } else { StatusCode::OK };
            Ok(json_body(status, &json!({ "institution": view })))
        }
        .await,
    )
}
