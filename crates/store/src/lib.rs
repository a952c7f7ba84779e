//! The node's storage: the [`Store`] trait every backend implements, the
//! SQLite backend, migrations, and the test suite every backend must pass.
