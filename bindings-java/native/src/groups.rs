//! The group methods of `io.elect.NativeElection` (`groupOpen` ... `groupFree`), behind
//! `io.elect.LeaderGroup`. Each shard's events go to that shard's `EventSink`, through the same
//! delivery as an election's (`events`), from the group's one event thread.

use std::sync::{Arc, RwLock};

use elect_core::{Error, Group};
use jni::objects::{JClass, JIntArray, JObject, JObjectArray, JString};
use jni::sys::{jboolean, jint, jlong};
use jni::EnvUnowned;

use crate::events;
use crate::natives::{config, entry, required};

/// What the `long handle` of a `LeaderGroup` points to: the group until `close`, the slot
/// until `free` (as `handle::Slot` is for an election).
struct GroupSlot {
    group: RwLock<Option<Arc<Group>>>,
}

/// The slot behind a handle from `group_open`.
fn slot<'a>(handle: jlong) -> &'a GroupSlot {
    // SAFETY: `LeaderGroup` passes only the handle `group_open` gave it, and calls
    // `group_free` once, under its write lock, after which it makes no other call.
    unsafe { &*(handle as *const GroupSlot) }
}

fn group(handle: jlong) -> Result<Arc<Group>, Error> {
    slot(handle)
        .group
        .read()
        .unwrap_or_else(|e| e.into_inner())
        .clone()
        .ok_or_else(Error::closed)
}

fn count(what: &str, n: jint) -> Result<usize, Error> {
    usize::try_from(n).map_err(|_| Error::invalid(format!("{what}: {n} is negative")))
}

#[allow(clippy::too_many_arguments)]
pub(crate) fn group_open<'local>(
    env: EnvUnowned<'local>,
    _class: JClass<'local>,
    uri: JString<'local>,
    name: JString<'local>,
    shards: jint,
    cap: jint,
    options: JObjectArray<'local, JString<'local>>,
    sinks: JObjectArray<'local, JObject<'local>>,
) -> jlong {
    entry(env, |env| {
        let name = required(env, &name, "name")?;
        let config = config(env, &uri, &name, &options)?;
        let (shards, cap) = (count("shards", shards)?, count("cap", cap)?);
        let mut handlers = Vec::with_capacity(shards);
        for i in 0..sinks.len(env)? {
            let sink = sinks.get_element(env, i)?;
            handlers.push(events::handler(env.new_global_ref(&sink)?));
        }
        if handlers.len() != shards {
            return Err(
                Error::invalid(format!("sinks: {} for {shards} shards", handlers.len())).into(),
            );
        }
        let handler: elect_core::GroupHandler =
            Box::new(move |shard, event| (handlers[shard])(event));
        let cap = (cap > 0).then_some(cap);
        let group = Group::open_with(config, &name, shards, cap, Some(handler))?;
        let slot = Box::new(GroupSlot {
            group: RwLock::new(Some(Arc::new(group))),
        });
        Ok(Box::into_raw(slot) as jlong)
    })
}

pub(crate) fn group_is_leader<'local>(
    env: EnvUnowned<'local>,
    _class: JClass<'local>,
    handle: jlong,
    shard: jint,
) -> jboolean {
    entry(env, |_| {
        let shard = usize::try_from(shard).unwrap_or(usize::MAX);
        Ok(group(handle).is_ok_and(|g| g.is_leader(shard)))
    })
}

pub(crate) fn group_fencing_token<'local>(
    env: EnvUnowned<'local>,
    _class: JClass<'local>,
    handle: jlong,
    shard: jint,
) -> jlong {
    entry(env, |_| {
        let shard = usize::try_from(shard).unwrap_or(usize::MAX);
        let token = group(handle).ok().and_then(|g| g.fencing_token(shard));
        Ok(token.unwrap_or(0) as jlong)
    })
}

pub(crate) fn group_leading<'local>(
    env: EnvUnowned<'local>,
    _class: JClass<'local>,
    handle: jlong,
) -> JIntArray<'local> {
    entry(env, |env| {
        let leading: Vec<jint> = group(handle)?
            .leading()
            .into_iter()
            .map(|s| s as jint)
            .collect();
        let array = JIntArray::new(env, leading.len())?;
        array.set_region(env, 0, &leading)?;
        Ok(array)
    })
}

pub(crate) fn group_free<'local>(env: EnvUnowned<'local>, _class: JClass<'local>, handle: jlong) {
    entry(env, |_| {
        // SAFETY: from Box::into_raw in group_open; LeaderGroup frees it once, last.
        let slot = unsafe { Box::from_raw(handle as *mut GroupSlot) };
        if let Some(g) = slot.group.write().unwrap_or_else(|e| e.into_inner()).take() {
            g.close();
        }
        Ok(())
    })
}
