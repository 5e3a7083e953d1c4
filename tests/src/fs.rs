//! A small ISO 7816-4 file system: DFs and transparent EFs addressed by FID
//! paths from the MF (`[0x3F00, ...]`), shared by both card profiles.

use std::collections::BTreeMap;

use crate::apdu::{len_byte, response, status, sw};

/// File identifier of the master file.
pub const MF: u16 = 0x3F00;

/// One node of the file tree.
#[derive(Debug, Clone)]
pub enum Node {
    /// A dedicated file, optionally selectable by AID.
    Df {
        /// AID of the DF, if it is an application.
        aid: Option<Vec<u8>>,
    },
    /// A transparent elementary file.
    Ef(Vec<u8>),
}

/// A file path from the MF, MF included (`[0x3F00, 0xDF00, 0x5038]`).
pub type Path = Vec<u16>;

/// The file tree of a card.
#[derive(Debug, Clone, Default)]
pub struct FileSystem {
    nodes: BTreeMap<Path, Node>,
}

impl FileSystem {
    /// A file system holding only the MF.
    pub fn new() -> Self {
        let mut nodes = BTreeMap::new();
        nodes.insert(vec![MF], Node::Df { aid: None });
        FileSystem { nodes }
    }

    /// Adds a DF at `path` (MF included, e.g. `[0x3F00, 0xDF00]`).
    pub fn add_df(&mut self, path: &[u16], aid: Option<&[u8]>) {
        self.nodes.insert(
            path.to_vec(),
            Node::Df {
                aid: aid.map(<[u8]>::to_vec),
            },
        );
    }

    /// Adds (or replaces) a transparent EF.
    pub fn add_ef(&mut self, path: &[u16], content: Vec<u8>) {
        self.nodes.insert(path.to_vec(), Node::Ef(content));
    }

    /// The node at `path`, if any.
    pub fn node(&self, path: &[u16]) -> Option<&Node> {
        self.nodes.get(path)
    }

    /// The content of the EF at `path`.
    pub fn ef(&self, path: &[u16]) -> Option<&[u8]> {
        match self.nodes.get(path) {
            Some(Node::Ef(content)) => Some(content),
            _ => None,
        }
    }

    /// `true` if `path` names a DF (the MF included).
    pub fn is_df(&self, path: &[u16]) -> bool {
        matches!(self.nodes.get(path), Some(Node::Df { .. }))
    }

    /// The path of the direct child `fid` of the DF `dir`.
    pub fn child(&self, dir: &[u16], fid: u16) -> Option<Path> {
        let mut path = dir.to_vec();
        path.push(fid);
        self.nodes.contains_key(&path).then_some(path)
    }

    /// Follows `components` (each a FID) from the DF `start`. Every
    /// intermediate component must be a DF.
    pub fn walk(&self, start: &[u16], components: &[u16]) -> Option<Path> {
        let mut current = start.to_vec();
        for (i, fid) in components.iter().enumerate() {
            if i > 0 && !self.is_df(&current) {
                return None;
            }
            current = self.child(&current, *fid)?;
        }
        Some(current)
    }

    /// The DF whose AID is exactly `aid`.
    pub fn by_aid(&self, aid: &[u8]) -> Option<Path> {
        self.nodes.iter().find_map(|(path, node)| match node {
            Node::Df { aid: Some(a) } if a.as_slice() == aid => Some(path.clone()),
            _ => None,
        })
    }
}

/// Splits a SELECT data field into 2-byte FIDs; `None` if its length is odd
/// or zero.
pub fn fids(data: &[u8]) -> Option<Vec<u16>> {
    if data.is_empty() || !data.chunks_exact(2).remainder().is_empty() {
        return None;
    }
    Some(data.chunks_exact(2).map(|c| u16::from_be_bytes([c[0], c[1]])).collect())
}

/// What a card answers when Le asks for more than what is left in the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShortRead {
    /// `6C xx` with the exact remaining length (BELPIC, cards.md §1.7).
    WrongLe,
    /// The remaining bytes with `62 82` (ISO 7816-4 "end of file reached";
    /// used for the IDEMIA profile).
    EndOfFile,
}

/// READ BINARY on a transparent EF: `6B 00` when the offset is at or past
/// the end, otherwise up to Ne bytes (cards.md §1.7).
pub fn read_binary(content: &[u8], offset: usize, ne: usize, short: ShortRead) -> Vec<u8> {
    let Some(rest) = content.get(offset..).filter(|r| !r.is_empty()) else {
        return status(sw::WRONG_OFFSET);
    };
    if ne <= rest.len() {
        return response(&rest[..ne], sw::OK);
    }
    match short {
        ShortRead::WrongLe => status(sw::WRONG_LE | len_byte(rest.len())),
        ShortRead::EndOfFile => response(rest, sw::END_OF_FILE),
    }
}
