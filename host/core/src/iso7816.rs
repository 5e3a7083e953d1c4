//! Command builders shared by the drivers, one per ISO/IEC 7816 command, and the read helpers built
//! on them. Card-specific variants (Belgian MSE with its length byte) live in the driver.

use zeroize::Zeroizing;

use crate::apdu::{exchange, Command, Response};
use crate::error::{CardError, PinFailure};
use crate::status::StatusWord;
use crate::tlv;
use crate::token::KeyAlgorithm;
use crate::transport::CardChannel;

/// ISO/IEC 7816-4 SELECT (INS `A4`), P1 `04`: select by DF name (AID).
pub fn select_aid(aid: &[u8], p2: u8) -> Command {
    Command::new(0x00, 0xA4, 0x04, p2).with_data(aid.to_vec())
}

/// ISO/IEC 7816-4 SELECT (INS `A4`) with any P1 (`02` EF under current DF, `08` path from MF,
/// `09` path from current DF) and P2 (`0C` no answer, `04` return FCP), with an optional Le.
pub fn select(p1: u8, p2: u8, id: &[u8], le: Option<usize>) -> Command {
    let cmd = Command::new(0x00, 0xA4, p1, p2).with_data(id.to_vec());
    match le {
        Some(le) => cmd.with_le(le),
        None => cmd,
    }
}

/// ISO/IEC 7816-4 READ BINARY (INS `B0`) at a 15-bit offset.
pub fn read_binary(offset: u16, le: usize) -> Command {
    Command::new(0x00, 0xB0, (offset >> 8) as u8 & 0x7F, offset as u8).with_le(le)
}

/// ISO/IEC 7816-4 VERIFY (INS `20`) with a PIN block (secret data).
pub fn verify(p2: u8, block: Zeroizing<Vec<u8>>) -> Command {
    Command::new(0x00, 0x20, 0x00, p2).with_secret(block)
}

/// ISO/IEC 7816-4 VERIFY (INS `20`) with no data: asks the PIN status without spending a try.
pub fn verify_status(p2: u8) -> Command {
    Command::new(0x00, 0x20, 0x00, p2)
}

/// ISO/IEC 7816-4 MANAGE SECURITY ENVIRONMENT (INS `22`) with P1 `41` (SET for computation) and P2
/// naming the template (`A4` authentication, `B6` digital signature).
pub fn mse_set(p2: u8, data: &[u8]) -> Command {
    Command::new(0x00, 0x22, 0x41, p2).with_data(data.to_vec())
}

/// ISO/IEC 7816-8 PERFORM SECURITY OPERATION (INS `2A`): COMPUTE DIGITAL SIGNATURE (P1P2 `9E9A`).
pub fn pso_cds(data: &[u8], le: Option<usize>) -> Command {
    let cmd = Command::new(0x00, 0x2A, 0x9E, 0x9A).with_data(data.to_vec());
    match le {
        Some(le) => cmd.with_le(le),
        None => cmd,
    }
}

/// ISO/IEC 7816-4 INTERNAL AUTHENTICATE (INS `88`).
pub fn internal_authenticate(p1: u8, p2: u8, data: &[u8], le: Option<usize>) -> Command {
    let cmd = Command::new(0x00, 0x88, p1, p2).with_data(data.to_vec());
    match le {
        Some(le) => cmd.with_le(le),
        None => cmd,
    }
}

/// Sends a VERIFY and maps its status (ISO 7816-4 VERIFY; `63 Cx` tries left, `69 83` blocked,
/// `67 00` / `6A 80` wrong length).
pub fn run_verify(ch: &mut dyn CardChannel, cmd: &Command) -> Result<(), CardError> {
    let resp = exchange(ch, cmd)?;
    pin_status(resp.sw)
}

/// Maps the status word of a VERIFY.
pub fn pin_status(sw: StatusWord) -> Result<(), CardError> {
    match sw.0 {
        0x9000 => Ok(()),
        0x63C0 | 0x6983 | 0x6984 => Err(PinFailure::Blocked.into()),
        0x6700 | 0x6A80 => Err(PinFailure::InvalidFormat.into()),
        0x6400 => Err(PinFailure::PinpadTimeout.into()),
        0x6401 => Err(PinFailure::PinpadCancelled.into()),
        _ => match sw.retries_left() {
            Some(retries) => Err(PinFailure::Wrong { retries: Some(retries) }.into()),
            None => Err(CardError::status(sw, "VERIFY")),
        },
    }
}

/// Maps the status word of MANAGE SECURITY ENVIRONMENT SET: `6A 88` (referenced data not found,
/// ISO/IEC 7816-4 §5.6) means the card has no such key.
pub fn mse_status(sw: StatusWord) -> Result<(), CardError> {
    match sw.0 {
        0x9000 => Ok(()),
        0x6A88 => Err(CardError::Unsupported("this key is not on the card")),
        _ => Err(CardError::status(sw, "MSE SET")),
    }
}

