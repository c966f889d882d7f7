//! The HTTP service. It speaks the national interface at
//! `POST /fsi/api/rsfComIfsService/callService` and `…/callService/{infno}`, authenticates
//! institutions, parses envelopes on the request threads, and hands each transaction to the
//! platform thread (`yibao-platform`), which answers after the batch it joined is committed.
//! The JSON admin API (enrolment, contributions, indicators) is served under `/admin/api`
//! ([`admin`]).
// As in yibao-fsi: this crate takes outside input, and since a panic anywhere ends the process
// (the binary aborts on panic), no input may reach an `unwrap`, `expect` or `panic!`. Asserts
// of invariants stay: those are meant to stop the process.
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::float_arithmetic)
)]

pub mod admin;
mod auth;
pub mod demo;
pub mod secrets;

pub use admin::{AdminAccess, StaffTokens, ADMIN_PREFIX};
pub use auth::{
    oauth_token, sign, sign_api, AuthRefusal, Credentials, OAuthError, TokenGrant, Verified, AUTH_REFUSED,
    NONCES_LIVE_MAX, NONCES_PER_INSTITUTION_MAX, OAUTH_FORM_BYTES_MAX, SIGNATURE_SKEW_SECONDS_MAX, TOKENS_LIVE_MAX,
    TOKENS_PER_INSTITUTION_MAX, TOKEN_LIFETIME_SECONDS,
};
pub use secrets::SecretKeys;

use std::net::SocketAddr;
use std::sync::{Arc, RwLock};
use std::time::Instant;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use yibao_fsi::{parse_envelope, TransactionInput, ENVELOPE_BYTES_MAX};
use yibao_platform::exchange::DownloadedFile;
use yibao_platform::{NationalAnswer, NationalRequest, Platform, Refusal};

/// Where the national interface is served.
pub const NATIONAL_PATH: &str = "/fsi/api/rsfComIfsService/callService";

#[derive(Clone)]
pub struct AppState {
    pub platform: Platform,
    /// `None` when authentication is off (development only).
    pub credentials: Option<Arc<RwLock<Credentials>>>,
    /// Who may use the admin API (`/admin/api`).
    pub admin: AdminAccess,
    /// Staff members' tokens, for the supervision routes (cases, doctors' points).
    pub staff: Arc<StaffTokens>,
    /// The keys that seal institution secrets in the store ([`secrets`]).
    pub keys: Arc<SecretKeys>,
}

pub fn router(state: AppState) -> Router {
    Router::new()
        .route(NATIONAL_PATH, post(call_service))
        .route(&format!("{NATIONAL_PATH}/{{infno}}"), post(call_service_with_infno))
        .route("/health", get(health))
        .route("/auth/oauth/token", post(auth::oauth_token))
        .layer(DefaultBodyLimit::max(ENVELOPE_BYTES_MAX))
        // Added after the layer above: the admin routes have their own limit and guard.
        .nest(ADMIN_PREFIX, admin::router(state.clone()))
        .with_state(state)
}

/// How long `/health` waits for the platform thread to answer its probe.
pub const HEALTH_PROBE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(2);

/// `GET /health`: 200 `{"status":"ok",…}` while the platform thread and the commit thread run and
/// a probe through the platform is answered within [`HEALTH_PROBE_TIMEOUT`] (which needs the
/// batch before it durable); 503 `{"status":"unavailable",…}` otherwise, so that a supervisor or
/// load balancer takes a wedged or half-dead process out and restarts it. The body says which
/// part failed and how long ago the last commit was.
async fn health(State(app): State<AppState>) -> Response {
    let answered = tokio::time::timeout(HEALTH_PROBE_TIMEOUT, app.platform.ping()).await;
    let responsive = matches!(answered, Ok(Ok(())));
    let h = app.platform.health();
    let ok = responsive && h.platform_thread && h.commit_thread;
    let alive = |yes: bool| if yes { "alive" } else { "stopped" };
    let body = serde_json::json!({
        "status": if ok { "ok" } else { "unavailable" },
        "platform_thread": alive(h.platform_thread),
        "commit_thread": alive(h.commit_thread),
        "platform_answers": responsive,
        "last_commit_age_ms": h.last_commit_age_ms,
    });
    let status = if ok {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (
        status,
        [(header::CONTENT_TYPE, "application/json;charset=UTF-8")],
        body.to_string(),
    )
        .into_response()
}

// The body is taken as a `Result` so that a refused body (over the size limit) is answered in
// the interface's form like every other refusal, not with axum's plain-text 413.
async fn call_service(
    State(app): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    national(app, headers, None, body).await
}

async fn call_service_with_infno(
    State(app): State<AppState>,
    Path(infno): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    national(app, headers, Some(infno), body).await
}

fn json_response(body: Vec<u8>) -> Response {
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/json;charset=UTF-8")],
        body,
    )
        .into_response()
}

