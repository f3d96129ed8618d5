//! HTTP for the stages that talk to services (Gerrit's review, the Forge's modules): one
//! client, hyper's over rustls (ring as its crypto, not aws-lc, which needs cmake),
//! trusting the system's CA certificates (`SSL_CERT_FILE` and `SSL_CERT_DIR` are
//! honoured), so a company CA installed on the agent works. A leaf: it knows no service.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::header::{LOCATION, USER_AGENT};
use http::{HeaderValue, Method, StatusCode};
use http_body_util::{BodyExt, Full, Limited};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

pub type Http = Client<HttpsConnector<HttpConnector>, Full<Bytes>>;

/// The TLS configuration, made once a process: reading the system's certificates is
/// the costly part of a client, and a run's Forge fixtures make one client a request.
fn tls() -> Result<rustls::ClientConfig, String> {
    static TLS: std::sync::OnceLock<Result<rustls::ClientConfig, String>> =
        std::sync::OnceLock::new();
    TLS.get_or_init(|| {
        let mut roots = rustls::RootCertStore::empty();
        // Unreadable certificates are skipped; with none at all, https fails when used
        // (with a hint), while plain http still works.
        let native = rustls_native_certs::load_native_certs();
        roots.add_parsable_certificates(native.certs);
        Ok(rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .map_err(|err| err.to_string())?
        .with_root_certificates(roots)
        .with_no_client_auth())
    })
    .clone()
}

/// The client, connecting within `connect_timeout`.
pub fn client(connect_timeout: Duration) -> Result<Http, String> {
    let tls = tls()?;
    let mut http = HttpConnector::new();
    http.enforce_http(false);
    http.set_connect_timeout(Some(connect_timeout));
    let https = hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(tls)
        .https_or_http()
        .enable_http1()
        .wrap_connector(http);
    Ok(Client::builder(TokioExecutor::new()).build(https))
}

/// What a GET answered, after its redirects.
#[derive(Debug)]
pub struct Fetched {
    pub status: StatusCode,
    pub body: Bytes,
    /// Where the answer came from (the last redirect's target).
    pub url: url::Url,
}

/// The redirects a GET follows.
const MAX_REDIRECTS: usize = 5;

/// A GET of `url`, following redirects, whole within `timeout`, its body at most
/// `max_bytes`. Blocking: it runs on a thread and runtime of its own, so stages that read
/// their inputs synchronously (before any container starts) can use it from anywhere.
pub fn get(url: &url::Url, timeout: Duration, max_bytes: usize) -> Result<Fetched, String> {
    let url = url.clone();
    std::thread::scope(|scope| {
        scope
            .spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .map_err(|e| e.to_string())?;
                runtime.block_on(async move {
                    tokio::time::timeout(timeout, get_async(url, max_bytes))
                        .await
                        .unwrap_or_else(|_| Err(format!("no answer within {}s", timeout.as_secs())))
                })
            })
            .join()
            .unwrap_or_else(|_| Err("the HTTP thread panicked".into()))
    })
}

async fn get_async(mut url: url::Url, max_bytes: usize) -> Result<Fetched, String> {
    let http = client(Duration::from_secs(15))?;
    for _ in 0..=MAX_REDIRECTS {
        let request = http::Request::builder()
            .method(Method::GET)
            .uri(url.as_str())
            .header(
                USER_AGENT,
                HeaderValue::from_static(concat!("rehearsal/", env!("CARGO_PKG_VERSION"))),
            )
            .body(Full::new(Bytes::new()))
            .map_err(|e| e.to_string())?;
        let response = http.request(request).await.map_err(|e| {
            let mut text = e.to_string();
            let mut source = std::error::Error::source(&e);
            while let Some(cause) = source {
                text = format!("{text}: {cause}");
                source = cause.source();
            }
            text
        })?;
        let status = response.status();
        if status.is_redirection() {
            let location = response
                .headers()
                .get(LOCATION)
                .and_then(|l| l.to_str().ok())
                .ok_or_else(|| format!("a redirect ({status}) without a Location"))?;
            url = url
                .join(location)
                .map_err(|e| format!("a redirect to `{location}`: {e}"))?;
            continue;
        }
        let body = Limited::new(response.into_body(), max_bytes)
            .collect()
            .await
            .map_err(|e| format!("reading the answer: {e}"))?
            .to_bytes();
        return Ok(Fetched { status, body, url });
    }
    Err(format!("more than {MAX_REDIRECTS} redirects"))
}
