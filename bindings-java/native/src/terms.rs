//! The term methods of `io.elect.NativeElection`: the lease remaining and `Term` handles (a
//! boxed `elect_core::Term` behind a `long`), bound with the others in `natives`.

use std::time::Duration;

use elect_core::{Error, Term};
use jni::objects::JClass;
use jni::sys::{jboolean, jlong};
use jni::EnvUnowned;

use crate::natives::{entry, with_election};

fn millis(d: Option<Duration>) -> jlong {
    d.map_or(-1, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// The term behind a handle from `term_begin`.
fn term<'a>(handle: jlong) -> Result<&'a Term, Error> {
    if handle == 0 {
        return Err(Error::invalid("term handle: the term is released"));
    }
    // SAFETY: `io.elect.Term` passes only a handle `term_begin` gave it, and frees it once,
    // under the same lock as every other call on it, after which it passes 0.
    Ok(unsafe { &*(handle as *const Term) })
}

pub(crate) fn lease_remaining_millis<'local>(
    env: EnvUnowned<'local>,
    _class: JClass<'local>,
    handle: jlong,
) -> jlong {
    with_election(env, handle, |_, e| Ok(millis(e.lease_remaining())))
}

/// A new term handle if leading with at least `min_lease_millis` left, else 0.
pub(crate) fn term_begin<'local>(
    env: EnvUnowned<'local>,
    _class: JClass<'local>,
    handle: jlong,
    min_lease_millis: jlong,
) -> jlong {
    with_election(env, handle, |_, e| {
        let min = u64::try_from(min_lease_millis)
            .map_err(|_| Error::invalid("minLease: must not be negative"))?;
        Ok(e.term_for(Duration::from_millis(min))
            .map_or(0, |t| Box::into_raw(Box::new(t)) as jlong))
    })
}

pub(crate) fn term_token<'local>(
    env: EnvUnowned<'local>,
    _class: JClass<'local>,
    t: jlong,
) -> jlong {
    entry(env, |_| Ok(term(t)?.token() as jlong))
}

pub(crate) fn term_remaining_millis<'local>(
    env: EnvUnowned<'local>,
    _class: JClass<'local>,
    t: jlong,
) -> jlong {
    entry(env, |_| Ok(millis(term(t)?.remaining())))
}

/// Waits up to `timeout_millis` for the term's cancellation; whether it came.
pub(crate) fn term_wait<'local>(
    env: EnvUnowned<'local>,
    _class: JClass<'local>,
    t: jlong,
    timeout_millis: jlong,
) -> jboolean {
    entry(env, |_| {
        let timeout = Duration::from_millis(u64::try_from(timeout_millis).unwrap_or(0));
        Ok(term(t)?.wait_cancelled(Some(timeout)))
    })
}

pub(crate) fn term_free<'local>(env: EnvUnowned<'local>, _class: JClass<'local>, t: jlong) {
    entry(env, |_| {
        if t != 0 {
            // SAFETY: from Box::into_raw in term_begin, freed once (see `term`).
            drop(unsafe { Box::from_raw(t as *mut Term) });
        }
        Ok(())
    })
}
