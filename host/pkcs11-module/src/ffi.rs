//! The C interface (PKCS#11 v2.40 base specification §5): `C_GetFunctionList` and the functions
//! of its list. All of the crate's `unsafe` is here: reading the caller's pointers into Rust
//! values and writing answers back, each block with its `SAFETY:` reasoning. Every entry point
//! runs inside [`guard`], so a panic never crosses into the browser (it becomes
//! `CKR_GENERAL_ERROR`). What the functions do is `module.rs`'s business.
#![allow(unsafe_code)]

use std::ffi::c_void;
use std::sync::{Arc, RwLock};

use cryptoki_sys::*;

use crate::mechanism::Mechanism;
use crate::module::{attribute, AttributeValue, Module};

/// The initialized module, between `C_Initialize` and `C_Finalize`.
static MODULE: RwLock<Option<Arc<Module>>> = RwLock::new(None);

/// The PKCS#11 version this module implements.
const CRYPTOKI_VERSION: CK_VERSION = CK_VERSION { major: 2, minor: 40 };

/// Runs `f`, turning a panic into `CKR_GENERAL_ERROR`.
fn guard(f: impl FnOnce() -> Result<(), CK_RV>) -> CK_RV {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)) {
        Ok(Ok(())) => CKR_OK,
        Ok(Err(rv)) => rv,
        Err(_) => {
            tracing::error!("a PKCS#11 call panicked");
            CKR_GENERAL_ERROR
        }
    }
}

fn module() -> Result<Arc<Module>, CK_RV> {
    let m = MODULE.read().map_err(|_| CKR_GENERAL_ERROR)?;
    m.as_ref().cloned().ok_or(CKR_CRYPTOKI_NOT_INITIALIZED)
}

/// `text` blank-padded (or cut at a character boundary) to `N` bytes, as the fixed-size UTF-8
/// fields of the info structures are (PKCS#11 v2.40 §3.2).
fn padded<const N: usize>(text: &str) -> [u8; N] {
    let mut out = [b' '; N];
    let mut len = text.len().min(N);
    while !text.is_char_boundary(len) {
        len -= 1;
    }
    out[..len].copy_from_slice(&text.as_bytes()[..len]);
    out
}

fn version() -> CK_VERSION {
    let mut parts = env!("CARGO_PKG_VERSION")
        .split('.')
        .map(|p| p.parse::<u8>().unwrap_or(0));
    CK_VERSION {
        major: parts.next().unwrap_or(0),
        minor: parts.next().unwrap_or(0),
    }
}

/// Writes `value` through `out`.
fn put<T>(out: *mut T, value: T) -> Result<(), CK_RV> {
    if out.is_null() {
        return Err(CKR_ARGUMENTS_BAD);
    }
    // SAFETY: the caller passes a pointer to a `T` it owns (checked non-null above), as each
    // PKCS#11 prototype says for its output argument; `write_unaligned` neither reads the old
    // value nor assumes the alignment a packed (Windows) layout does not give.
    unsafe { out.write_unaligned(value) };
    Ok(())
}

/// The two-call list protocol (PKCS#11 v2.40 §5.2): with a null `out`, only the count is
/// written; else `items` if they fit in `*count`, else `CKR_BUFFER_TOO_SMALL` with the count.
fn put_list<T: Copy>(items: &[T], out: *mut T, count: *mut CK_ULONG) -> Result<(), CK_RV> {
    if count.is_null() {
        return Err(CKR_ARGUMENTS_BAD);
    }
    let n = items.len() as CK_ULONG;
    if out.is_null() {
        return put(count, n);
    }
    // SAFETY: `count` is non-null and points to the caller's CK_ULONG (prototype).
    let room = unsafe { count.read_unaligned() };
    put(count, n)?;
    if room < n {
        return Err(CKR_BUFFER_TOO_SMALL);
    }
    // SAFETY: the caller said `out` has room for `room` >= n items of T; the regions cannot
    // overlap since `items` is ours.
    unsafe { std::ptr::copy_nonoverlapping(items.as_ptr(), out, items.len()) };
    Ok(())
}

