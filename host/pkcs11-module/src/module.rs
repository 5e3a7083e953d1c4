//! The module's state behind the C interface, in safe Rust: the slots (from the card thread's
//! [`Snapshot`], refreshed at most every 2 s, as Firefox's own osclientcerts module rescans), the
//! sessions with their find and sign operations, login state and slot events. `ffi.rs` turns C
//! pointers into these calls and back.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::Duration;

use cryptoki_sys::*;

use crate::cards::{Snapshot, TokenView};
use crate::mechanism::{self, Mechanism};
use crate::objects::Object;
use crate::worker::Worker;

/// The longest a snapshot is trusted before the PC/SC service is asked again.
pub(crate) const RESCAN: Duration = Duration::from_secs(2);

/// Object handles carry their card's generation, so a handle of a removed card never reaches
/// another card's object: `generation * OBJECTS_PER_CARD + index + 1`.
const OBJECTS_PER_CARD: CK_OBJECT_HANDLE = 16;

struct Session {
    slot: CK_SLOT_ID,
    generation: u64,
    rw: bool,
    found: Option<VecDeque<CK_OBJECT_HANDLE>>,
    sign: Option<(u64, usize, Mechanism)>,
}

#[derive(Default)]
struct Sessions {
    next: CK_SESSION_HANDLE,
    open: HashMap<CK_SESSION_HANDLE, Session>,
    /// Cards (generations) on which the user "logged in" (protected path: nothing is verified;
    /// the PIN is asked by the dialog at each signature).
    logged_in: HashSet<u64>,
}

#[derive(Default)]
struct Events {
    pending: VecDeque<CK_SLOT_ID>,
    finalized: bool,
}

/// The initialized module.
pub(crate) struct Module {
    worker: Mutex<Option<Worker>>,
    snapshot: Mutex<Arc<Snapshot>>,
    /// A signature (with its PIN dialog) holds the card thread: refreshes then wait.
    busy: AtomicBool,
    sessions: Mutex<Sessions>,
    events: Mutex<Events>,
    wake: Condvar,
    program: String,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A poisoned lock only means a panic was caught elsewhere; the data is still consistent
    // (every update here is a single assignment).
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// What `C_GetSlotInfo` tells.
pub(crate) struct SlotFacts {
    pub(crate) description: String,
    pub(crate) token_present: bool,
}

/// An attribute's answer.
pub(crate) enum AttributeValue<'a> {
    /// Its bytes.
    Value(&'a [u8]),
    /// The object has no such attribute.
    Invalid,
}

impl Module {
    /// Starts the card thread.
    pub(crate) fn start() -> Result<Self, CK_RV> {
        // Opt-in, to pkcs11.log in the user's data dir (this copy of `tracing` is the module's own:
        // the browser's logging is not touched). A second C_Initialize finds it started.
        let dirs = eidlink_settings::Dirs::new();
        if let Ok(config) = eidlink_settings::Config::load(dirs.as_ref()) {
            eidlink_settings::logging::init(&config, dirs.as_ref(), "pkcs11.log");
        }
        let worker = Worker::start().map_err(|_| CKR_GENERAL_ERROR)?;
        Ok(Self {
            worker: Mutex::new(Some(worker)),
            snapshot: Mutex::new(Arc::new(Snapshot {
                slots: Vec::new(),
                taken: None,
            })),
            busy: AtomicBool::new(false),
            sessions: Mutex::new(Sessions {
                next: 1,
                ..Sessions::default()
            }),
            events: Mutex::new(Events::default()),
            wake: Condvar::new(),
            program: crate::program::asking_program(),
        })
    }

    /// Ends the card thread and wakes a `C_WaitForSlotEvent`.
    pub(crate) fn finalize(&self) {
        lock(&self.events).finalized = true;
        self.wake.notify_all();
        if let Some(w) = lock(&self.worker).take() {
            // A signature still waiting for the user ends by itself (its dialog is killed with it).
            w.stop(!self.busy.load(Ordering::SeqCst));
        }
    }