/// The signature in the answer to a security operation (INTERNAL AUTHENTICATE, PSO COMPUTE DIGITAL
/// SIGNATURE) by a key of `key`: `69 82` security status not satisfied, `69 83` blocked (ISO/IEC
/// 7816-4 §5.6), and an answer of another length than the key's signatures is refused.
pub fn signature_answer(resp: Response, during: &'static str, key: KeyAlgorithm) -> Result<Vec<u8>, CardError> {
    let bytes = match resp.sw.0 {
        0x9000 => resp.data,
        0x6982 => return Err(CardError::PinRequired),
        0x6983 => return Err(PinFailure::Blocked.into()),
        _ => return Err(CardError::status(resp.sw, during)),
    };
    if bytes.len() != key.signature_len() {
        return Err(CardError::Malformed("signature of unexpected length"));
    }
    Ok(bytes)
}

/// The size of the EF a SELECT with P2 `04` selected, from the FCP it answered; `6A 82` (file not
/// found, ISO/IEC 7816-4 §5.6) means an absent certificate or key.
pub fn selected_file_size(resp: Response) -> Result<usize, CardError> {
    match resp.sw.0 {
        0x9000 => fcp_file_size(&resp.data),
        0x6A82 => Err(CardError::Unsupported("the file is not on the card")),
        _ => Err(CardError::status(resp.sw, "SELECT FILE")),
    }
}

/// The largest EF READ BINARY can reach: its offset is 15 bits (P1 b8 = 0, ISO/IEC 7816-4 §11.2.3).
pub const MAX_FILE_SIZE: usize = 0x8000;

fn check_file_size(size: usize) -> Result<(), CardError> {
    if size > MAX_FILE_SIZE {
        return Err(CardError::Malformed("file larger than 32 KiB"));
    }
    Ok(())
}

/// The READ BINARY offset for `pos`, refused past 15 bits: `read_binary` masks P1 to 7 bits, so
/// a larger offset would silently wrap and read the start of the file again.
fn read_offset(pos: usize) -> Result<u16, CardError> {
    u16::try_from(pos)
        .ok()
        .filter(|o| usize::from(*o) < MAX_FILE_SIZE)
        .ok_or(CardError::Malformed("file larger than 32 KiB"))
}

/// Reads `size` bytes of the selected EF in chunks of at most `chunk` bytes, the last one exact.
pub fn read_exact(ch: &mut dyn CardChannel, size: usize, chunk: usize) -> Result<Vec<u8>, CardError> {
    let mut out = Vec::with_capacity(size);
    read_rest(ch, &mut out, size, chunk)?;
    Ok(out)
}

/// Appends to `out` what follows it in the selected EF until it holds `size` bytes, in chunks of at
/// most `chunk` bytes, the last one exact (so no `6Cxx` and no padding is ever read).
fn read_rest(ch: &mut dyn CardChannel, out: &mut Vec<u8>, size: usize, chunk: usize) -> Result<(), CardError> {
    check_file_size(size)?;
    while out.len() < size {
        let offset = read_offset(out.len())?;
        let want = chunk.min(size - out.len());
        let data = exchange(ch, &read_binary(offset, want))?.ok("READ BINARY")?;
        if data.is_empty() || data.len() > want {
            return Err(CardError::Malformed("READ BINARY returned an unexpected length"));
        }
        out.extend_from_slice(&data);
    }
    Ok(())
}

/// Reads `size` bytes of the selected EF with READ BINARY Le = `00` (up to 256 bytes), advancing the
/// offset by what each answer held: the card decides the chunk size (FinEID v3/v4 answer 181 bytes at
/// a time; cards.md §2.8) and small files come back whole in one command (the LatEID PKCS#15 directory
/// files). An answer longer than what is left is cut at `size`; an empty one is an error, so a card
/// cannot make this loop forever.
pub fn read_advancing(ch: &mut dyn CardChannel, size: usize) -> Result<Vec<u8>, CardError> {
    check_file_size(size)?;
    let mut out = Vec::with_capacity(size);
    while out.len() < size {
        let offset = read_offset(out.len())?;
        let data = exchange(ch, &read_binary(offset, crate::apdu::SHORT_MAX_LE))?.ok("READ BINARY")?;
        if data.is_empty() {
            return Err(CardError::Malformed(
                "READ BINARY returned no data before the end of the file",
            ));
        }
        let take = data.len().min(size - out.len());
        out.extend_from_slice(&data[..take]);
    }
    Ok(out)
}

/// Reads a DER object (a certificate) from the selected EF: the first chunk gives the DER length,
/// then exactly the remaining bytes are read, so zero padding after the object is never read.
pub fn read_der(ch: &mut dyn CardChannel, chunk: usize) -> Result<Vec<u8>, CardError> {
    let first = exchange(ch, &read_binary(0, chunk))?;
    if first.sw.0 == 0x6B00 {
        return Err(CardError::Unsupported("the certificate file is empty"));
    }
    let mut data = first.ok("READ BINARY")?;
    if data.first().is_none_or(|b| *b != 0x30) {
        return Err(CardError::Unsupported("no certificate in this file"));
    }
    let total = tlv::der_total_length(&data)?;
    if total > MAX_FILE_SIZE {
        return Err(CardError::Malformed("certificate longer than 32 KiB"));
    }
    data.truncate(total);
    read_rest(ch, &mut data, total, chunk)?;
    Ok(data)
}

