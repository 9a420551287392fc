//! Joren's HTTP layer: the `/api/v1` JSON API (with its OpenAPI document), `GET /healthz`, and
//! the server-rendered web UI in Japanese (English switchable). Handlers are thin: they parse,
//! call a `joren-app` use case and render.

mod api;
mod auth;
mod error;
mod guard;
pub mod i18n;
mod public;
mod ui;

use std::future::Future;

use axum::Router;
use axum::routing::get;
use joren_app::App;
use tower_http::trace::TraceLayer;

pub use error::ApiError;

/// Shared state of every handler.
#[derive(Clone)]
pub struct AppState {
    pub app: App,
}

/// The whole HTTP application.
pub fn router(app: App) -> Router {
    let secure = app.config.secure_cookies;
    let state = AppState { app };
    Router::new()
        .route("/healthz", get(api::healthz))
        .nest("/api/v1", api::routes().layer(axum::middleware::from_fn(guard::json_errors)))
        .merge(ui::routes())
        .merge(public::routes())
        .fallback(ui::fallback)
        .layer(axum::middleware::from_fn(guard::refuse_control_characters))
        .layer(axum::middleware::from_fn(move |req, next| guard::security_headers(secure, req, next)))
        .layer(TraceLayer::new_for_http())
        .layer(axum::extract::DefaultBodyLimit::max(guard::BODY_LIMIT))
        .with_state(state)
}

/// Serves the application on `listener` until `shutdown` resolves. Scheduled work is not
/// the web layer's: the binary runs a worker beside it (`joren_app::jobs::run_worker`).
pub async fn serve(
    app: App,
    listener: tokio::net::TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let service = router(app).into_make_service_with_connect_info::<std::net::SocketAddr>();
    axum::serve(listener, service).with_graceful_shutdown(shutdown).await
}
