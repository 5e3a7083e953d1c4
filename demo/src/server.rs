//! The HTTPS server: routes, security headers, cross-site refusal, and the accept loop (tokio +
//! rustls + hyper HTTP/1.1), with time limits for slow clients: the TLS handshake, the request
//! headers (hyper closes the connection) and the request body (408).

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes, HttpBody as _};
use axum::extract::{ConnectInfo, DefaultBodyLimit, Request, State};
use axum::http::{header, HeaderValue, Method};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use eidlink_verifier::TokenVerifier;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio_rustls::TlsAcceptor;

use crate::api;
use crate::error::{ApiCode, ApiError, DemoError};
use crate::state::AppState;
use crate::tls::{server_identity, TlsSource};

/// Largest request body accepted (a token or a signature is a few kilobytes).
const BODY_LIMIT: usize = 64 * 1024;
/// A TLS handshake must finish within this time.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// Request headers must arrive within this time (also the longest a kept-alive connection idles).
pub const HEADER_TIMEOUT: Duration = Duration::from_secs(30);
/// A request body must have arrived this long after its headers (they are a few kilobytes).
pub const BODY_TIMEOUT: Duration = Duration::from_secs(10);
/// Connections served at once; more wait in the kernel's backlog.
const MAX_CONNECTIONS: usize = 256;

/// The Content-Security-Policy: only the site's own scripts, styles and connections; no inline
/// script, no framing.
pub const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; \
                       connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// How to run the service.
#[derive(Debug, Clone)]
pub struct Config {
    /// Address to listen on (port 0: any free port).
    pub listen: SocketAddr,
    /// The site origin tokens are bound to; default `https://localhost:<bound port>`.
    pub origin: Option<String>,
    /// Trusted CA certificates (each DER, or PEM with one or more certificates).
    pub trusted_cas: Vec<Vec<u8>>,
    /// Intermediate CA certificates that may complete a path (DER or PEM each).
    pub intermediates: Vec<Vec<u8>>,
    /// The HTTPS certificate.
    pub tls: TlsSource,
    /// The page ES module served at `/eidlink.js`.
    pub page_module: PathBuf,
}

/// `extension/page/eidlink.js` of the working directory if it exists, else the one of the source
/// tree this binary was built from.
pub fn default_page_module() -> PathBuf {
    let relative = PathBuf::from("extension/page/eidlink.js");
    if relative.is_file() {
        return relative;
    }
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../extension/page/eidlink.js"))
}

/// Every route of the site over `state`, request bodies read within [`BODY_TIMEOUT`].
pub fn router(state: Arc<AppState>) -> Router {
    router_with(state, BODY_TIMEOUT)
}

fn router_with(state: Arc<AppState>, body_timeout: Duration) -> Router {
    Router::new()
        .route("/", get(api::home))
        .route("/contract", get(api::contract))
        .route("/app.js", get(api::app_js))
        .route("/style.css", get(api::style_css))
        .route("/eidlink.js", get(api::eidlink_js))
        .route("/healthz", get(api::healthz))
        .route("/favicon.ico", get(api::favicon))
        .route("/api/auth/challenge", post(api::challenge))
        .route("/api/auth/login", post(api::login))
        .route("/api/auth/logout", post(api::logout))
        .route("/api/sign/prepare", post(api::prepare))
        .route("/api/sign/finish", post(api::finish))
        .route("/api/sign/download/{id}", get(api::download))
        .route("/api/last", get(api::last))
        .fallback(api::not_found)
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(middleware::from_fn_with_state(body_timeout, read_body_within))
        .layer(middleware::from_fn_with_state(state.clone(), same_origin_only))
        .layer(middleware::from_fn(security_headers))
        .with_state(state)
}