    fn run<R: Send + 'static>(
        &self,
        f: impl FnOnce(&mut crate::cards::Cards) -> R + Send + 'static,
    ) -> Result<R, CK_RV> {
        let rx = {
            let guard = lock(&self.worker);
            guard.as_ref().ok_or(CKR_CRYPTOKI_NOT_INITIALIZED)?.submit(f)?
        };
        rx.recv().map_err(|_| CKR_GENERAL_ERROR)
    }

    /// The slots as of at most [`RESCAN`] ago (older only while a signature holds the card thread).
    fn view(&self) -> Arc<Snapshot> {
        let current = Arc::clone(&lock(&self.snapshot));
        let fresh = current.taken.is_some_and(|t| t.elapsed() < RESCAN);
        if fresh || (current.taken.is_some() && self.busy.load(Ordering::SeqCst)) {
            return current;
        }
        self.rescan().unwrap_or(current)
    }

    fn rescan(&self) -> Option<Arc<Snapshot>> {
        let new = Arc::new(self.run(|cards| cards.refresh()).ok()?);
        self.publish(Arc::clone(&new));
        Some(new)
    }

    /// Makes `new` the current state, with a slot event for each slot whose token changed.
    fn publish(&self, new: Arc<Snapshot>) {
        let old = std::mem::replace(&mut *lock(&self.snapshot), Arc::clone(&new));
        if old.taken.is_none() {
            return;
        }
        let generation = |s: &Snapshot, id| s.slot(id).map(|v| v.token.as_ref().map(|t| t.generation));
        let mut changed: Vec<CK_SLOT_ID> = Vec::new();
        for id in old.slots.iter().chain(new.slots.iter()).map(|s| s.id) {
            if generation(&old, id) != generation(&new, id) && !changed.contains(&id) {
                changed.push(id);
            }
        }
        if !changed.is_empty() {
            let mut events = lock(&self.events);
            for id in changed {
                if !events.pending.contains(&id) {
                    events.pending.push_back(id);
                }
            }
            drop(events);
            self.wake.notify_all();
        }
        // Sessions of cards that left are closed (PKCS#11 v2.40 §5.6: removing a token closes them).
        let mut sessions = lock(&self.sessions);
        sessions.open.retain(|_, s| new.token(s.generation).is_some());
        sessions.logged_in.retain(|g| new.token(*g).is_some());
    }

    /// `C_GetSlotList`.
    pub(crate) fn slot_list(&self, token_present: bool) -> Vec<CK_SLOT_ID> {
        self.view()
            .slots
            .iter()
            .filter(|s| !token_present || s.token.is_some())
            .map(|s| s.id)
            .collect()
    }

    /// `C_GetSlotInfo`.
    pub(crate) fn slot_info(&self, id: CK_SLOT_ID) -> Result<SlotFacts, CK_RV> {
        let view = self.view();
        let slot = view.slot(id).ok_or(CKR_SLOT_ID_INVALID)?;
        Ok(SlotFacts {
            description: slot.reader.clone(),
            token_present: slot.token.is_some(),
        })
    }

    /// The token in slot `id`.
    pub(crate) fn token(&self, id: CK_SLOT_ID) -> Result<Arc<TokenView>, CK_RV> {
        let view = self.view();
        let slot = view.slot(id).ok_or(CKR_SLOT_ID_INVALID)?;
        slot.token.clone().ok_or(CKR_TOKEN_NOT_PRESENT)
    }

    /// Sessions open on the token of slot `id` (all, read-write).
    pub(crate) fn session_counts(&self, generation: u64) -> (CK_ULONG, CK_ULONG) {
        let sessions = lock(&self.sessions);
        let on = sessions.open.values().filter(|s| s.generation == generation);
        let all = on.clone().count() as CK_ULONG;
        let rw = on.filter(|s| s.rw).count() as CK_ULONG;
        (all, rw)
    }

    /// `C_GetMechanismList`.
    pub(crate) fn mechanisms(&self, id: CK_SLOT_ID) -> Result<Vec<CK_MECHANISM_TYPE>, CK_RV> {
        Ok(mechanism::mechanisms(&self.token(id)?.key))
    }

    /// `C_GetMechanismInfo`.
    pub(crate) fn mechanism_info(&self, id: CK_SLOT_ID, m: CK_MECHANISM_TYPE) -> Result<CK_MECHANISM_INFO, CK_RV> {
        mechanism::info(&self.token(id)?.key, m).ok_or(CKR_MECHANISM_INVALID)
    }