async fn national(
    app: AppState,
    headers: HeaderMap,
    path_infno: Option<String>,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let started = Instant::now();
    let received_at = yibao_platform::now();
    // `told` is answered; `audit` is what the audit log keeps (an authentication refusal tells
    // the caller less than it records).
    let refuse = |msgid: &str, infno: &str, institution: &str, told: String, audit: String| {
        let platform = app.platform.clone();
        let refusal = Refusal {
            msgid: msgid.chars().take(30).collect(),
            infno: infno.chars().take(8).collect(),
            institution: institution.chars().take(30).collect(),
            message: audit,
            started,
        };
        let body = yibao_fsi::Response::error(String::new(), received_at, yibao_platform::now(), &told).to_json_bytes();
        async move {
            platform.refused(refusal).await;
            json_response(body)
        }
    };
    let body = match body {
        Ok(body) => body,
        Err(rejection) => {
            let message = if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                format!("body: 报文长度超过上限{ENVELOPE_BYTES_MAX}字节")
            } else {
                format!("body: 报文读取失败({})", rejection.body_text())
            };
            return refuse("", path_infno.as_deref().unwrap_or(""), "", message.clone(), message).await;
        }
    };
    // 9101 may come as a multipart form: the envelope in part `jsonStr`, the file in another.
    let form = match multipart_boundary(&headers) {
        Some(boundary) => match read_upload_form(body.clone(), boundary).await {
            Ok(form) => Some(form),
            Err(message) => return refuse("", path_infno.as_deref().unwrap_or(""), "", message.clone(), message).await,
        },
        None => None,
    };
    let envelope_bytes = form.as_ref().map_or(&body[..], |f| &f.envelope[..]);
    let envelope = match parse_envelope(envelope_bytes, path_infno.as_deref()) {
        Ok(e) => e,
        Err(e) => {
            let message = e.to_string();
            return refuse("", path_infno.as_deref().unwrap_or(""), "", message.clone(), message).await;
        }
    };
    if let Some(credentials) = &app.credentials {
        let verdict = {
            // No writer panics while holding it (a panic ends the process), so a poisoned lock
            // holds whole credentials: take them.
            let credentials = credentials.read().unwrap_or_else(std::sync::PoisonError::into_inner);
            credentials
                .verify(&headers, chrono::Utc::now().timestamp())
                .map(|v| (v.institution.code.clone(), v.signed_infno))
        };
        let refusal = match verdict {
            Ok((code, _)) if code != envelope.fixmedins_code => Some(format!(
                "fixmedins_code: 报文中的机构编号{}与签名机构{code}不符",
                envelope.fixmedins_code
            )),
            // A scheme that signs the transaction's name binds the signature to it: one made
            // for 1101 does not authorize a 5203.
            Ok((_, Some(signed))) if signed != envelope.infno => Some(format!(
                "_api_name: 签名的交易{signed}与报文的交易编号{}不符",
                envelope.infno
            )),
            Ok(_) => None,
            Err(refusal) => {
                return refuse(
                    &envelope.msgid,
                    &envelope.infno,
                    &envelope.fixmedins_code,
                    refusal.told,
                    refusal.audit,
                )
                .await;
            }
        };
        if let Some(message) = refusal {
            return refuse(
                &envelope.msgid,
                &envelope.infno,
                &envelope.fixmedins_code,
                message.clone(),
                message,
            )
            .await;
        }
    }
    // What names this request for msgid replay: its infno, its input and any file beside it.
    let input_digest = yibao_fsi::request_digest(
        &envelope.infno,
        &envelope.input,
        form.as_ref().map_or(&[][..], |f| &f.file[..]),
    );
    let parsed = match form {
        Some(form) => upload_input(&envelope, form),
        None => TransactionInput::parse(&envelope.infno, &envelope.input),
    };
    let input = match parsed {
        Ok(i) => i,
        Err(e) => {
            let message = e.to_string();
            return refuse(
                &envelope.msgid,
                &envelope.infno,
                &envelope.fixmedins_code,
                message.clone(),
                message,
            )
            .await;
        }
    };
    // The typed input is all the platform reads: the raw JSON tree is dropped here, on a
    // request thread, instead of on the one platform thread that every request passes through.
    let mut envelope = envelope;
    envelope.input = serde_json::Value::Null;
    let request = NationalRequest {
        envelope,
        input,
        received_at,
        started,
        input_digest,
    };
    match app.platform.national(request).await {
        Ok(NationalAnswer::Json(body)) => json_response(body),
        Ok(NationalAnswer::File(file)) => file_response(file),
        Err(e) => {
            let body = yibao_fsi::Response::error(String::new(), received_at, yibao_platform::now(), &e.to_string());
            json_response(body.to_json_bytes())
        }
    }
}

