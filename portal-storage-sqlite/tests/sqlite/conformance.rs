//! The public conformance suite, one test per check, each on a fresh database.

portal_core::conformance_tests!(crate::fresh_store());