    /// `C_OpenSession`.
    pub(crate) fn open_session(&self, slot: CK_SLOT_ID, flags: CK_FLAGS) -> Result<CK_SESSION_HANDLE, CK_RV> {
        if flags & CKF_SERIAL_SESSION == 0 {
            return Err(CKR_SESSION_PARALLEL_NOT_SUPPORTED);
        }
        let token = self.token(slot)?;
        let mut sessions = lock(&self.sessions);
        let handle = sessions.next;
        sessions.next += 1;
        sessions.open.insert(
            handle,
            Session {
                slot,
                generation: token.generation,
                rw: flags & CKF_RW_SESSION != 0,
                found: None,
                sign: None,
            },
        );
        Ok(handle)
    }

    /// `C_CloseSession`.
    pub(crate) fn close_session(&self, h: CK_SESSION_HANDLE) -> Result<(), CK_RV> {
        let mut sessions = lock(&self.sessions);
        let s = sessions.open.remove(&h).ok_or(CKR_SESSION_HANDLE_INVALID)?;
        if !sessions.open.values().any(|o| o.generation == s.generation) {
            // The last session closed logs the user out (PKCS#11 v2.40 §5.6).
            sessions.logged_in.remove(&s.generation);
        }
        Ok(())
    }

    /// `C_CloseAllSessions`.
    pub(crate) fn close_all(&self, slot: CK_SLOT_ID) -> Result<(), CK_RV> {
        let view = self.view();
        view.slot(slot).ok_or(CKR_SLOT_ID_INVALID)?;
        let mut sessions = lock(&self.sessions);
        let gone: Vec<u64> = sessions
            .open
            .values()
            .filter(|s| s.slot == slot)
            .map(|s| s.generation)
            .collect();
        sessions.open.retain(|_, s| s.slot != slot);
        for g in gone {
            sessions.logged_in.remove(&g);
        }
        Ok(())
    }

    /// The session's token, or why it has none any more (the card was removed: the session is
    /// closed with it).
    fn session_token(&self, h: CK_SESSION_HANDLE) -> Result<(u64, Arc<TokenView>), CK_RV> {
        let generation = lock(&self.sessions)
            .open
            .get(&h)
            .map(|s| s.generation)
            .ok_or(CKR_SESSION_HANDLE_INVALID)?;
        match self.view().token(generation) {
            Some((_, t)) => Ok((generation, Arc::clone(t))),
            None => {
                lock(&self.sessions).open.remove(&h);
                Err(CKR_DEVICE_REMOVED)
            }
        }
    }

    /// `C_GetSessionInfo`: slot, state, flags.
    pub(crate) fn session_info(&self, h: CK_SESSION_HANDLE) -> Result<CK_SESSION_INFO, CK_RV> {
        let (generation, _) = self.session_token(h)?;
        let sessions = lock(&self.sessions);
        let s = sessions.open.get(&h).ok_or(CKR_SESSION_HANDLE_INVALID)?;
        let user = sessions.logged_in.contains(&generation);
        let state = match (s.rw, user) {
            (false, false) => CKS_RO_PUBLIC_SESSION,
            (false, true) => CKS_RO_USER_FUNCTIONS,
            (true, false) => CKS_RW_PUBLIC_SESSION,
            (true, true) => CKS_RW_USER_FUNCTIONS,
        };
        let flags = CKF_SERIAL_SESSION | if s.rw { CKF_RW_SESSION } else { 0 };
        Ok(CK_SESSION_INFO {
            slotID: s.slot,
            state,
            flags,
            ulDeviceError: 0,
        })
    }

