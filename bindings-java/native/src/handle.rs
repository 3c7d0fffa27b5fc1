//! What the `long handle` of a Java `LeaderElection` points to.
//!
//! The election itself is dropped (and its store connection released) at `close()`, but the
//! slot that held it lives until the Java object's `Cleaner` frees it: a method racing with
//! `close()` on another thread then finds an empty slot (a `Closed` error) instead of freed
//! memory.

use std::sync::{Arc, RwLock};

use elect_core::{Election, Error};
use jni::sys::jlong;

pub struct Slot {
    election: RwLock<Option<Arc<Election>>>,
}

impl Slot {
    pub fn into_handle(election: Election) -> jlong {
        let slot = Box::new(Slot {
            election: RwLock::new(Some(Arc::new(election))),
        });
        Box::into_raw(slot) as jlong
    }

    /// The slot behind a handle from [`Slot::into_handle`].
    ///
    /// # Safety
    /// `handle` must come from `into_handle` and not have been passed to [`Slot::free`]. The
    /// Java side guarantees both: the handle is private to `LeaderElection`, and `free` runs
    /// only from its `Cleaner`, after the object (and so every call on it) is gone.
    pub unsafe fn get<'a>(handle: jlong) -> &'a Slot {
        // SAFETY: see the contract above.
        unsafe { &*(handle as *const Slot) }
    }

    /// The election, or `Closed` once `close()` ran. A clone, so a long call (waitLeader)
    /// holds no lock that `close()` needs.
    pub fn election(&self) -> Result<Arc<Election>, Error> {
        self.election
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
            .ok_or_else(Error::closed)
    }

    /// `is_leader` without cloning the `Arc`: the hot path of `isLeader()`.
    pub fn is_leader(&self) -> bool {
        self.election
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .as_ref()
            .is_some_and(|e| e.is_leader())
    }

    /// Closes the election (with a graceful resign) and drops it. Idempotent.
    pub fn close(&self) {
        let taken = self
            .election
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        if let Some(election) = taken {
            election.close();
        }
    }

    /// Closes and frees the slot.
    ///
    /// # Safety
    /// As for [`Slot::get`], and no call may use the handle afterwards.
    pub unsafe fn free(handle: jlong) {
        // SAFETY: see the contract above; the box was made by `into_handle`.
        let slot = unsafe { Box::from_raw(handle as *mut Slot) };
        slot.close();
    }
}
