//! The public conformance suite, one test per check, all on this run's database.

portal_core::conformance_tests!(@optional crate::fresh_store());