/// Refuses state-changing requests from another site: a POST whose `Origin` is not the site's
/// (browsers send it on every cross-origin and same-origin POST; non-browser clients may omit it), or
/// that the browser marks `Sec-Fetch-Site: cross-site`. With the SameSite=Strict cookie and the JSON
/// bodies (which need a CORS preflight the server never grants), this closes CSRF.
async fn same_origin_only(State(st): State<Arc<AppState>>, request: Request, next: Next) -> Response {
    if request.method() != Method::GET && request.method() != Method::HEAD {
        let headers = request.headers();
        let origin_ok = headers
            .get(header::ORIGIN)
            .is_none_or(|o| o.to_str().is_ok_and(|o| o == st.verifier.origin()));
        let cross_site = headers
            .get("sec-fetch-site")
            .is_some_and(|v| v.as_bytes() == b"cross-site");
        if !origin_ok || cross_site {
            return ApiError::new(ApiCode::BadOrigin, "cross-site request refused").into_response();
        }
    }
    next.run(request).await
}

/// Reads the whole request body (at most [`BODY_LIMIT`]) within `timeout` before the handler runs.
/// hyper bounds the time for the headers but not for the body, and a handler waiting for a body
/// holds its connection (of [`MAX_CONNECTIONS`]) as long as the client trickles it: a slow body is
/// answered 408 and the connection closed.
async fn read_body_within(State(timeout): State<Duration>, request: Request, next: Next) -> Response {
    let (parts, mut body) = request.into_parts();
    if body.is_end_stream() {
        return next.run(Request::from_parts(parts, body)).await;
    }
    let read = async {
        let mut bytes = Vec::new();
        while let Some(frame) = std::future::poll_fn(|cx| std::pin::Pin::new(&mut body).poll_frame(cx)).await {
            let frame = frame.map_err(|e| ApiError::new(ApiCode::BadRequest, format!("reading the body: {e}")))?;
            if let Ok(data) = frame.into_data() {
                if bytes.len() + data.len() > BODY_LIMIT {
                    return Err(ApiError::new(
                        ApiCode::BodyTooLarge,
                        format!("the request body is larger than {BODY_LIMIT} bytes"),
                    ));
                }
                bytes.extend_from_slice(&data);
            }
        }
        Ok(bytes)
    };
    let refused = match tokio::time::timeout(timeout, read).await {
        Ok(Ok(bytes)) => {
            return next
                .run(Request::from_parts(parts, Body::from(Bytes::from(bytes))))
                .await
        }
        Ok(Err(e)) => e,
        Err(_) => {
            tracing::debug!(path = %parts.uri.path(), "request body timed out");
            ApiError::new(
                ApiCode::RequestTimeout,
                format!("the request body did not arrive within {} s", timeout.as_secs_f32()),
            )
        }
    };
    // The rest of the body is not read: the connection cannot carry another request.
    let mut response = refused.into_response();
    response
        .headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    response
}

/// Security headers on every response.
async fn security_headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let h = response.headers_mut();
    h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert("cross-origin-opener-policy", HeaderValue::from_static("same-origin"));
    h.insert("cross-origin-resource-policy", HeaderValue::from_static("same-origin"));
    h.insert(
        "permissions-policy",
        HeaderValue::from_static("camera=(), microphone=(), geolocation=()"),
    );
    response
}

/// A bound, configured service, not yet serving.
pub struct Service {
    listener: TcpListener,
    acceptor: TlsAcceptor,
    state: Arc<AppState>,
    url: String,
    certificate_pem: String,
    header_timeout: Duration,
    body_timeout: Duration,
}

impl std::fmt::Debug for Service {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Service")
            .field("url", &self.url)
            .field("origin", &self.origin())
            .finish_non_exhaustive()
    }
}

