//! eidlink's applications: the `eidlink` command-line tool (and, in a later step, the
//! native-messaging host). The binaries are thin; their logic lives here so it can be tested.
#![forbid(unsafe_code)]

pub mod cli;
pub mod diagnose;
pub mod host;
pub mod register;
pub mod tokens;
