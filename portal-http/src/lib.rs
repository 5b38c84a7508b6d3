//! HTTP host (placeholder).