/// The caller's byte buffer `(p, len)` as a slice.
fn bytes<'a>(p: *const u8, len: CK_ULONG) -> Result<&'a [u8], CK_RV> {
    if len == 0 {
        return Ok(&[]);
    }
    if p.is_null() {
        return Err(CKR_ARGUMENTS_BAD);
    }
    let len = usize::try_from(len).map_err(|_| CKR_ARGUMENTS_BAD)?;
    // SAFETY: the caller gives `len` readable bytes at `p` (checked non-null), valid for this call.
    Ok(unsafe { std::slice::from_raw_parts(p, len) })
}

/// The caller's attribute template.
fn template<'a>(p: *const CK_ATTRIBUTE, count: CK_ULONG) -> Result<&'a [CK_ATTRIBUTE], CK_RV> {
    if count == 0 {
        return Ok(&[]);
    }
    if p.is_null() {
        return Err(CKR_ARGUMENTS_BAD);
    }
    let count = usize::try_from(count).map_err(|_| CKR_ARGUMENTS_BAD)?;
    // SAFETY: the caller passes an array of `count` CK_ATTRIBUTEs (checked non-null).
    Ok(unsafe { std::slice::from_raw_parts(p, count) })
}

extern "C" fn c_initialize(args: *mut c_void) -> CK_RV {
    guard(|| {
        if !args.is_null() {
            // SAFETY: a non-null argument points to a CK_C_INITIALIZE_ARGS (§5.4, C_Initialize).
            let a = unsafe { (args as *const CK_C_INITIALIZE_ARGS).read_unaligned() };
            // Fields are copied out before use: on Windows the CK_ structures are packed
            // (`#pragma pack(1)`), and a reference to a packed field may be misaligned.
            let (create, destroy, lock, unlock) = (a.CreateMutex, a.DestroyMutex, a.LockMutex, a.UnlockMutex);
            let (flags, reserved) = (a.flags, a.pReserved);
            if !reserved.is_null() {
                return Err(CKR_ARGUMENTS_BAD);
            }
            let given = [create.is_some(), destroy.is_some(), lock.is_some(), unlock.is_some()];
            if given.iter().any(|&g| g) && !given.iter().all(|&g| g) {
                return Err(CKR_ARGUMENTS_BAD);
            }
            // Our locks are the OS's: only callers that allow them can be served.
            if given[0] && flags & CKF_OS_LOCKING_OK == 0 {
                return Err(CKR_CANT_LOCK);
            }
        }
        let mut m = MODULE.write().map_err(|_| CKR_GENERAL_ERROR)?;
        if m.is_some() {
            return Err(CKR_CRYPTOKI_ALREADY_INITIALIZED);
        }
        *m = Some(Arc::new(Module::start()?));
        Ok(())
    })
}

extern "C" fn c_finalize(reserved: *mut c_void) -> CK_RV {
    guard(|| {
        if !reserved.is_null() {
            return Err(CKR_ARGUMENTS_BAD);
        }
        let taken = MODULE.write().map_err(|_| CKR_GENERAL_ERROR)?.take();
        taken.ok_or(CKR_CRYPTOKI_NOT_INITIALIZED)?.finalize();
        Ok(())
    })
}

extern "C" fn c_get_info(info: *mut CK_INFO) -> CK_RV {
    guard(|| {
        module()?;
        put(
            info,
            CK_INFO {
                cryptokiVersion: CRYPTOKI_VERSION,
                manufacturerID: padded("eidlink"),
                flags: 0,
                libraryDescription: padded("eidlink eID cards"),
                libraryVersion: version(),
            },
        )
    })
}

extern "C" fn c_get_slot_list(token_present: CK_BBOOL, list: *mut CK_SLOT_ID, count: *mut CK_ULONG) -> CK_RV {
    guard(|| put_list(&module()?.slot_list(token_present != CK_FALSE), list, count))
}

extern "C" fn c_get_slot_info(slot: CK_SLOT_ID, info: *mut CK_SLOT_INFO) -> CK_RV {
    guard(|| {
        let facts = module()?.slot_info(slot)?;
        let present = if facts.token_present { CKF_TOKEN_PRESENT } else { 0 };
        put(
            info,
            CK_SLOT_INFO {
                slotDescription: padded(&facts.description),
                manufacturerID: padded("eidlink (PC/SC)"),
                flags: CKF_REMOVABLE_DEVICE | CKF_HW_SLOT | present,
                hardwareVersion: CK_VERSION { major: 0, minor: 0 },
                firmwareVersion: CK_VERSION { major: 0, minor: 0 },
            },
        )
    })
}

