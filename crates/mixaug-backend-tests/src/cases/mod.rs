//! The cases of the suite, each a function of the device it runs on.

mod cutmix;
mod cutout;
mod errors;
mod fmix;
mod gridmix;
mod guided;
mod loss;
mod maps;
mod mixed_example;
mod mixup;
mod models;
mod resizemix;
mod ricap;
mod sample_pairing;
mod seeds;
mod smoothmix;
mod sumix;
mod transmix;

pub use cutmix::*;
pub use cutout::*;
pub use errors::*;
pub use fmix::*;
pub use gridmix::*;
pub use guided::*;
pub use loss::*;
pub use maps::*;
pub use mixed_example::*;
pub use mixup::*;
pub use models::*;
pub use resizemix::*;
pub use ricap::*;
pub use sample_pairing::*;
pub use seeds::*;
pub use smoothmix::*;
pub use sumix::*;
pub use transmix::*;
