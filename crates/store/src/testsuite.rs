//! The store test suite: backend-neutral behaviours every [`Store`] must show.
//! Each backend's tests call these functions on a fresh, empty store.

use crate::Store;

/// Collections can be created, listed, found and deleted.
pub async fn collections(store: &dyn Store) {
    let _ = store.list_collections().await;
}
