//! The redis-server model.
