//! One file per method, each citing its paper and the reference code it follows, and
//! each registered by one line in `config.rs` (`methods!`). A method is a configuration
//! (documented defaults, `validate`, `init`), its `Params` and a [`Mixer`](crate::Mixer)
//! implementation; the shared preamble (batch checks, gate, pairing, target) lives in
//! `mixer.rs`, the masks it builds in `ops`.

pub(crate) mod attentivemix;
pub(crate) mod cutmix;
pub(crate) mod cutout;
pub(crate) mod fmix;
pub(crate) mod gridmix;
pub(crate) mod mixed_example;
pub(crate) mod mixup;
pub(crate) mod resizemix;
pub(crate) mod ricap;
pub(crate) mod saliencymix;
pub(crate) mod sample_pairing;
pub(crate) mod smoothmix;
pub(crate) mod snapmix;
pub(crate) mod transmix;
