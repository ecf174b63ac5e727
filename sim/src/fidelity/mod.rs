//! Behaviour probes run against the models and against the real binaries.
