//! [`DataError`]: everything that can go wrong reading a data set.

use std::path::PathBuf;

/// A data set could not be read; every variant names the file concerned.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    /// The file could not be opened or read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// What the OS said.
        #[source]
        source: std::io::Error,
    },
    /// The file is shorter than its format or header says.
    #[error("{path} is truncated: expected {expected} bytes, found {found}")]
    Truncated {
        /// The file.
        path: PathBuf,
        /// Bytes the format requires.
        expected: u64,
        /// Bytes present.
        found: u64,
    },
    /// The file's content does not follow its format.
    #[error("{path} is corrupt: {reason}")]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// A label is outside `0..num_classes`.
    #[error("{path}: label {label} of record {index} is outside 0..{num_classes}")]
    LabelOutOfRange {
        /// The file holding the label.
        path: PathBuf,
        /// Record index in that file.
        index: usize,
        /// The label read.
        label: i64,
        /// Number of classes of the data set.
        num_classes: usize,
    },
    /// A split or list file names an image that does not exist.
    #[error("{list} names {image}, which does not exist")]
    MissingImage {
        /// The list file.
        list: PathBuf,
        /// The missing image.
        image: PathBuf,
    },
    /// An image could not be decoded.
    #[error("cannot decode image {path}: {reason}")]
    Decode {
        /// The image file.
        path: PathBuf,
        /// The decoder's message.
        reason: String,
    },
    /// A data set was not found where it was looked for.
    #[error("{dataset} not found; looked for {looked_for} in: {places}. {hint}")]
    NotFound {
        /// The data set.
        dataset: String,
        /// The files that identify it.
        looked_for: String,
        /// The directories searched, comma-separated.
        places: String,
        /// How to provide it.
        hint: String,
    },
    /// A transform or loader option is invalid.
    #[error("invalid {name}: {reason}")]
    InvalidOption {
        /// The option.
        name: &'static str,
        /// Why.
        reason: String,
    },
    /// An index past the end of the data set.
    #[error("index {index} is out of range for a data set of {len} items")]
    IndexOutOfRange {
        /// The index asked for.
        index: usize,
        /// The data set's length.
        len: usize,
    },
}

/// Reads a whole file, naming it in the error.
pub(crate) fn read_file(path: &std::path::Path) -> Result<Vec<u8>, DataError> {
    std::fs::read(path).map_err(|source| DataError::Io {
        path: path.to_path_buf(),
        source,
    })
}