/// A 9102 answer: the file, as the national gateways send it.
fn file_response(file: DownloadedFile) -> Response {
    // `filename` must be plain ASCII in the header; the exact name goes in `filename*` (RFC 6266).
    let ascii: String = file
        .filename
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() && c != '"' && c != '\\' {
                c
            } else {
                '_'
            }
        })
        .collect();
    // RFC 5987 `attr-char`s stay as they are; every other byte is percent-encoded.
    const NOT_ATTR_CHAR: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'.')
        .remove(b'_')
        .remove(b'~');
    let encoded = percent_encoding::utf8_percent_encode(&file.filename, NOT_ATTR_CHAR);
    let disposition = format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}");
    (
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, "application/octet-stream".to_owned()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        file.bytes,
    )
        .into_response()
}

/// The most parts a 9101 form may have (the envelope, the file, and a few a client adds).
const FORM_PARTS_MAX: usize = 8;

/// A 9101 multipart form: the envelope's JSON and the file with the name its part gave.
struct UploadForm {
    envelope: Bytes,
    file: Vec<u8>,
    part_filename: Option<String>,
}

fn multipart_boundary(headers: &HeaderMap) -> Option<String> {
    let content_type = headers.get(header::CONTENT_TYPE)?.to_str().ok()?;
    if !content_type.to_ascii_lowercase().starts_with("multipart/form-data") {
        return None;
    }
    multer::parse_boundary(content_type).ok()
}

/// Reads the parts of a 9101 form. The envelope is the part `jsonStr`; the file is the part
/// `file` or `in` (both names are seen in clients). The whole body is already within the
/// interface's size limit.
async fn read_upload_form(body: Bytes, boundary: String) -> Result<UploadForm, String> {
    let stream = futures_util::stream::once(async move { Ok::<Bytes, std::convert::Infallible>(body) });
    let mut form = multer::Multipart::new(stream, boundary);
    let (mut envelope, mut file, mut part_filename) = (None, None, None);
    let mut parts = 0;
    loop {
        let field = match form.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => break,
            Err(e) => return Err(format!("body: multipart表单格式错误({e})")),
        };
        parts += 1;
        if parts > FORM_PARTS_MAX {
            return Err(format!("body: multipart表单超过{FORM_PARTS_MAX}个部分"));
        }
        let name = field.name().unwrap_or("").to_owned();
        // Browsers and some clients send the whole client-side path (`C:\\HIS\\200.zip`).
        let filename = field
            .file_name()
            .map(|name| name.rsplit(['/', '\\']).next().unwrap_or(name).to_owned());
        let bytes = field
            .bytes()
            .await
            .map_err(|e| format!("body: multipart表单读取失败({e})"))?;
        match name.as_str() {
            "jsonStr" => envelope = Some(bytes),
            "file" | "in" => {
                file = Some(bytes.to_vec());
                part_filename = filename;
            }
            _ => {}
        }
    }
    Ok(UploadForm {
        envelope: envelope.ok_or("body.jsonStr: multipart表单缺少报文部分jsonStr")?,
        file: file.ok_or("body.file: multipart表单缺少文件部分file(或in)")?,
        part_filename,
    })
}

/// The 9101 input of a form: the file from its part, the name from the envelope's
/// `fsUploadIn.filename` or else the part's file name.
fn upload_input(envelope: &yibao_fsi::Envelope, form: UploadForm) -> Result<TransactionInput, yibao_fsi::FsiError> {
    if envelope.infno != "9101" {
        return Err(yibao_fsi::FsiError::new(
            "infno",
            format!("multipart表单只用于9101文件上传,不能用于{}", envelope.infno),
        ));
    }
    let node = envelope.input.get("fsUploadIn");
    let text = |name: &str| {
        node.and_then(|n| n.get(name))
            .and_then(|v| v.as_str())
            .filter(|v| !v.is_empty() && *v != "null")
            .map(str::to_owned)
    };
    let filename = text("filename")
        .or(form.part_filename)
        .ok_or_else(|| yibao_fsi::FsiError::missing("input.fsUploadIn.filename"))?;
    let input = yibao_fsi::Input9101::new(
        form.file,
        &filename,
        text("fixmedins_code"),
        "input.fsUploadIn.filename",
    )?;
    Ok(TransactionInput::FileUpload(input))
}

/// Runs the service until the process is stopped.
pub async fn serve(listen: SocketAddr, state: AppState) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind(listen).await?;
    tracing::info!(%listen, "national interface at http://{listen}{NATIONAL_PATH}");
    match &state.admin {
        AdminAccess::Disabled => tracing::info!(
            "admin API at http://{listen}{ADMIN_PREFIX} is disabled: no admin token (YIBAO_ADMIN_TOKEN or --admin-token-file)"
        ),
        AdminAccess::Open => tracing::warn!(
            "admin API at http://{listen}{ADMIN_PREFIX} is OPEN without a token (--no-auth): anyone can enrol, charge and read persons"
        ),
        AdminAccess::Token(_) => tracing::info!("admin API at http://{listen}{ADMIN_PREFIX} (bearer token)"),
    }
    axum::serve(listener, router(state)).await
}
