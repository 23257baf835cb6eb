//! Storage backends: the byte-addressed files redb keeps its pages in.
//!
//! redb reads and writes all of its pages through the [`redb::StorageBackend`] trait, so a
//! backend sees every byte the engine stores. [`FileBackend`] is the production backend over a
//! local file; [`EncryptedBackend`] wraps either and seals every page with SM4-GCM;
//! [`FaultyBackend`] is an in-memory backend for fault injection and power-loss simulation in
//! tests.

pub mod encrypted;
pub mod faulty;
pub mod file;

pub use encrypted::{EncryptedBackend, EncryptedFile};
pub use faulty::{CrashImage, FaultController, FaultyBackend};
pub use file::{FileBackend, IoStats};
