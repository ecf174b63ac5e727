//! The haproxy model (filled in by the haproxy work).
