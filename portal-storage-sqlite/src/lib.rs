//! Embedded SQLite storage (placeholder).