impl Service {
    /// Opens the socket, loads or generates the certificate and configures the verifier.
    pub async fn bind(config: Config) -> Result<Service, DemoError> {
        let identity = server_identity(&config.tls)?;
        let listener = TcpListener::bind(config.listen)
            .await
            .map_err(|source| DemoError::Listen {
                addr: config.listen,
                source,
            })?;
        let local = listener.local_addr().map_err(|source| DemoError::Listen {
            addr: config.listen,
            source,
        })?;
        let port = local.port();
        let url = format!("https://localhost:{port}/");
        let origin = config.origin.unwrap_or_else(|| format!("https://localhost:{port}"));
        let mut builder = TokenVerifier::builder(&origin);
        for ca in &config.trusted_cas {
            builder = builder.trusted_cas(ca);
        }
        for ca in &config.intermediates {
            builder = builder.intermediates(ca);
        }
        let verifier = builder.build()?;
        if !config.page_module.is_file() {
            tracing::warn!(
                path = %config.page_module.display(),
                "the page module eidlink.js is missing: /eidlink.js answers 404 until it exists"
            );
        }
        let state = Arc::new(AppState::new(verifier, config.page_module));
        Ok(Service {
            listener,
            acceptor: TlsAcceptor::from(identity.config),
            state,
            url,
            certificate_pem: identity.certificate_pem,
            header_timeout: HEADER_TIMEOUT,
            body_timeout: BODY_TIMEOUT,
        })
    }

    /// Other limits than [`HEADER_TIMEOUT`] and [`BODY_TIMEOUT`] for slow clients (tests use short
    /// ones): the request headers must arrive within `headers`, a request body within `body` after
    /// its headers.
    pub fn with_request_timeouts(mut self, headers: Duration, body: Duration) -> Self {
        self.header_timeout = headers;
        self.body_timeout = body;
        self
    }

    /// `https://localhost:<port>/`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The origin tokens must be bound to.
    pub fn origin(&self) -> &str {
        self.state.verifier.origin()
    }

    /// The bound address.
    pub fn local_addr(&self) -> Option<SocketAddr> {
        self.listener.local_addr().ok()
    }

    /// PEM of the server's certificate (what a client trusts).
    pub fn certificate_pem(&self) -> &str {
        &self.certificate_pem
    }

    /// The shared state (sessions, history...).
    pub fn state(&self) -> Arc<AppState> {
        self.state.clone()
    }

    /// Serves until the process ends.
    pub async fn serve(self) -> Result<(), DemoError> {
        self.serve_until(std::future::pending()).await
    }

    /// Serves until `shutdown` completes; connections in progress are dropped then.
    pub async fn serve_until(self, shutdown: impl Future<Output = ()>) -> Result<(), DemoError> {
        let app = router_with(self.state.clone(), self.body_timeout);
        let permits = Arc::new(Semaphore::new(MAX_CONNECTIONS));
        let header_timeout = self.header_timeout;
        tokio::pin!(shutdown);
        loop {
            let permit = tokio::select! {
                () = &mut shutdown => return Ok(()),
                p = permits.clone().acquire_owned() => match p {
                    Ok(p) => p,
                    Err(_) => return Ok(()),
                },
            };
            let (tcp, peer) = tokio::select! {
                () = &mut shutdown => return Ok(()),
                accepted = self.listener.accept() => match accepted {
                    Ok(a) => a,
                    Err(e) => {
                        // Per-connection failures (reset before accept, out of descriptors): go on.
                        tracing::warn!(error = %e, "accept failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                },
            };
            let acceptor = self.acceptor.clone();
            let app = TowerToHyperService::new(app.clone());
            tokio::spawn(async move {
                let _permit = permit;
                let tls = match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await {
                    Ok(Ok(tls)) => tls,
                    Ok(Err(e)) => {
                        tracing::debug!(%peer, error = %e, "TLS handshake failed");
                        return;
                    }
                    Err(_) => {
                        tracing::debug!(%peer, "TLS handshake timed out");
                        return;
                    }
                };
                let connection = hyper::server::conn::http1::Builder::new()
                    .timer(TokioTimer::new())
                    .header_read_timeout(header_timeout)
                    .serve_connection(
                        TokioIo::new(tls),
                        // The peer address for the handlers (the challenge rate limit is per client).
                        hyper::service::service_fn(move |mut request: hyper::Request<hyper::body::Incoming>| {
                            request.extensions_mut().insert(ConnectInfo(peer));
                            hyper::service::Service::call(&app, request)
                        }),
                    );
                if let Err(e) = connection.await {
                    tracing::debug!(%peer, error = %e, "connection ended with an error");
                }
            });
        }
    }
}
