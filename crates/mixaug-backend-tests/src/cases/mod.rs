//! The cases of the suite, each a function of the device it runs on.

mod cutmix;
mod errors;
mod loss;
mod mixup;
mod seeds;

pub use cutmix::*;
pub use errors::*;
pub use loss::*;
pub use mixup::*;
pub use seeds::*;
