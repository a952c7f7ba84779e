//! Streaming reading of bundles.
