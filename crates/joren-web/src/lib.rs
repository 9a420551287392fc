//! Joren's HTTP layer: the `/api/v1` JSON API (with its OpenAPI document), `GET /healthz`, and
//! the server-rendered web UI in Japanese (English switchable). Handlers are thin: they parse,
//! call a `joren-app` use case and render.

mod api;
mod auth;
mod error;
mod guard;
mod i18n;
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
        .layer(axum::middleware::from_fn(guard::refuse_control_characters))
        .layer(axum::middleware::from_fn(move |req, next| guard::security_headers(secure, req, next)))
        .layer(TraceLayer::new_for_http())
        .layer(axum::extract::DefaultBodyLimit::max(guard::BODY_LIMIT))
        .with_state(state)
}

/// Serves the application on `listener` until `shutdown` resolves.
pub async fn serve(
    app: App,
    listener: tokio::net::TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let jobs = app
        .config
        .background_jobs
        .then(|| [tokio::spawn(housekeeping_loop(app.clone())), tokio::spawn(points_loop(app.clone()))]);
    let service = router(app).into_make_service_with_connect_info::<std::net::SocketAddr>();
    let served = axum::serve(listener, service).with_graceful_shutdown(shutdown).await;
    for h in jobs.into_iter().flatten() {
        h.abort();
    }
    served
}

/// Every minute: cancels checkout reservations whose hold ran out and expires points after
/// their last day, so points expire within a minute of local midnight; the day's first run
/// also evaluates ranks and grants birthday bonuses.
async fn points_loop(app: App) {
    let mut every_minute = tokio::time::interval(std::time::Duration::from_secs(60));
    loop {
        every_minute.tick().await;
        match app.run_points_schedule().await {
            Ok(run) if run.reservations_cancelled == 0 && run.expired.lots == 0 && run.birthday_bonuses == 0 => {}
            Ok(run) => tracing::info!(
                cancelled = run.reservations_cancelled,
                lots = run.expired.lots,
                points = run.expired.points,
                birthday_bonuses = run.birthday_bonuses,
                "points schedule"
            ),
            Err(e) => tracing::warn!("points schedule failed: {e}"),
        }
    }
}

/// Runs [`App::housekeeping`] and the nightly metrics refresh (when due) at start and then
/// every hour while the server runs.
async fn housekeeping_loop(app: App) {
    let mut every_hour = tokio::time::interval(std::time::Duration::from_secs(3600));
    loop {
        every_hour.tick().await;
        match app.housekeeping().await {
            Ok(done) => tracing::debug!(?done, "housekeeping"),
            Err(e) => tracing::warn!("housekeeping failed: {e}"),
        }
        match app.refresh_metrics_if_due().await {
            Ok(Some(s)) => tracing::info!(snapshot = s.id, customers = s.customers, "nightly metrics refreshed"),
            Ok(None) => {}
            Err(e) => tracing::warn!("nightly metrics refresh failed: {e}"),
        }
    }
}