extern "C" fn c_get_token_info(slot: CK_SLOT_ID, info: *mut CK_TOKEN_INFO) -> CK_RV {
    guard(|| {
        let m = module()?;
        let t = m.token(slot)?;
        let (sessions, rw_sessions) = m.session_counts(t.generation);
        let mut flags = CKF_TOKEN_INITIALIZED
            | CKF_USER_PIN_INITIALIZED
            | CKF_WRITE_PROTECTED
            // The PIN is asked by eidlink's own dialog, never through the caller (§4.4: the
            // caller passes no PIN to C_Login).
            | CKF_PROTECTED_AUTHENTICATION_PATH;
        if t.pin.is_blocked() {
            flags |= CKF_USER_PIN_LOCKED;
        } else if t.pin.is_last_try() {
            flags |= CKF_USER_PIN_FINAL_TRY;
        }
        if t.pin.low || matches!((t.pin.tries_left, t.pin.max_tries), (Some(n), Some(max)) if n < max) {
            flags |= CKF_USER_PIN_COUNT_LOW;
        }
        // The serial field is 16 characters: the chip serial's last 16 hex digits.
        let serial = &t.serial[t.serial.len().saturating_sub(16)..];
        put(
            info,
            CK_TOKEN_INFO {
                label: padded(&t.label),
                manufacturerID: padded("eidlink"),
                model: padded(&t.model),
                serialNumber: padded(serial),
                flags,
                ulMaxSessionCount: CK_EFFECTIVELY_INFINITE,
                ulSessionCount: sessions,
                ulMaxRwSessionCount: CK_EFFECTIVELY_INFINITE,
                ulRwSessionCount: rw_sessions,
                ulMaxPinLen: CK_ULONG::from(t.key.pin.max_len),
                ulMinPinLen: CK_ULONG::from(t.key.pin.min_len),
                ulTotalPublicMemory: CK_UNAVAILABLE_INFORMATION,
                ulFreePublicMemory: CK_UNAVAILABLE_INFORMATION,
                ulTotalPrivateMemory: CK_UNAVAILABLE_INFORMATION,
                ulFreePrivateMemory: CK_UNAVAILABLE_INFORMATION,
                hardwareVersion: CK_VERSION { major: 0, minor: 0 },
                firmwareVersion: CK_VERSION { major: 0, minor: 0 },
                utcTime: [b' '; 16],
            },
        )
    })
}

extern "C" fn c_get_mechanism_list(slot: CK_SLOT_ID, list: *mut CK_MECHANISM_TYPE, count: *mut CK_ULONG) -> CK_RV {
    guard(|| put_list(&module()?.mechanisms(slot)?, list, count))
}

extern "C" fn c_get_mechanism_info(slot: CK_SLOT_ID, m: CK_MECHANISM_TYPE, info: *mut CK_MECHANISM_INFO) -> CK_RV {
    guard(|| put(info, module()?.mechanism_info(slot, m)?))
}

extern "C" fn c_open_session(
    slot: CK_SLOT_ID,
    flags: CK_FLAGS,
    _application: *mut c_void,
    _notify: CK_NOTIFY,
    session: *mut CK_SESSION_HANDLE,
) -> CK_RV {
    // Notification callbacks are optional for a module (§5.6) and never called here.
    guard(|| {
        if session.is_null() {
            return Err(CKR_ARGUMENTS_BAD);
        }
        put(session, module()?.open_session(slot, flags)?)
    })
}

extern "C" fn c_close_session(session: CK_SESSION_HANDLE) -> CK_RV {
    guard(|| module()?.close_session(session))
}

extern "C" fn c_close_all_sessions(slot: CK_SLOT_ID) -> CK_RV {
    guard(|| module()?.close_all(slot))
}

extern "C" fn c_get_session_info(session: CK_SESSION_HANDLE, info: *mut CK_SESSION_INFO) -> CK_RV {
    guard(|| put(info, module()?.session_info(session)?))
}

extern "C" fn c_login(session: CK_SESSION_HANDLE, user: CK_USER_TYPE, pin: *mut CK_UTF8CHAR, len: CK_ULONG) -> CK_RV {
    // The PIN's bytes are never read: a PIN typed into the browser is refused.
    guard(|| module()?.login(session, user, !pin.is_null() || len != 0))
}

