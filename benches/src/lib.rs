//! Criterion benches of mixaug; see `benches/`.