    /// `C_Login`. The token has a protected authentication path: a login without a PIN is taken
    /// (nothing is verified: eidlink's dialog asks for the PIN at each signature); a PIN given by
    /// the caller is refused unread, since the PIN is never typed into the browser.
    pub(crate) fn login(&self, h: CK_SESSION_HANDLE, user: CK_USER_TYPE, pin_given: bool) -> Result<(), CK_RV> {
        let (generation, _) = self.session_token(h)?;
        match user {
            CKU_USER => {}
            CKU_SO => return Err(CKR_USER_TYPE_INVALID),
            CKU_CONTEXT_SPECIFIC => return Err(CKR_OPERATION_NOT_INITIALIZED),
            _ => return Err(CKR_USER_TYPE_INVALID),
        }
        if pin_given {
            return Err(CKR_ARGUMENTS_BAD);
        }
        if !lock(&self.sessions).logged_in.insert(generation) {
            return Err(CKR_USER_ALREADY_LOGGED_IN);
        }
        Ok(())
    }

    /// `C_Logout`.
    pub(crate) fn logout(&self, h: CK_SESSION_HANDLE) -> Result<(), CK_RV> {
        let (generation, _) = self.session_token(h)?;
        if lock(&self.sessions).logged_in.remove(&generation) {
            Ok(())
        } else {
            Err(CKR_USER_NOT_LOGGED_IN)
        }
    }

    /// `C_FindObjectsInit`.
    pub(crate) fn find_init(
        &self,
        h: CK_SESSION_HANDLE,
        template: &[(CK_ATTRIBUTE_TYPE, Vec<u8>)],
    ) -> Result<(), CK_RV> {
        let (generation, token) = self.session_token(h)?;
        let found: VecDeque<CK_OBJECT_HANDLE> = token
            .objects
            .iter()
            .enumerate()
            .filter(|(_, o)| o.matches(template))
            .map(|(i, _)| handle(generation, i))
            .collect();
        let mut sessions = lock(&self.sessions);
        let s = sessions.open.get_mut(&h).ok_or(CKR_SESSION_HANDLE_INVALID)?;
        if s.found.is_some() {
            return Err(CKR_OPERATION_ACTIVE);
        }
        s.found = Some(found);
        Ok(())
    }

    /// `C_FindObjects`: up to `max` more handles.
    pub(crate) fn find(&self, h: CK_SESSION_HANDLE, max: usize) -> Result<Vec<CK_OBJECT_HANDLE>, CK_RV> {
        let mut sessions = lock(&self.sessions);
        let s = sessions.open.get_mut(&h).ok_or(CKR_SESSION_HANDLE_INVALID)?;
        let found = s.found.as_mut().ok_or(CKR_OPERATION_NOT_INITIALIZED)?;
        let n = max.min(found.len());
        Ok(found.drain(..n).collect())
    }

    /// `C_FindObjectsFinal`.
    pub(crate) fn find_final(&self, h: CK_SESSION_HANDLE) -> Result<(), CK_RV> {
        let mut sessions = lock(&self.sessions);
        let s = sessions.open.get_mut(&h).ok_or(CKR_SESSION_HANDLE_INVALID)?;
        s.found.take().map(|_| ()).ok_or(CKR_OPERATION_NOT_INITIALIZED)
    }

    /// The object `o` as seen from session `h`.
    pub(crate) fn object(&self, h: CK_SESSION_HANDLE, o: CK_OBJECT_HANDLE) -> Result<(Arc<TokenView>, usize), CK_RV> {
        let (generation, token) = self.session_token(h)?;
        let index = object_index(o, generation).filter(|&i| i < token.objects.len());
        let index = index.ok_or(CKR_OBJECT_HANDLE_INVALID)?;
        Ok((token, index))
    }

    /// `C_SignInit`.
    pub(crate) fn sign_init(&self, h: CK_SESSION_HANDLE, m: Mechanism, key: CK_OBJECT_HANDLE) -> Result<(), CK_RV> {
        let (token, index) = self.object(h, key).map_err(|rv| {
            if rv == CKR_OBJECT_HANDLE_INVALID {
                CKR_KEY_HANDLE_INVALID
            } else {
                rv
            }
        })?;
        let object: &Object = &token.objects[index];
        if object.class != crate::objects::Class::PrivateKey {
            return Err(CKR_KEY_TYPE_INCONSISTENT);
        }
        mechanism::check(&token.key, m)?;
        let mut sessions = lock(&self.sessions);
        let s = sessions.open.get_mut(&h).ok_or(CKR_SESSION_HANDLE_INVALID)?;
        if s.sign.is_some() {
            return Err(CKR_OPERATION_ACTIVE);
        }
        s.sign = Some((token.generation, index, m));
        Ok(())
    }