extern "C" fn c_logout(session: CK_SESSION_HANDLE) -> CK_RV {
    guard(|| module()?.logout(session))
}

extern "C" fn c_get_attribute_value(
    session: CK_SESSION_HANDLE,
    object: CK_OBJECT_HANDLE,
    attributes: *mut CK_ATTRIBUTE,
    count: CK_ULONG,
) -> CK_RV {
    guard(|| {
        let (token, index) = module()?.object(session, object)?;
        let object = &token.objects[index];
        let n = template(attributes, count)?.len();
        // §5.7 C_GetAttributeValue: every attribute is answered; the worst error is returned.
        let mut rv = CKR_OK;
        for i in 0..n {
            // SAFETY: `attributes` has `n` elements (checked by `template`); each is read and
            // written by index, one at a time, while no Rust reference to the array is alive.
            let a = unsafe { &mut *attributes.add(i) };
            // By value: the structure is packed on Windows (see `c_initialize`).
            let (kind, out, room) = (a.type_, a.pValue, a.ulValueLen);
            match attribute(object, kind) {
                AttributeValue::Invalid => {
                    a.ulValueLen = CK_UNAVAILABLE_INFORMATION;
                    rv = CKR_ATTRIBUTE_TYPE_INVALID;
                }
                AttributeValue::Value(v) => {
                    let len = v.len() as CK_ULONG;
                    if out.is_null() {
                        a.ulValueLen = len;
                    } else if room < len {
                        a.ulValueLen = CK_UNAVAILABLE_INFORMATION;
                        if rv == CKR_OK {
                            rv = CKR_BUFFER_TOO_SMALL;
                        }
                    } else {
                        // SAFETY: the caller gave `ulValueLen` >= len bytes at `pValue`.
                        unsafe { std::ptr::copy_nonoverlapping(v.as_ptr(), out.cast::<u8>(), v.len()) };
                        a.ulValueLen = len;
                    }
                }
            }
        }
        if rv == CKR_OK {
            Ok(())
        } else {
            Err(rv)
        }
    })
}

extern "C" fn c_find_objects_init(session: CK_SESSION_HANDLE, attributes: *mut CK_ATTRIBUTE, count: CK_ULONG) -> CK_RV {
    guard(|| {
        let mut wanted = Vec::new();
        for a in template(attributes, count)? {
            // By value: the structure is packed on Windows (see `c_initialize`).
            let (kind, p, len) = (a.type_, a.pValue, a.ulValueLen);
            let value = bytes(p.cast::<u8>(), len)?;
            wanted.push((kind, value.to_vec()));
        }
        module()?.find_init(session, &wanted)
    })
}

extern "C" fn c_find_objects(
    session: CK_SESSION_HANDLE,
    out: *mut CK_OBJECT_HANDLE,
    max: CK_ULONG,
    count: *mut CK_ULONG,
) -> CK_RV {
    guard(|| {
        if out.is_null() || count.is_null() {
            return Err(CKR_ARGUMENTS_BAD);
        }
        let max = usize::try_from(max).map_err(|_| CKR_ARGUMENTS_BAD)?;
        let found = module()?.find(session, max)?;
        // SAFETY: `out` has room for `max` handles (prototype); `found` has at most `max`.
        unsafe { std::ptr::copy_nonoverlapping(found.as_ptr(), out, found.len()) };
        put(count, found.len() as CK_ULONG)
    })
}

extern "C" fn c_find_objects_final(session: CK_SESSION_HANDLE) -> CK_RV {
    guard(|| module()?.find_final(session))
}

