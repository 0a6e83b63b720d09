//! # mixaug-data
//!
//! Data sets in their real formats (CIFAR binary, MNIST/Fashion-MNIST IDX, image folders
//! with split files), seeded per-image transforms and a multi-threaded loader.
//!
//! Not implemented yet; the crate exists so the workspace's layering is in place.
