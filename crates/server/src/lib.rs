//! The HTTP service. It speaks the national interface at
//! `POST /fsi/api/rsfComIfsService/callService` and `…/callService/{infno}`, authenticates
//! institutions, parses envelopes on the request threads, and hands each transaction to the
//! platform thread (`yibao-platform`), which answers after the batch it joined is committed.
//! The JSON admin API (enrolment, contributions, indicators) is served under `/admin/api`
//! ([`admin`]).

pub mod admin;
mod auth;
pub mod demo;

pub use admin::{AdminAccess, ADMIN_PREFIX};
pub use auth::{sign, Credentials, SIGNATURE_SKEW_SECONDS_MAX};

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
use yibao_platform::{NationalRequest, Platform, Refusal};

/// Where the national interface is served.
pub const NATIONAL_PATH: &str = "/fsi/api/rsfComIfsService/callService";

#[derive(Clone)]
pub struct AppState {
    pub platform: Platform,
    /// `None` when authentication is off (development only).
    pub credentials: Option<Arc<RwLock<Credentials>>>,
    /// Who may use the admin API (`/admin/api`).
    pub admin: AdminAccess,
}

pub fn router(state: AppState) -> Router {
    Router::new()
        .route(NATIONAL_PATH, post(call_service))
        .route(&format!("{NATIONAL_PATH}/{{infno}}"), post(call_service_with_infno))
        .route("/health", get(|| async { "ok" }))
        .layer(DefaultBodyLimit::max(ENVELOPE_BYTES_MAX))
        // Added after the layer above: the admin routes have their own limit and guard.
        .nest(ADMIN_PREFIX, admin::router(state.clone()))
        .with_state(state)
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
    let refuse = |msgid: &str, infno: &str, institution: &str, message: String| {
        let platform = app.platform.clone();
        let refusal = Refusal {
            msgid: msgid.chars().take(30).collect(),
            infno: infno.chars().take(8).collect(),
            institution: institution.chars().take(30).collect(),
            message: message.clone(),
            started,
        };
        let body =
            yibao_fsi::Response::error(String::new(), received_at, yibao_platform::now(), &message).to_json_bytes();
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
            return refuse("", path_infno.as_deref().unwrap_or(""), "", message).await;
        }
    };
    let envelope = match parse_envelope(&body, path_infno.as_deref()) {
        Ok(e) => e,
        Err(e) => return refuse("", path_infno.as_deref().unwrap_or(""), "", e.to_string()).await,
    };
    if let Some(credentials) = &app.credentials {
        let verdict = {
            let credentials = credentials.read().expect("credentials lock");
            credentials
                .verify(&headers, chrono::Utc::now().timestamp())
                .map(|institution| institution.code.clone())
        };
        match verdict {
            Ok(code) if code == envelope.fixmedins_code => {}
            Ok(code) => {
                let message = format!(
                    "fixmedins_code: 报文中的机构编号{}与签名机构{code}不符",
                    envelope.fixmedins_code
                );
                return refuse(&envelope.msgid, &envelope.infno, &envelope.fixmedins_code, message).await;
            }
            Err(message) => {
                return refuse(&envelope.msgid, &envelope.infno, &envelope.fixmedins_code, message).await;
            }
        }
    }
    let input = match TransactionInput::parse(&envelope.infno, &envelope.input) {
        Ok(i) => i,
        Err(e) => {
            return refuse(
                &envelope.msgid,
                &envelope.infno,
                &envelope.fixmedins_code,
                e.to_string(),
            )
            .await
        }
    };
    let request = NationalRequest {
        envelope,
        input,
        received_at,
        started,
    };
    match app.platform.national(request).await {
        Ok(body) => json_response(body),
        Err(e) => {
            let body = yibao_fsi::Response::error(String::new(), received_at, yibao_platform::now(), &e.to_string());
            json_response(body.to_json_bytes())
        }
    }
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