extern "C" fn c_sign_init(session: CK_SESSION_HANDLE, mechanism: *mut CK_MECHANISM, key: CK_OBJECT_HANDLE) -> CK_RV {
    guard(|| {
        if mechanism.is_null() {
            return Err(CKR_ARGUMENTS_BAD);
        }
        // SAFETY: a non-null pointer to the caller's CK_MECHANISM (prototype).
        let mech = unsafe { mechanism.read_unaligned() };
        // By value: the structure is packed on Windows (see `c_initialize`).
        let (kind, param, param_len) = (mech.mechanism, mech.pParameter, mech.ulParameterLen);
        let parsed = match kind {
            CKM_ECDSA => Mechanism::Ecdsa,
            CKM_RSA_PKCS => Mechanism::RsaPkcs,
            CKM_RSA_PKCS_PSS => {
                let size = std::mem::size_of::<CK_RSA_PKCS_PSS_PARAMS>() as CK_ULONG;
                if param.is_null() || param_len != size {
                    return Err(CKR_MECHANISM_PARAM_INVALID);
                }
                // SAFETY: the parameter is a CK_RSA_PKCS_PSS_PARAMS of the size checked above
                // (Mechanisms §2.1.10); `read_unaligned` since callers need not align it.
                let p = unsafe { param.cast::<CK_RSA_PKCS_PSS_PARAMS>().read_unaligned() };
                let (hash, mgf, salt_len) = (p.hashAlg, p.mgf, p.sLen);
                Mechanism::RsaPss { hash, mgf, salt_len }
            }
            _ => return Err(CKR_MECHANISM_INVALID),
        };
        module()?.sign_init(session, parsed, key)
    })
}

extern "C" fn c_sign(
    session: CK_SESSION_HANDLE,
    data: *mut CK_BYTE,
    data_len: CK_ULONG,
    signature: *mut CK_BYTE,
    signature_len: *mut CK_ULONG,
) -> CK_RV {
    guard(|| {
        let m = module()?;
        if signature_len.is_null() {
            m.sign_abort(session);
            return Err(CKR_ARGUMENTS_BAD);
        }
        let len = m.sign_len(session)?;
        // §5.2: a length query (or too small a buffer) leaves the operation active, and the card is
        // not asked: the length is the key's.
        if signature.is_null() {
            return put(signature_len, len as CK_ULONG);
        }
        // SAFETY: non-null, the caller's CK_ULONG (prototype).
        let room = unsafe { signature_len.read_unaligned() };
        if room < len as CK_ULONG {
            put(signature_len, len as CK_ULONG)?;
            return Err(CKR_BUFFER_TOO_SMALL);
        }
        let input = match bytes(data, data_len) {
            Ok(b) => b.to_vec(),
            Err(rv) => {
                m.sign_abort(session);
                return Err(rv);
            }
        };
        let sig = m.sign(session, &input)?;
        let n = sig.len().min(len);
        // SAFETY: `signature` has room for `room` >= len >= n bytes (checked above).
        unsafe { std::ptr::copy_nonoverlapping(sig.as_ptr(), signature, n) };
        put(signature_len, n as CK_ULONG)
    })
}

extern "C" fn c_wait_for_slot_event(flags: CK_FLAGS, slot: *mut CK_SLOT_ID, reserved: *mut c_void) -> CK_RV {
    guard(|| {
        if !reserved.is_null() || slot.is_null() {
            return Err(CKR_ARGUMENTS_BAD);
        }
        let id = module()?.wait_for_slot_event(flags & CKF_DONT_BLOCK != 0)?;
        put(slot, id)
    })
}

/// The stubs of every function this module does not offer (§5: `CKR_FUNCTION_NOT_SUPPORTED`).
macro_rules! not_supported {
    ($($name:ident($($t:ty),*);)*) => {
        $(
            extern "C" fn $name($(_: $t),*) -> CK_RV {
                CKR_FUNCTION_NOT_SUPPORTED
            }
        )*
    };
}

type H = CK_SESSION_HANDLE;
type O = CK_OBJECT_HANDLE;
type B = *mut CK_BYTE;
type L = CK_ULONG;
type PL = *mut CK_ULONG;
type M = *mut CK_MECHANISM;
type A = *mut CK_ATTRIBUTE;
type PO = *mut CK_OBJECT_HANDLE;
type U = *mut CK_UTF8CHAR;

not_supported! {
    c_init_token(CK_SLOT_ID, U, L, U);
    c_init_pin(H, U, L);
    c_set_pin(H, U, L, U, L);
    c_get_operation_state(H, B, PL);
    c_set_operation_state(H, B, L, O, O);
    c_create_object(H, A, L, PO);
    c_copy_object(H, O, A, L, PO);
    c_destroy_object(H, O);
    c_get_object_size(H, O, PL);
    c_set_attribute_value(H, O, A, L);
    c_init_op(H, M, O);
    c_one_shot(H, B, L, B, PL);
    c_update(H, B, L);
    c_final(H, B, PL);
    c_digest_init(H, M);
    c_digest_key(H, O);
    c_verify(H, B, L, B, L);
    c_verify_final(H, B, L);
    c_generate_key(H, M, A, L, PO);
    c_generate_key_pair(H, M, A, L, A, L, PO, PO);
    c_wrap_key(H, M, O, O, B, PL);
    c_unwrap_key(H, M, O, B, L, A, L, PO);
    c_derive_key(H, M, O, A, L, PO);
    c_random(H, B, L);
    c_session_only(H);
}

