//! The haproxy model (being built on the haproxy-model branch; this is a placeholder).
pub mod config;
pub use config::HaproxyConfig;

pub async fn run_haproxy(_config: HaproxyConfig, _ctx: crate::machine::ProcessCtx) {}
