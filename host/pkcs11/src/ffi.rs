//! The one call cryptoki 0.12 does not offer: `C_Sign` on an operation already started with
//! `C_SignInit`, which a key with `CKA_ALWAYS_AUTHENTICATE` needs, since its context-specific
//! `C_Login` must come between the two (PKCS#11 v2.40 §5.2, §5.12: `Session::sign` runs both
//! `C_SignInit` and `C_Sign`). All of this crate's `unsafe` is here.

use std::path::Path;

use cryptoki_sys::{CKR_OK, CK_FUNCTION_LIST, CK_RV, CK_SESSION_HANDLE, CK_ULONG};

/// The module's function list, from a second handle on the library cryptoki loaded (the loader
/// counts references, so this is the same code, and it stays mapped while this lives).
pub(crate) struct FunctionList {
    _library: cryptoki_sys::Pkcs11,
    list: *const CK_FUNCTION_LIST,
}

// SAFETY: the function list is a table of function pointers that the module never changes after
// `C_GetFunctionList` returned it, and the library it points into stays loaded as long as
// `_library` lives; the module was initialized with CKF_OS_LOCKING_OK, so its functions may be
// called from any thread.
unsafe impl Send for FunctionList {}
// SAFETY: as above; nothing here is mutated after construction.
unsafe impl Sync for FunctionList {}

impl FunctionList {
    /// Opens `path` again and asks it for its function list.
    pub(crate) fn open(path: &Path) -> Result<Self, String> {
        // SAFETY: loading a library runs its initialisers; cryptoki has already loaded this very
        // file in this process, so this only adds a reference to the loaded image.
        let library = unsafe { cryptoki_sys::Pkcs11::new(path) }.map_err(|e| e.to_string())?;
        let mut list: *mut CK_FUNCTION_LIST = std::ptr::null_mut();
        // SAFETY: `C_GetFunctionList` writes one pointer through its argument, which points to a
        // live local; a missing symbol is reported by the binding as an error, not called.
        let rv = unsafe { library.C_GetFunctionList(&mut list) };
        if rv != CKR_OK || list.is_null() {
            return Err(format!("C_GetFunctionList returned {rv:#x}"));
        }
        Ok(Self {
            _library: library,
            list,
        })
    }

    /// `C_Sign` twice (length, then the signature) on the operation `session` has started.
    pub(crate) fn sign(&self, session: CK_SESSION_HANDLE, data: &[u8]) -> Result<Vec<u8>, CK_RV> {
        // SAFETY: `list` is non-null and valid while `self` lives (see `open`).
        let Some(c_sign) = (unsafe { (*self.list).C_Sign }) else {
            return Err(cryptoki_sys::CKR_FUNCTION_NOT_SUPPORTED);
        };
        let data_len = CK_ULONG::try_from(data.len()).map_err(|_| cryptoki_sys::CKR_DATA_LEN_RANGE)?;
        let mut len: CK_ULONG = 0;
        // SAFETY: the module reads `data_len` bytes from `data` (it does not write through the
        // pointer, the `*mut` is the C prototype's), and with a null output only writes `len`.
        let rv = unsafe {
            c_sign(
                session,
                data.as_ptr().cast_mut(),
                data_len,
                std::ptr::null_mut(),
                &mut len,
            )
        };
        if rv != CKR_OK {
            return Err(rv);
        }
        // A signature is at most a few hundred bytes; a module claiming more is not believed.
        if len > 16 * 1024 {
            return Err(cryptoki_sys::CKR_GENERAL_ERROR);
        }
        let mut out = vec![0u8; len as usize];
        // SAFETY: `out` has room for `len` bytes, the length the module just asked for, and the
        // module writes at most `len` bytes and updates `len`.
        let rv = unsafe { c_sign(session, data.as_ptr().cast_mut(), data_len, out.as_mut_ptr(), &mut len) };
        if rv != CKR_OK {
            return Err(rv);
        }
        out.truncate(len as usize);
        Ok(out)
    }
}
