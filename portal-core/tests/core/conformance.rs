//! The public conformance suite on the in-memory reference store.

use std::sync::Arc;

use portal_core::Store;
use portal_core::memory::MemoryStore;

/// A fresh in-memory store for each conformance test.
async fn memory_store() -> ((), Arc<dyn Store>) {
    ((), Arc::new(MemoryStore::new()))
}

portal_core::conformance_tests!(memory_store());

/// Running the whole suite twice on one store: no check depends on a fresh store.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn run_all_twice_on_one_store() {
    let (_, store) = memory_store().await;
    portal_core::conformance::run_all(store.clone()).await;
    portal_core::conformance::run_all(store).await;
}
