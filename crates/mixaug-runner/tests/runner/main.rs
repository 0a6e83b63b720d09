//! The integration tests of mixaug-runner but training (`tests/train.rs`), one test binary
//! (each binary links burn, so few binaries keep the build small). The training tests stay
//! a binary of their own: they compare runs exactly, which needs no other test drawing from
//! the backend's global RNG or running kernels in the same process meanwhile.

mod cam;
mod cli;
mod experiment;
mod gallery;
mod tables;
