//! The HTTP API: `GET /health`, `GET /status` (the controller's picture as JSON),
//! `GET /metrics` (Prometheus text), `POST /pause` and `POST /resume` (maintenance mode).
//! It has no authentication: listen on loopback or a private address only.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::json;

use crate::status::Shared;

pub fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/health", get(health))
        .route("/status", get(status))
        .route("/metrics", get(metrics))
        .route("/pause", post(pause))
        .route("/resume", post(resume))
        .with_state(shared)
}

async fn health(State(s): State<Arc<Shared>>) -> Response {
    if s.healthy() {
        (StatusCode::OK, Json(json!({"status": "ok"}))).into_response()
    } else {
        let body = json!({"status": "stalled", "why": "the controller has not been woken for five intervals"});
        (StatusCode::SERVICE_UNAVAILABLE, Json(body)).into_response()
    }
}

async fn status(State(s): State<Arc<Shared>>) -> Response {
    let picture = s.picture.lock().unwrap_or_else(|p| p.into_inner()).clone();
    Json(picture).into_response()
}

async fn metrics(State(s): State<Arc<Shared>>) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        s.metrics.encode(),
    )
        .into_response()
}

async fn pause(State(s): State<Arc<Shared>>) -> Response {
    s.set_paused(true);
    Json(json!({"paused": true})).into_response()
}

async fn resume(State(s): State<Arc<Shared>>) -> Response {
    s.set_paused(false);
    Json(json!({"paused": false})).into_response()
}