static FUNCTION_LIST: CK_FUNCTION_LIST = CK_FUNCTION_LIST {
    version: CRYPTOKI_VERSION,
    C_Initialize: Some(c_initialize),
    C_Finalize: Some(c_finalize),
    C_GetInfo: Some(c_get_info),
    C_GetFunctionList: Some(C_GetFunctionList),
    C_GetSlotList: Some(c_get_slot_list),
    C_GetSlotInfo: Some(c_get_slot_info),
    C_GetTokenInfo: Some(c_get_token_info),
    C_GetMechanismList: Some(c_get_mechanism_list),
    C_GetMechanismInfo: Some(c_get_mechanism_info),
    C_InitToken: Some(c_init_token),
    C_InitPIN: Some(c_init_pin),
    C_SetPIN: Some(c_set_pin),
    C_OpenSession: Some(c_open_session),
    C_CloseSession: Some(c_close_session),
    C_CloseAllSessions: Some(c_close_all_sessions),
    C_GetSessionInfo: Some(c_get_session_info),
    C_GetOperationState: Some(c_get_operation_state),
    C_SetOperationState: Some(c_set_operation_state),
    C_Login: Some(c_login),
    C_Logout: Some(c_logout),
    C_CreateObject: Some(c_create_object),
    C_CopyObject: Some(c_copy_object),
    C_DestroyObject: Some(c_destroy_object),
    C_GetObjectSize: Some(c_get_object_size),
    C_GetAttributeValue: Some(c_get_attribute_value),
    C_SetAttributeValue: Some(c_set_attribute_value),
    C_FindObjectsInit: Some(c_find_objects_init),
    C_FindObjects: Some(c_find_objects),
    C_FindObjectsFinal: Some(c_find_objects_final),
    C_EncryptInit: Some(c_init_op),
    C_Encrypt: Some(c_one_shot),
    C_EncryptUpdate: Some(c_one_shot),
    C_EncryptFinal: Some(c_final),
    C_DecryptInit: Some(c_init_op),
    C_Decrypt: Some(c_one_shot),
    C_DecryptUpdate: Some(c_one_shot),
    C_DecryptFinal: Some(c_final),
    C_DigestInit: Some(c_digest_init),
    C_Digest: Some(c_one_shot),
    C_DigestUpdate: Some(c_update),
    C_DigestKey: Some(c_digest_key),
    C_DigestFinal: Some(c_final),
    C_SignInit: Some(c_sign_init),
    C_Sign: Some(c_sign),
    // CKM_ECDSA, CKM_RSA_PKCS and CKM_RSA_PKCS_PSS are single-part mechanisms (Mechanisms §2.1).
    C_SignUpdate: Some(c_update),
    C_SignFinal: Some(c_final),
    C_SignRecoverInit: Some(c_init_op),
    C_SignRecover: Some(c_one_shot),
    C_VerifyInit: Some(c_init_op),
    C_Verify: Some(c_verify),
    C_VerifyUpdate: Some(c_update),
    C_VerifyFinal: Some(c_verify_final),
    C_VerifyRecoverInit: Some(c_init_op),
    C_VerifyRecover: Some(c_one_shot),
    C_DigestEncryptUpdate: Some(c_one_shot),
    C_DecryptDigestUpdate: Some(c_one_shot),
    C_SignEncryptUpdate: Some(c_one_shot),
    C_DecryptVerifyUpdate: Some(c_one_shot),
    C_GenerateKey: Some(c_generate_key),
    C_GenerateKeyPair: Some(c_generate_key_pair),
    C_WrapKey: Some(c_wrap_key),
    C_UnwrapKey: Some(c_unwrap_key),
    C_DeriveKey: Some(c_derive_key),
    C_SeedRandom: Some(c_random),
    C_GenerateRandom: Some(c_random),
    C_GetFunctionStatus: Some(c_session_only),
    C_CancelFunction: Some(c_session_only),
    C_WaitForSlotEvent: Some(c_wait_for_slot_event),
};