/// The file size in an FCP template (`62` → `80` or `81`, ISO 7816-4 §7.4.3 table 12).
pub fn fcp_file_size(fcp: &[u8]) -> Result<usize, CardError> {
    let size = tlv::find_path(fcp, &[0x62, 0x80])?
        .or(tlv::find_path(fcp, &[0x62, 0x81])?)
        .ok_or(CardError::Malformed("FCP without a file size"))?;
    if size.is_empty() || size.len() > 3 {
        return Err(CardError::Malformed("FCP file size has a bad length"));
    }
    let size = size.iter().fold(0usize, |acc, b| (acc << 8) | usize::from(*b));
    check_file_size(size)?;
    Ok(size)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transcript::ScriptedChannel;

    #[test]
    fn verify_status_mapping() {
        assert!(pin_status(StatusWord(0x9000)).is_ok());
        assert_eq!(
            pin_status(StatusWord(0x63C2)),
            Err(PinFailure::Wrong { retries: Some(2) }.into())
        );
        assert_eq!(pin_status(StatusWord(0x63C0)), Err(PinFailure::Blocked.into()));
        assert_eq!(pin_status(StatusWord(0x6983)), Err(PinFailure::Blocked.into()));
        assert_eq!(pin_status(StatusWord(0x6700)), Err(PinFailure::InvalidFormat.into()));
        assert!(matches!(pin_status(StatusWord(0x6A88)), Err(CardError::Status { .. })));
    }

    #[test]
    fn der_read_stops_at_the_der_length() {
        // A 300-byte certificate followed by padding: one 256-byte chunk, then exactly 44 bytes.
        let mut cert = vec![0x30, 0x82, 0x01, 0x28];
        cert.extend((0..296).map(|i| i as u8));
        let first = format!("{}9000", hex::encode(&cert[..256]));
        let rest = format!("{}9000", hex::encode(&cert[256..]));
        let mut ch = ScriptedChannel::from_pairs(&[("00B0000000", &first), ("00B001002C", &rest)]);
        assert_eq!(read_der(&mut ch, 256).ok(), Some(cert));
        assert!(ch.finish().is_ok());
    }

    #[test]
    fn advancing_read_follows_the_card_chunk_size() {
        let data: Vec<u8> = (0..300u16).map(|i| i as u8).collect();
        let mut ch = ScriptedChannel::from_pairs(&[
            ("00B0000000", &format!("{}9000", hex::encode(&data[..181]))),
            ("00B000B500", &format!("{}9000", hex::encode(&data[181..]))),
        ]);
        assert_eq!(read_advancing(&mut ch, 300).ok(), Some(data));
        assert!(ch.finish().is_ok());
        let mut empty = ScriptedChannel::from_pairs(&[("00B0000000", "9000")]);
        assert!(matches!(read_advancing(&mut empty, 10), Err(CardError::Malformed(_))));
    }

    #[test]
    fn fcp_size() {
        assert_eq!(fcp_file_size(&[0x62, 0x04, 0x80, 0x02, 0x04, 0x07]).ok(), Some(0x407));
        assert_eq!(fcp_file_size(&[0x62, 0x04, 0x81, 0x02, 0x06, 0x80]).ok(), Some(0x680));
        assert!(fcp_file_size(&[0x62, 0x00]).is_err());
        // A file READ BINARY cannot address whole is refused before anything is read.
        assert_eq!(fcp_file_size(&[0x62, 0x04, 0x80, 0x02, 0x80, 0x00]).ok(), Some(0x8000));
        assert!(matches!(
            fcp_file_size(&[0x62, 0x05, 0x80, 0x03, 0x01, 0x00, 0x00]),
            Err(CardError::Malformed(_))
        ));
    }

    #[test]
    fn reads_never_wrap_past_the_15_bit_offset() {
        // A card that always answers a full chunk: an exact read of a size beyond 32 KiB must stop
        // before offset 0x8000 rather than wrap to offset 0 (P1 is masked to 7 bits).
        struct Full(usize);
        impl CardChannel for Full {
            fn transmit(&mut self, apdu: &[u8]) -> Result<Vec<u8>, crate::transport::TransportError> {
                self.0 += 1;
                let le = match apdu.get(4) {
                    Some(0) | None => 256,
                    Some(n) => usize::from(*n),
                };
                let mut out = vec![0x5A; le];
                out.extend_from_slice(&[0x90, 0x00]);
                Ok(out)
            }
        }
        let mut card = Full(0);
        assert!(matches!(
            read_exact(&mut card, 0x8000 + 100, 0xF0),
            Err(CardError::Malformed(_))
        ));
        assert_eq!(card.0, 0, "refused before any READ BINARY");
        let mut card = Full(0);
        assert!(matches!(
            read_advancing(&mut card, 0x10000),
            Err(CardError::Malformed(_))
        ));
        assert_eq!(card.0, 0);
        let mut card = Full(0);
        assert_eq!(read_exact(&mut card, 0x8000, 0xF0).map(|d| d.len()).ok(), Some(0x8000));
    }
}