    /// The length `C_Sign` will write (known before the card signs: the key's size).
    pub(crate) fn sign_len(&self, h: CK_SESSION_HANDLE) -> Result<usize, CK_RV> {
        let (_, token) = self.session_token(h)?;
        let sessions = lock(&self.sessions);
        let s = sessions.open.get(&h).ok_or(CKR_SESSION_HANDLE_INVALID)?;
        s.sign.ok_or(CKR_OPERATION_NOT_INITIALIZED)?;
        Ok(token.key.algorithm.signature_len())
    }

    /// Ends the session's sign operation (after `C_Sign`, or when its input is refused).
    pub(crate) fn sign_abort(&self, h: CK_SESSION_HANDLE) {
        if let Some(s) = lock(&self.sessions).open.get_mut(&h) {
            s.sign = None;
        }
    }

    /// `C_Sign` with room for the signature: the PIN dialog, then the card. Ends the operation.
    pub(crate) fn sign(&self, h: CK_SESSION_HANDLE, data: &[u8]) -> Result<Vec<u8>, CK_RV> {
        let op = {
            let mut sessions = lock(&self.sessions);
            let s = sessions.open.get_mut(&h).ok_or(CKR_SESSION_HANDLE_INVALID)?;
            s.sign.take().ok_or(CKR_OPERATION_NOT_INITIALIZED)?
        };
        let (generation, _, m) = op;
        let (_, token) = self.session_token(h)?;
        let digest = mechanism::digest(&token.key, m, data)?;
        let padding = m.padding();
        let program = self.program.clone();
        self.busy.store(true, Ordering::SeqCst);
        let result = self.run(move |cards| {
            let r = crate::login::sign(cards, generation, &digest, padding, &program);
            (r, cards.snapshot())
        });
        self.busy.store(false, Ordering::SeqCst);
        let (signature, snapshot) = result?;
        self.publish(Arc::new(snapshot));
        signature
    }

    /// `C_WaitForSlotEvent`: the next slot whose token came or went; with `dont_block`,
    /// `CKR_NO_EVENT` when there is none.
    pub(crate) fn wait_for_slot_event(&self, dont_block: bool) -> Result<CK_SLOT_ID, CK_RV> {
        loop {
            {
                let mut events = lock(&self.events);
                if events.finalized {
                    return Err(CKR_CRYPTOKI_NOT_INITIALIZED);
                }
                if let Some(id) = events.pending.pop_front() {
                    return Ok(id);
                }
                if !dont_block {
                    let (mut events, _) = self
                        .wake
                        .wait_timeout(events, RESCAN)
                        .unwrap_or_else(std::sync::PoisonError::into_inner);
                    if events.finalized {
                        return Err(CKR_CRYPTOKI_NOT_INITIALIZED);
                    }
                    if let Some(id) = events.pending.pop_front() {
                        return Ok(id);
                    }
                }
            }
            // Nothing yet: look at the readers (at most every RESCAN), which queues what changed.
            let _ = self.view();
            let mut events = lock(&self.events);
            if let Some(id) = events.pending.pop_front() {
                return Ok(id);
            }
            if dont_block {
                return Err(CKR_NO_EVENT);
            }
        }
    }
}

fn handle(generation: u64, index: usize) -> CK_OBJECT_HANDLE {
    (generation as CK_OBJECT_HANDLE) * OBJECTS_PER_CARD + index as CK_OBJECT_HANDLE + 1
}

fn object_index(h: CK_OBJECT_HANDLE, generation: u64) -> Option<usize> {
    let h = h.checked_sub(1)?;
    (h / OBJECTS_PER_CARD == generation as CK_OBJECT_HANDLE).then_some((h % OBJECTS_PER_CARD) as usize)
}

/// An attribute of an object.
pub(crate) fn attribute(object: &Object, t: CK_ATTRIBUTE_TYPE) -> AttributeValue<'_> {
    match object.attribute(t) {
        Some(v) => AttributeValue::Value(v),
        None => AttributeValue::Invalid,
    }
}