/// The one exported symbol (§5.4): the module's function list.
///
/// # Safety
/// `list` must be null or point to writable storage for one pointer.
#[no_mangle]
pub unsafe extern "C" fn C_GetFunctionList(list: *mut *mut CK_FUNCTION_LIST) -> CK_RV {
    guard(|| {
        // The list is never written through: PKCS#11's prototype has a non-const pointer only.
        put(list, std::ptr::addr_of!(FUNCTION_LIST).cast_mut())
    })
}

/// The directory of this module's file (the PIN dialog is installed beside it on Windows, and in
/// a development build): found by the address of [`C_GetFunctionList`].
#[cfg(target_os = "linux")]
pub(crate) fn module_dir() -> Option<std::path::PathBuf> {
    let address = C_GetFunctionList as *const () as usize;
    let maps = std::fs::read_to_string("/proc/self/maps").ok()?;
    maps.lines().find_map(|line| {
        // `start-end perms offset dev inode path` (proc(5)).
        let mut fields = line.split_whitespace();
        let (start, end) = fields.next()?.split_once('-')?;
        let (start, end) = (
            usize::from_str_radix(start, 16).ok()?,
            usize::from_str_radix(end, 16).ok()?,
        );
        let path = fields.nth(4)?;
        (start <= address && address < end && path.starts_with('/'))
            .then(|| std::path::Path::new(path).parent().map(std::path::Path::to_path_buf))
            .flatten()
    })
}

/// The directory of this module's file: found by the address of [`C_GetFunctionList`].
#[cfg(windows)]
pub(crate) fn module_dir() -> Option<std::path::PathBuf> {
    use std::os::windows::ffi::OsStringExt;
    use windows_sys::Win32::System::LibraryLoader::{
        GetModuleFileNameW, GetModuleHandleExW, GET_MODULE_HANDLE_EX_FLAG_FROM_ADDRESS,
        GET_MODULE_HANDLE_EX_FLAG_UNCHANGED_REFCOUNT,
    };
    let mut module = std::ptr::null_mut();
    // SAFETY: FROM_ADDRESS takes an address inside a loaded image (our exported function) in place
    // of a name; UNCHANGED_REFCOUNT means no reference is taken, so nothing must be freed; the
    // handle is written to a live local.
    let ok = unsafe {
        GetModuleHandleExW(
            GET_MODULE_HANDLE_EX_FLAG_FROM_ADDRESS | GET_MODULE_HANDLE_EX_FLAG_UNCHANGED_REFCOUNT,
            C_GetFunctionList as *const () as *const u16,
            &mut module,
        )
    };
    if ok == 0 {
        return None;
    }
    let mut buf = vec![0u16; 32 * 1024];
    // SAFETY: `buf` has room for `buf.len()` UTF-16 units, which the call never exceeds.
    let len = unsafe { GetModuleFileNameW(module, buf.as_mut_ptr(), buf.len() as u32) } as usize;
    if len == 0 || len >= buf.len() {
        return None;
    }
    let path = std::path::PathBuf::from(std::ffi::OsString::from_wide(&buf[..len]));
    path.parent().map(std::path::Path::to_path_buf)
}

#[cfg(not(any(target_os = "linux", windows)))]
pub(crate) fn module_dir() -> Option<std::path::PathBuf> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(target_os = "linux")]
    #[test]
    fn the_module_finds_its_own_directory() {
        // In a unit test the function lives in the test binary: its directory is target/debug/deps.
        let dir = module_dir().expect("found in /proc/self/maps");
        let exe = std::env::current_exe().unwrap();
        assert_eq!(Some(dir.as_path()), exe.parent());
    }

    #[test]
    fn fixed_fields_are_blank_padded_and_cut_whole() {
        assert_eq!(&padded::<8>("ab"), b"ab      ");
        // "é" is two bytes: a cut never splits it.
        assert_eq!(&padded::<4>("abcé"), b"abc ");
        assert_eq!(&padded::<4>("abcdef"), b"abcd");
    }

    #[test]
    fn a_panic_becomes_a_general_error() {
        assert_eq!(guard(|| panic!("boom")), CKR_GENERAL_ERROR);
        assert_eq!(guard(|| Err(CKR_SLOT_ID_INVALID)), CKR_SLOT_ID_INVALID);
    }
}
